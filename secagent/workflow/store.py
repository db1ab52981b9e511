"""The report bucket's records that decide what may change a resource, and their seals.

One prefix per record, one writer per prefix (the bucket policy denies every other principal;
docs/security.md):

| prefix          | written by            | holds                                              |
|-----------------|-----------------------|----------------------------------------------------|
| requests/       | API, CreateBucket fn  | ``AuditRequest`` (sealed)                          |
| decisions/      | API                   | ``Decision`` (sealed, written once)                |
| tokens/         | Await Approval        | each execution's token, written once; API reads it |
| approvals/      | Await Approval        | the pending plans as shown to a person (no token)  |
| checkpoints/    | each tool, its step   | full step outputs; Apply's ``ApplyProgress``       |
| executions/     | API                   | the resumes the API started, per audit             |
| exemptions/     | API                   | ``ExemptionRecord`` per bucket (sealed)            |

A seal is a KMS HMAC (HMAC_SHA_256) over the SHA-256 of the record's canonical JSON. Only the
API's role may generate one (key policy); the tools may only verify. A record without a valid
seal is treated as absent or forged, never as a decision.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel, ValidationError

from secagent.aws import ClientFactory
from secagent.models.errors import AccessDenied, ResourceNotFound, StoreUnavailable
from secagent.models.exemption import ExemptionRecord, exemption_key, exemptions_prefix
from secagent.models.plans import ApiCall
from secagent.remediation.apply import execute_api_call

REQUESTS_PREFIX = "requests/"
DECISIONS_PREFIX = "decisions/"
TOKENS_PREFIX = "tokens/"
MAC_ALGORITHM = "HMAC_SHA_256"


def request_key(audit_id: str) -> str:
    return f"{REQUESTS_PREFIX}{audit_id}.json"


def decision_key(audit_id: str) -> str:
    return f"{DECISIONS_PREFIX}{audit_id}.json"


def token_key(audit_id: str, execution_name: str) -> str:
    return f"{TOKENS_PREFIX}{audit_id}/{execution_name}.json"


class SealBroken(Exception):
    """A record whose seal is missing or does not match its content."""


class Sealer(Protocol):
    def seal(self, message: bytes) -> str: ...

    def verify(self, message: bytes, mac: str) -> bool: ...


class KmsSealer:
    """Seals with a KMS HMAC key: GenerateMac for the API's role, VerifyMac for the tools."""

    def __init__(self, key_id: str, clients: ClientFactory) -> None:
        self._key_id = key_id
        self._clients = clients

    def _call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        call = ApiCall(service="kms", operation=operation, parameters={"KeyId": self._key_id, **parameters})
        return execute_api_call(call, clients=self._clients)

    def seal(self, message: bytes) -> str:
        mac = self._call("GenerateMac", Message=_digest(message), MacAlgorithm=MAC_ALGORITHM)["Mac"]
        return base64.b64encode(mac).decode()

    def verify(self, message: bytes, mac: str) -> bool:
        try:
            raw = base64.b64decode(mac, validate=True)
        except ValueError:
            return False
        if not raw:  # KMS would refuse an empty MAC with a ValidationException: it is no seal
            return False
        try:
            answer = self._call("VerifyMac", Message=_digest(message), MacAlgorithm=MAC_ALGORITHM, Mac=raw)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in {"KMSInvalidMacException", "InvalidMacException"}:
                return False
            raise
        return bool(answer.get("MacValid"))


def _digest(message: bytes) -> bytes:
    # KMS takes at most 4 KiB; a decision with its plans is larger. The HMAC of the SHA-256 binds it all.
    return hashlib.sha256(message).digest()


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _store_call(call: ApiCall, clients: ClientFactory) -> dict[str, Any]:
    """A call on the report bucket: its denials and a missing bucket are the deployment's problem
    (StoreUnavailable), never the audited resource's (AccessDenied, ResourceNotFound)."""
    try:
        return execute_api_call(call, clients=clients)
    except (AccessDenied, ResourceNotFound) as err:
        raise StoreUnavailable(f"the report bucket refused {call.operation}: {err}") from err


def read_document(bucket: str, key: str, clients: ClientFactory) -> Any:
    """The object as parsed JSON (any JSON value), or None when there is none or it is not JSON."""
    call = ApiCall(service="s3", operation="GetObject", parameters={"Bucket": bucket, "Key": key})
    try:
        body = _store_call(call, clients)["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            return None
        raise
    try:
        return json.loads(body)
    except ValueError:
        return None


def read_object(bucket: str, key: str, clients: ClientFactory) -> dict[str, Any] | None:
    """The object as a JSON object, or None when there is none."""
    data = read_document(bucket, key, clients)
    return data if isinstance(data, dict) else None


def write_object(
    bucket: str, key: str, body: dict[str, Any] | list[Any], clients: ClientFactory, *, once: bool = False
) -> None:
    """Write JSON; ``once``: refuse to overwrite (S3 conditional write, PreconditionFailed)."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "Body": json.dumps(body, separators=(",", ":")).encode(),
        "ContentType": "application/json",
    }
    if once:
        params["IfNoneMatch"] = "*"
    _store_call(ApiCall(service="s3", operation="PutObject", parameters=params), clients)


def write_sealed(
    bucket: str, key: str, record: BaseModel, sealer: Sealer, clients: ClientFactory, *, once: bool = False
) -> None:
    content = record.model_dump(mode="json", by_alias=True)
    write_object(
        bucket, key, {"record": content, "seal": sealer.seal(canonical(content))}, clients, once=once
    )


def read_sealed[M: BaseModel](
    bucket: str, key: str, model: type[M], sealer: Sealer, clients: ClientFactory
) -> M | None:
    """The record, None when there is none; SealBroken when it is not one the API wrote."""
    stored = read_object(bucket, key, clients)
    if stored is None:
        return None
    content, seal = stored.get("record"), stored.get("seal")
    if (
        not isinstance(content, dict)
        or not isinstance(seal, str)
        or not sealer.verify(canonical(content), seal)
    ):
        raise SealBroken(f"{key} is not sealed by the audit API")
    try:
        return model.model_validate(content)
    except ValidationError as err:
        raise SealBroken(f"{key} does not hold a {model.__name__}") from err


def write_exemption(
    report_bucket: str, record: ExemptionRecord, sealer: Sealer, clients: ClientFactory
) -> None:
    """The API's side: a request is written once; its approval and revocation rewrite it, sealed."""
    key = exemption_key(record.bucket, record.exemption_id)
    new = record.approved_at is None and record.revoked_at is None
    write_sealed(report_bucket, key, record, sealer, clients, once=new)


def read_exemption(
    report_bucket: str, bucket: str, exemption_id: str, sealer: Sealer, clients: ClientFactory
) -> ExemptionRecord | None:
    try:
        record = read_sealed(
            report_bucket, exemption_key(bucket, exemption_id), ExemptionRecord, sealer, clients
        )
    except SealBroken:
        return None
    ok = record is not None and record.bucket == bucket and record.exemption_id == exemption_id
    return record if ok else None


def load_exemptions(
    report_bucket: str, bucket: str, sealer: Sealer, clients: ClientFactory, *, limit: int = 200
) -> list[ExemptionRecord]:
    """Every exemption record of ``bucket`` whose seal the API made, revoked ones included.

    A record without a valid seal, or filed under another bucket's prefix, is skipped: it exempts
    nothing. At most ``limit`` records are read (a bucket needs a handful).
    """
    keys: list[str] = []
    token: str | None = None
    while len(keys) < limit:
        params: dict[str, Any] = {"Bucket": report_bucket, "Prefix": exemptions_prefix(bucket)}
        if token:
            params["ContinuationToken"] = token
        page = _store_call(ApiCall(service="s3", operation="ListObjectsV2", parameters=params), clients)
        keys += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            break
    records = []
    for key in keys[:limit]:
        exemption_id = key.removeprefix(exemptions_prefix(bucket)).removesuffix(".json")
        if "/" in exemption_id:
            continue  # another bucket whose name extends this one's with "/..." cannot exist; skip
        record = read_exemption(report_bucket, bucket, exemption_id, sealer, clients)
        if record is not None:
            records.append(record)
    return records
