"""One running audit per resource, and Idempotency-Key replays, kept in the report bucket.

- `locks/<type>/<id>.json` names the audit that last started on a resource. A new start is refused
  (409) while that audit is still running; a lock whose audit ended is simply taken over. S3
  conditional writes (If-None-Match / If-Match) make two concurrent starts race safely: one wins.
- `idempotency/<sha256(caller, key)>.json` keeps the 202 answer given to a request with that
  `Idempotency-Key`, with a fingerprint of its body; the same key from the same caller with the
  same body gets the same answer and nothing starts; with another body it is a 422.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from secagent.api.aws import error_code, read_json
from secagent.api.errors import Conflict, NotFound, Unprocessable
from secagent.api.executions import audit_executions
from secagent.api.settings import ApiSettings

_ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def lock_key(resource_type: str, resource_id: str) -> str:
    return f"locks/{resource_type.replace('::', '-')}/{resource_id}.json"


def idempotency_key(caller: str, key: str) -> str:
    digest = hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()
    return f"idempotency/{digest}.json"


def fingerprint(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def replayed(
    s3: Any, settings: ApiSettings, caller: str, key: str | None, body: dict[str, Any]
) -> dict[str, Any] | None:
    """The answer first given to this caller's Idempotency-Key, if any; 422 if it was another body."""
    if not key:
        return None
    stored = read_json(s3, settings.report_bucket, idempotency_key(caller, key))
    if stored is None:
        return None
    if stored.get("bodyFingerprint") != fingerprint(body):
        raise Unprocessable(
            "This Idempotency-Key was already used with a different request body; use a new key "
            "for a new request.",
            field="Idempotency-Key",
        )
    answer = stored.get("answer")
    return answer if isinstance(answer, dict) else None


def remember(
    s3: Any, settings: ApiSettings, caller: str, key: str | None, body: dict[str, Any], answer: dict[str, Any]
) -> None:
    if key:
        s3.put_object(
            Bucket=settings.report_bucket,
            Key=idempotency_key(caller, key),
            Body=json.dumps({"bodyFingerprint": fingerprint(body), "answer": answer}).encode(),
            ContentType="application/json",
        )


@dataclass(frozen=True)
class Lock:
    """A resource's lock as read: the audit it names (if any), whether that audit still runs, and
    the version a claim must replace (the conditional write's If-Match; none: If-None-Match)."""

    key: str
    resource_id: str
    holder: str | None = None
    running: bool = False
    etag: str | None = None


def read_lock(s3: Any, sfn: Any, settings: ApiSettings, resource_type: str, resource_id: str) -> Lock:
    """Read-only: what `claim` needs, and whether it will refuse."""
    key = lock_key(resource_type, resource_id)
    try:
        current = s3.get_object(Bucket=settings.report_bucket, Key=key)
    except ClientError as err:
        if error_code(err) not in {"NoSuchKey", "404"}:
            raise
        return Lock(key, resource_id)
    holder = str(json.loads(current["Body"].read()).get("auditId", ""))
    return Lock(key, resource_id, holder, running(sfn, s3, settings, holder), current["ETag"])


def claim(s3: Any, settings: ApiSettings, lock: Lock, audit_id: str) -> None:
    """Claim the resource for `audit_id` over the lock as read, or raise Conflict naming the audit
    running on it (also when another start claimed it since it was read)."""
    if lock.running:
        raise _busy(lock.resource_id, lock.holder or "another audit")
    condition = {"IfMatch": lock.etag} if lock.etag is not None else {"IfNoneMatch": "*"}
    body = json.dumps({"auditId": audit_id}).encode()
    try:
        s3.put_object(
            Bucket=settings.report_bucket,
            Key=lock.key,
            Body=body,
            ContentType="application/json",
            **condition,
        )
    except ClientError as err:
        if error_code(err) in {"PreconditionFailed", "ConditionalRequestConflict"}:
            # Another start claimed it between our read and our write.
            holder = (read_json(s3, settings.report_bucket, lock.key) or {}).get("auditId", "another audit")
            raise _busy(lock.resource_id, holder) from None
        raise


def take_resource(
    s3: Any, sfn: Any, settings: ApiSettings, resource_type: str, resource_id: str, audit_id: str
) -> None:
    """Claim the resource for `audit_id`, or raise Conflict naming the audit running on it."""
    claim(s3, settings, read_lock(s3, sfn, settings, resource_type, resource_id), audit_id)


def running(sfn: Any, s3: Any, settings: ApiSettings, audit_id: str) -> bool:
    """Is that audit's latest execution (it or its latest resume) still running?"""
    try:
        return audit_executions(sfn, s3, settings, audit_id)[-1]["status"] not in _ENDED
    except NotFound:  # the lock names an audit that never started
        return False


def _busy(resource_id: str, audit_id: str) -> Conflict:
    conflict = Conflict(
        f'"{resource_id}" already has a running audit, {audit_id}; wait for it to end, or follow it '
        f"with GET /audits/{audit_id}."
    )
    conflict.extra = {"runningAuditId": audit_id}
    return conflict
