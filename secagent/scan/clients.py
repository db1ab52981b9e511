"""The AWS clients of a scan: one per (service, region), shared by every worker, requests counted.

Creating a botocore client costs several milliseconds of CPU and its own connection pool, so
per-bucket clients would cost more than the reads themselves; botocore clients are thread-safe.
The account-level answers (GetCallerIdentity, the account's Block Public Access) are the same for
every bucket: read once per account and region, not once per bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from secagent.aws import ClientFactory, client_factory

# service -> the reads whose answer is the account's, the same for every bucket
ACCOUNT_LEVEL_READS = {"sts": ("get_caller_identity",), "s3control": ("get_public_access_block",)}


class _Memo:
    """A client whose account-level reads are made once (per arguments) and shared.

    Only successful and definitive answers are kept; any other error is raised to every caller
    that made the call.
    """

    def __init__(self, client: Any, methods: Iterable[str]) -> None:
        self._client = client
        self._methods = frozenset(methods)
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self._methods:
            return attr

        def call(**kwargs: Any) -> Any:
            key = (name, tuple(sorted(kwargs.items())))
            with self._lock:  # one caller reads, the others wait for its answer
                if key not in self._answers:
                    try:
                        self._answers[key] = attr(**kwargs)
                    except ClientError as err:
                        if not _definitive(err):
                            raise
                        self._answers[key] = err  # "not configured", "access denied": same for all
                answer = self._answers[key]
            if isinstance(answer, ClientError):
                raise ClientError(answer.response, answer.operation_name)
            return answer

        return call


def _definitive(err: ClientError) -> bool:
    """An answer that will not change on a retry (4xx other than throttling)."""
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(err.response.get("Error", {}).get("Code", ""))
    return 400 <= status < 500 and status != 429 and "Throttl" not in code and code != "SlowDown"


class SharedClients:
    """A ClientFactory that makes one client per (service, region) and counts the HTTP requests."""

    def __init__(
        self,
        session: boto3.Session,
        endpoint_url: str | None = None,
        max_pool: int = 20,  # connections per client: the scan's concurrency and a few more
        inner: ClientFactory | None = None,
    ) -> None:
        self._inner = inner or client_factory(session, endpoint_url, max_pool=max_pool)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._count_lock = threading.Lock()
        self._sent = 0

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._inner(service, region)
                client.meta.events.register("before-send", self._count)
                methods = ACCOUNT_LEVEL_READS.get(service)
                self._clients[key] = _Memo(client, methods) if methods else client
            return self._clients[key]

    def _count(self, **_: Any) -> None:
        with self._count_lock:
            self._sent += 1

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._sent
