"""A person's decision on pending plans: resume the waiting task, then retire its token."""

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from secagent.api.audits import pending_approval
from secagent.api.aws import audit_executions, error_code, read_json, write_json
from secagent.api.errors import BadRequest, Conflict, Forbidden, UpstreamError
from secagent.api.models import ApprovalRequest, ApprovalResponse
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.settings import ApiSettings
from secagent.workflow.checkpoints import checkpoint_key

logger = logging.getLogger(__name__)

# Step Functions' answers for a token that can no longer be used: someone decided first,
# the approval timed out, or the execution ended.
_STALE_TOKEN = {"TaskDoesNotExist", "InvalidToken", "TaskTimedOut"}


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def decide_approval(
    audit_id: str,
    request: ApprovalRequest,
    approver: str,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    *,
    now: Callable[[], datetime] = _now,
) -> ApprovalResponse:
    execution = audit_executions(sfn, settings, audit_id)[-1]  # a resume may be the one waiting
    if execution["status"] != "RUNNING":
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: it is {execution["status"]}.')
    key = settings.approval_key(audit_id)
    record = read_json(s3, settings.report_bucket, key)
    if record is None:
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: no plans were proposed for approval.')
    if record.get("status") != "PENDING":
        raise Conflict(f'Audit "{audit_id}" was already decided ({record.get("decision", "unknown")}).')
    moment = now()
    if not pending_approval(record, moment) or not record.get("taskToken"):
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: the approval has expired.')
    if request.decision == "approve":
        _check_binding(audit_id, request, record, approver, settings)

    decided_at = _iso(moment)
    decision: dict[str, Any] = {
        "decision": request.decision,
        "comment": request.comment,
        "approver": approver,
        "decidedAt": decided_at,
    }
    if request.decision == "approve":
        decision["planDigest"] = request.plan_digest
        if request.remediation_ids is not None:
            decision["remediationIds"] = request.remediation_ids
    try:
        sfn.send_task_success(taskToken=record["taskToken"], output=json.dumps(decision))
    except ClientError as err:
        code = error_code(err)
        if code in _STALE_TOKEN:
            raise Conflict(f'Audit "{audit_id}" is no longer awaiting approval ({code}).') from None
        # ``from None`` and only the code: the SDK message may quote the token.
        raise UpstreamError(f"SendTaskSuccess failed: {code}") from None

    # The decision is the Await Approval step's output: a resume after a later failure reuses it.
    try:
        write_json(s3, settings.report_bucket, checkpoint_key(audit_id, "approval"), decision)
    except ClientError as err:
        logger.warning(
            "approval checkpoint not written", extra={"auditId": audit_id, "errorCode": error_code(err)}
        )
    decided = {k: v for k, v in record.items() if k != "taskToken"}
    decided.update(status="DECIDED", decision=request.decision, decidedAt=decided_at, approver=approver)
    if request.remediation_ids is not None and request.decision == "approve":
        decided["remediationIds"] = request.remediation_ids
    try:
        write_json(s3, settings.report_bucket, key, decided)
    except ClientError as err:
        # The decision already took effect; failing now would only invite a retry that gets 409.
        return ApprovalResponse(audit_id=audit_id, decision=request.decision, record_error=error_code(err))
    return ApprovalResponse(audit_id=audit_id, decision=request.decision)


def _check_binding(
    audit_id: str, request: ApprovalRequest, record: dict[str, Any], approver: str, settings: ApiSettings
) -> None:
    """An approval names the exact plans it approves; optionally not by the one who asked for them."""
    if request.plan_digest is None:
        raise BadRequest(
            "planDigest: is required to approve: send the planDigest that GET /audits/<auditId> shows",
            field="planDigest",
        )
    if request.plan_digest != record.get("planDigest"):
        raise Conflict(
            f'The planDigest does not match the plans pending for audit "{audit_id}"; read them again '
            "with GET /audits/{auditId} and approve what you read. Nothing was applied.",
            field="planDigest",
        )
    if request.remediation_ids is not None:
        pending = {plan.get("remediationId") for plan in record.get("plans") or []}
        if unknown := sorted(set(request.remediation_ids) - pending):
            raise BadRequest(
                f"remediationIds: {', '.join(unknown)} is not among the pending plans", field="remediationIds"
            )
    requested_by = record.get("requestedBy")
    if settings.forbid_self_approval and approver != UNKNOWN_CALLER and approver == requested_by:
        raise Forbidden(f'Audit "{audit_id}" was started by {approver}, who may not also approve it.')
