"""Exemptions through the API: one person requests, another approves (four-eyes, as for a fix).

A request names one bucket, registered checks, a reason and an expiry at most MAX_DAYS ahead; it
never covers a check whose findings are CRITICAL (only the deploy-time allow-list may). It is
PENDING, and exempts nothing, until a person with another IAM principal approves it; both are the
callers as STS proved them. Discover reads the records back and verifies their seals
(secagent.workflow.store.load_exemptions), and the check registry applies them the way it
applies tags (secagent.checks.exemptions), re-checking all of the above.
"""

import re
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, date, datetime, timedelta

from botocore.exceptions import ClientError

from secagent.api.aws import error_code
from secagent.api.errors import BadRequest, Conflict, Forbidden, NotFound, UpstreamError
from secagent.api.identity import Caller, check_four_eyes
from secagent.api.models import Exemption, ExemptionList, ExemptionRequest
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.discovery.names import bucket_name_problem
from secagent.models.exemption import MAX_ACTIVE_PER_BUCKET, MAX_DAYS, ExemptionRecord
from secagent.models.findings import CheckMeta, Severity
from secagent.models.snapshot import ResourceRef
from secagent.workflow.store import load_exemptions, read_exemption, write_exemption


def exemption_id(bucket: str, unique: str) -> str:
    """``{bucket}.{32 hex digits}``: the id names the bucket, so an approval or a revocation finds it."""
    return f"{bucket}.{unique}"


def bucket_of(exemption_id: str) -> str | None:
    bucket, _, unique = exemption_id.rpartition(".")
    if not re.fullmatch(r"[0-9a-f]{32}", unique) or bucket_name_problem(bucket):
        return None
    return bucket


def _now() -> datetime:
    return datetime.now(UTC)


def request_exemption(
    request: ExemptionRequest,
    caller: Caller,
    checks: Collection[CheckMeta],
    settings: ApiSettings,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> Exemption:
    """A PENDING exemption: it exempts nothing until another person approves it."""
    if not caller.arn:
        raise Forbidden("An exemption names the person who asks for it: sign the request (SigV4).")
    if settings.protected(ResourceRef(id=request.bucket)):
        raise Forbidden(f'"{request.bucket}" is protected: it belongs to this stack and is never audited.')
    by_id = {c.id: c for c in checks}
    if unknown := sorted(set(request.check_ids) - set(by_id)):
        raise BadRequest(
            f"Unknown check ids: {', '.join(unknown)} (secagent checks lists them).", field="checkIds"
        )
    if critical := sorted(i for i in set(request.check_ids) if by_id[i].severity is Severity.CRITICAL):
        raise BadRequest(
            f"{', '.join(critical)} finds CRITICAL failures: only the deploy-time exemptions setting "
            "(SECAGENT_EXEMPTIONS) may exempt those, never a request.",
            field="checkIds",
        )
    requested_at = now()
    today = requested_at.astimezone(UTC).date()
    until = _until(request.until, today)
    open_ = [
        r
        for r in load_exemptions(records.bucket, request.bucket, records.sealer, records.clients)
        if r.status(today) in ("ACTIVE", "PENDING")
    ]
    if len(open_) >= MAX_ACTIVE_PER_BUCKET:
        raise Conflict(
            f'Bucket "{request.bucket}" has {len(open_)} active or pending exemptions, the most it may '
            "have; revoke one first (secagent exempt list / revoke)."
        )
    record = ExemptionRecord(
        exemption_id=exemption_id(request.bucket, uuid.uuid4().hex),
        bucket=request.bucket,
        check_ids=sorted(set(request.check_ids)),
        reason=request.reason,
        until=until,
        requested_by=caller.arn,
        requested_by_principal=caller.principal,
        requested_at=requested_at,
    )
    _write(record, records)
    return Exemption.of(record, today)


def _until(raw: str, today: date) -> date:
    try:
        until = date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"until {raw!r} is not a YYYY-MM-DD date.", field="until") from None
    latest = today + timedelta(days=MAX_DAYS)
    if until < today:
        raise BadRequest(f"until {raw} is in the past (today is {today.isoformat()}, UTC).", field="until")
    if until > latest:
        raise BadRequest(
            f"until {raw} is more than {MAX_DAYS} days ahead; the latest allowed is {latest.isoformat()}: "
            "an exemption is reviewed at least that often.",
            field="until",
        )
    return until


def approve_exemption(
    exemption_id: str,
    caller: Caller,
    settings: ApiSettings,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> Exemption:
    """A person other than the requester makes a PENDING exemption ACTIVE (four-eyes)."""
    record = _record(exemption_id, records)
    approved_at = now()
    today = approved_at.astimezone(UTC).date()
    if (status := record.status(today)) != "PENDING":
        raise Conflict(f'Exemption "{exemption_id}" is {status}; only a PENDING one can be approved.')
    check_four_eyes(
        caller,
        record.requested_by_principal,
        exemption_id,
        allow_self_approval=settings.allow_self_approval,
        what="Exemption",
    )
    approved = record.model_copy(update={"approved_by": caller.arn, "approved_at": approved_at})
    _write(approved, records)
    return Exemption.of(approved, today)


def list_exemptions(
    bucket: str, records: RecordStore, *, now: Callable[[], datetime] = _now
) -> ExemptionList:
    today = now().astimezone(UTC).date()
    found = load_exemptions(records.bucket, bucket, records.sealer, records.clients)
    found.sort(key=lambda r: r.requested_at, reverse=True)
    return ExemptionList(exemptions=[Exemption.of(r, today) for r in found])


def revoke_exemption(
    exemption_id: str,
    caller: Caller,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> Exemption:
    """Anyone who may call the API ends an exemption now (ending one only narrows what is accepted)."""
    if not caller.arn:
        raise Forbidden("A revocation names the person who makes it: sign the request (SigV4).")
    record = _record(exemption_id, records)
    if record.revoked_at is not None:
        raise Conflict(f'Exemption "{exemption_id}" was already revoked.')
    revoked_at = now()
    revoked = record.model_copy(update={"revoked_by": caller.arn, "revoked_at": revoked_at})
    _write(revoked, records)
    return Exemption.of(revoked, revoked_at.astimezone(UTC).date())


def _record(exemption_id: str, records: RecordStore) -> ExemptionRecord:
    bucket = bucket_of(exemption_id)
    record = (
        read_exemption(records.bucket, bucket, exemption_id, records.sealer, records.clients)
        if bucket
        else None
    )
    if record is None:
        raise NotFound(f'There is no exemption "{exemption_id}".')
    return record


def _write(record: ExemptionRecord, records: RecordStore) -> None:
    try:
        write_exemption(records.bucket, record, records.sealer, records.clients)
    except ClientError as err:
        raise UpstreamError(f"S3 PutObject exemption failed: {error_code(err)}") from None
