"""Start an audit (one execution named by the audit id) and report where it is."""

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from secagent.api import guard
from secagent.api.aws import audit_executions, error_code, execution_history, read_json
from secagent.api.errors import BadRequest, Forbidden
from secagent.api.identity import Caller
from secagent.api.models import (
    AuditList,
    AuditStatus,
    AuditSummary,
    ExecutionSummary,
    Links,
    ListAuditsQuery,
    StartAuditRequest,
    StartAuditResponse,
)
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.records import AuditRequest
from secagent.models.snapshot import ResourceRef
from secagent.workflow.timeline import audit_progress, current_step

_FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}


def _now() -> datetime:
    return datetime.now(UTC)


def start_audit(
    request: StartAuditRequest,
    requested_by: Caller,
    sfn: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    s3: Any = None,
    idempotency_key: str | None = None,
    audit_id: str | None = None,
    now: Callable[[], datetime] = _now,
) -> StartAuditResponse:
    """Start one execution named by the audit id; one running audit per resource (with `s3`).

    `idempotency_key` (the Idempotency-Key header) replays the first answer to the same caller for
    the same body (another body with that key is a 422); `audit_id` is set by triggers that derive
    it from their event, so a redelivery starts nothing.
    """
    check_target(request.resource.id, request.mode, settings)
    body = request.model_dump(by_alias=True)
    if s3 is not None and (first := guard.replayed(s3, settings, requested_by.arn, idempotency_key, body)):
        return StartAuditResponse.model_validate(first)
    started = start_execution_for(
        AuditRequest(
            audit_id=audit_id or str(uuid.uuid4()),
            resource=ResourceRef(id=request.resource.id),
            mode=request.mode,
            approval_timeout_seconds=request.approval_timeout_seconds,
            requested_by=requested_by.principal or UNKNOWN_CALLER,
            requested_by_arn=requested_by.arn or None,
            requested_at=now(),
        ),
        sfn=sfn,
        s3=s3,
        settings=settings,
        records=records,
    )
    if s3 is not None:
        guard.remember(s3, settings, requested_by.arn, idempotency_key, body, started.to_json_dict())
    return started


def check_target(bucket: str, mode: str, settings: ApiSettings) -> None:
    """The stack's own buckets (and CDK's) are never audited; remediation only within the scope."""
    if settings.protected(bucket):
        raise Forbidden(
            f'"{bucket}" is protected: it belongs to this stack or to the CDK bootstrap, and is never '
            "audited or changed by it.",
            field="resource.id",
        )
    if mode != "plan" and not settings.in_remediation_scope(bucket):
        raise Forbidden(
            f'"{bucket}" is outside this deployment\'s remediation scope (bucket names starting with '
            f"{', '.join(settings.scope.remediation_prefixes)}); audit it in plan mode.",
            field="resource.id",
        )


def start_execution_for(
    request: AuditRequest, *, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> StartAuditResponse:
    """Claim the resource (one running audit each, with `s3`), seal the request, start the execution.

    The execution input only routes; Discover checks it against the sealed request record.
    """
    audit_id = request.audit_id
    if s3 is not None:
        guard.take_resource(s3, sfn, settings, request.resource.type, request.resource.id, audit_id)
    records.write_request(request)
    execution_input = {
        "resource": request.resource.to_json_dict(),
        "mode": request.mode,
        "approvalTimeoutSeconds": request.approval_timeout_seconds,
    }
    sfn.start_execution(
        stateMachineArn=settings.state_machine_arn, name=audit_id, input=json.dumps(execution_input)
    )
    return StartAuditResponse(
        audit_id=audit_id, links=Links(self=f"/audits/{audit_id}", approval=f"/audits/{audit_id}/approval")
    )


def pending_approval(record: dict[str, Any] | None, now: datetime) -> bool:
    """A PENDING record whose deadline has passed is not awaiting anyone: the task timed out."""
    if not record or record.get("status") != "PENDING":
        return False
    expires = _parse_time(record.get("expiresAt"))
    return expires is None or expires > now


def get_audit(
    audit_id: str, sfn: Any, s3: Any, settings: ApiSettings, *, now: Callable[[], datetime] = _now
) -> AuditStatus:
    executions = audit_executions(sfn, settings, audit_id)
    first, latest = executions[0], executions[-1]
    execution_input = _json_object(first.get("input"))
    histories = [(e["name"], execution_history(sfn, e["executionArn"])) for e in executions]
    sfn_status = latest["status"]
    running = sfn_status in {"RUNNING", "PENDING_REDRIVE"}
    started, stopped = first.get("startDate"), None if running else latest.get("stopDate")
    status = AuditStatus(
        audit_id=audit_id,
        status="RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),  # the state machine's default
        started_at=started,
        stopped_at=stopped,
        elapsed_seconds=_elapsed(started, stopped, now()),
        timeline=audit_progress(histories, running=running),
        executions=[ExecutionSummary.of(e) for e in executions],
    )
    if running:
        status.current_step = current_step(histories[-1][1])
        record = read_json(s3, settings.report_bucket, settings.approval_key(audit_id))
        if pending_approval(record, now()):
            assert record is not None
            status.status = "AWAITING_APPROVAL"
            default_ids = list(record.get("defaultRemediationIds") or [])  # in plan order
            default = set(default_ids)
            named_only = record.get("namedOnly") or {}
            status.pending_plans = [
                {
                    **plan,
                    "approvedByDefault": plan.get("remediationId") in default,
                    "namedOnlyReason": named_only.get(plan.get("remediationId")),
                }
                for plan in record.get("plans") or []
            ]
            status.default_remediation_ids = default_ids
            status.plan_digest = record.get("planDigest")
            status.approval_expires_at = record.get("expiresAt")
        return status
    report = read_json(s3, settings.report_bucket, settings.report_key(audit_id))
    status.report = report
    status.outcome = (report or {}).get("outcome") or _json_object(latest.get("output")).get("outcome")
    if sfn_status in _FAILED:
        status.status = "FAILED"
        status.error = latest.get("error") or sfn_status
        status.cause = latest.get("cause")
    else:
        status.status = "SUCCEEDED"
    return status


def list_audits(query: ListAuditsQuery, sfn: Any, s3: Any, settings: ApiSettings) -> AuditList:
    """Audits newest first (a resumed audit once, with its latest execution), filtered, paginated."""
    kwargs: dict[str, Any] = {"stateMachineArn": settings.state_machine_arn, "maxResults": query.limit}
    if query.status in ("RUNNING", "AWAITING_APPROVAL"):
        kwargs["statusFilter"] = "RUNNING"
    elif query.status == "SUCCEEDED":
        kwargs["statusFilter"] = "SUCCEEDED"
    if query.next_token:
        kwargs["nextToken"] = query.next_token
    try:
        page = sfn.list_executions(**kwargs)
    except ClientError as err:
        if error_code(err) == "InvalidToken":
            raise BadRequest(
                "nextToken: is not a token this API gave out (or it has expired)", field="nextToken"
            ) from None
        raise
    seen: set[str] = set()
    newest = []
    for execution in page.get("executions", []):  # newest first
        audit_id = execution["name"].split("_", 1)[0]
        if audit_id not in seen:
            seen.add(audit_id)
            newest.append(execution)
    with ThreadPoolExecutor(max_workers=8) as pool:
        items = list(pool.map(lambda e: _summary(e, sfn, s3, settings), newest))
    audits = [
        item
        for item in items
        if (query.status is None or item.status == query.status)
        and (query.resource is None or (item.resource or {}).get("id") == query.resource)
    ]
    return AuditList(audits=audits, next_token=page.get("nextToken"))


def _summary(execution: dict[str, Any], sfn: Any, s3: Any, settings: ApiSettings) -> AuditSummary:
    audit_id = execution["name"].split("_", 1)[0]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    first = (
        described
        if audit_id == execution["name"]
        else sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
    )
    execution_input = _json_object(first.get("input"))
    state = described["status"]
    summary = AuditSummary(
        audit_id=audit_id,
        status="FAILED" if state in _FAILED else "SUCCEEDED" if state == "SUCCEEDED" else "RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),
        started_at=first.get("startDate"),
        stopped_at=described.get("stopDate"),
        outcome=_json_object(described.get("output")).get("outcome")
        or ("FAILED" if state in _FAILED else None),
    )
    if summary.status == "RUNNING" and pending_approval(
        read_json(s3, settings.report_bucket, settings.approval_key(audit_id)), _now()
    ):
        summary.status = "AWAITING_APPROVAL"
    return summary


def _elapsed(started: datetime | None, stopped: datetime | None, now: datetime) -> float | None:
    if started is None:
        return None
    return round(((stopped or now) - started).total_seconds(), 3)


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
