"""Start an audit (one execution named by the audit id) and report where it is."""

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from secagent.api.aws import describe_execution, execution_history, read_json
from secagent.api.models import AuditStatus, Links, StartAuditRequest, StartAuditResponse
from secagent.api.settings import ApiSettings
from secagent.workflow.timeline import current_step

_FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}


def _now() -> datetime:
    return datetime.now(UTC)


def start_audit(
    request: StartAuditRequest, requested_by: str, sfn: Any, settings: ApiSettings
) -> StartAuditResponse:
    audit_id = str(uuid.uuid4())
    execution_input = {
        "resource": request.resource.model_dump(),
        "mode": request.mode,
        "approvalTimeoutSeconds": request.approval_timeout_seconds,
        "requestedBy": requested_by,
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
    execution_arn = settings.execution_arn(audit_id)
    execution = describe_execution(sfn, execution_arn, audit_id)
    execution_input = _json_object(execution.get("input"))
    status = AuditStatus(
        audit_id=audit_id,
        status="RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),  # the state machine's default
        started_at=execution.get("startDate"),
        stopped_at=execution.get("stopDate"),
    )
    sfn_status = execution["status"]
    if sfn_status in {"RUNNING", "PENDING_REDRIVE"}:
        status.current_step = current_step(execution_history(sfn, execution_arn))
        record = read_json(s3, settings.report_bucket, settings.approval_key(audit_id))
        if pending_approval(record, now()):
            assert record is not None
            status.status = "AWAITING_APPROVAL"
            status.pending_plans = record.get("plans") or []
            status.approval_expires_at = record.get("expiresAt")
        return status
    report = read_json(s3, settings.report_bucket, settings.report_key(audit_id))
    status.report = report
    status.outcome = (report or {}).get("outcome") or _json_object(execution.get("output")).get("outcome")
    if sfn_status in _FAILED:
        status.status = "FAILED"
        status.error = execution.get("error") or sfn_status
        status.cause = execution.get("cause")
    else:
        status.status = "SUCCEEDED"
    return status


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
