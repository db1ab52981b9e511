"""Imported at start-up (as `sitecustomize`, through PYTHONPATH) by the peer tools that
bench/peers.py runs against LocalStack: Prowler and Cloud Custodian, each from its own venv.

botocore's endpoint rules for S3 Control put the account id in front of the host
(`http://000000000000.127.0.0.1:4566/v20180820/configuration/publicAccessBlock`), even with
`AWS_DISABLE_HOST_PREFIX_INJECTION` or `inject_host_prefix=False`; a plain-IP or `localhost`
endpoint cannot resolve that name, so Prowler's account-level Block Public Access read fails with
`EndpointConnectionError` and Custodian's `s3-public-block` filter with it. secagent strips the
prefix the same way (secagent/aws.py, `_strip_account_host_prefix`); this does it for the tools'
botocore, only for S3 Control requests to the configured endpoint's host. Nothing else changes.
"""

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    endpoint_host = urlsplit(os.environ.get("AWS_ENDPOINT_URL", "")).hostname
    parts = urlsplit(request.url)
    account, _, rest = (parts.hostname or "").partition(".")
    if account.isdigit() and len(account) == 12 and rest and rest == endpoint_host:
        netloc = rest + (f":{parts.port}" if parts.port else "")
        request.url = urlunsplit(parts._replace(netloc=netloc))


def _install() -> None:
    if not os.environ.get("AWS_ENDPOINT_URL"):
        return
    try:
        from botocore import handlers
    except ImportError:
        return
    # Every botocore session registers BUILTIN_HANDLERS when it is created.
    handlers.BUILTIN_HANDLERS.append(("before-sign.s3-control", _strip_account_host_prefix))


_install()
