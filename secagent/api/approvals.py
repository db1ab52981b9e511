"""A person's decision on pending plans: prove who decides and on what, seal it, wake the audit.

The decision record (sealed, written once) is what Apply applies: the task token only wakes the
execution. An approval names what it approves: a plain approval covers the reversible plans
scoped to the resource (the default selection); irreversible and account-wide plans are applied
only when named by id. A subset is re-planned from the snapshot, and the approval must quote the
digest of exactly that re-planned subset (``GET /audits/{id}/approval?remediationIds=`` shows it).
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from secagent.api.aws import error_code, read_json, write_json
from secagent.api.errors import BadRequest, Conflict, UpstreamError
from secagent.api.executions import audit_executions
from secagent.api.identity import Caller, check_four_eyes
from secagent.api.models import ApprovalPreview, ApprovalRequest, ApprovalResponse
from secagent.api.progress import pending_approval
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.plans import Plan
from secagent.models.records import Decision
from secagent.workflow.approval import decision_output
from secagent.workflow.gate import Proposal, default_remediation_ids, needs_naming

logger = logging.getLogger(__name__)

# Step Functions' answers for a token that can no longer be used: someone decided first,
# the approval timed out, or the execution ended.
_STALE_TOKEN = {"TaskDoesNotExist", "InvalidToken", "TaskTimedOut"}


def _now() -> datetime:
    return datetime.now(UTC)


def _pending(
    audit_id: str, sfn: Any, s3: Any, settings: ApiSettings, moment: datetime
) -> tuple[dict[str, Any], str]:
    """The pending approval record and the name of the execution that waits for it."""
    execution = audit_executions(sfn, s3, settings, audit_id)[-1]  # a resume may be the one waiting
    if execution["status"] != "RUNNING":
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: it is {execution["status"]}.')
    record = read_json(s3, settings.report_bucket, settings.approval_key(audit_id))
    if record is None:
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: no plans were proposed for approval.')
    if record.get("status") != "PENDING":
        raise Conflict(f'Audit "{audit_id}" was already decided ({record.get("decision", "unknown")}).')
    if not pending_approval(record, moment):
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: the approval has expired.')
    return record, execution["name"]


def select(
    audit_id: str, proposal: Proposal, remediation_ids: list[str] | None, records: RecordStore
) -> tuple[list[str], list[Plan], str]:
    """The ids a decision approves, their plans (re-planned) and digest; 400 for an unknown id."""
    proposed = [p.remediation_id for p in sorted(proposal.plans, key=lambda p: p.order)]
    if remediation_ids is None:
        ids = default_remediation_ids(proposal.plans)
        if not ids:
            raise BadRequest(
                f'Audit "{audit_id}" has no plan a plain approval covers: every plan is irreversible or '
                "account-wide. Name the ones you approve in remediationIds.",
                field="remediationIds",
            )
    else:
        if unknown := sorted(set(remediation_ids) - set(proposed)):
            raise BadRequest(
                f"remediationIds: {', '.join(unknown)} is not among the pending plans", field="remediationIds"
            )
        ids = [r for r in proposed if r in set(remediation_ids)]
    plans = proposal.select(ids, records.analysis)
    return ids, plans, proposal.digest(plans)


def _same_decision(earlier: Decision, retry: Decision) -> bool:
    keys = ("audit_id", "decision", "remediation_ids", "selection", "plan_digest", "approver")
    return all(getattr(earlier, k) == getattr(retry, k) for k in keys)


def preview_approval(
    audit_id: str,
    remediation_ids: list[str] | None,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> ApprovalPreview:
    _pending(audit_id, sfn, s3, settings, now())
    proposal = records.proposal(audit_id)
    ids, plans, digest = select(audit_id, proposal, remediation_ids, records)
    left_out = [
        {"remediationId": p.remediation_id, "reason": needs_naming(p) or "not chosen"}
        for p in sorted(proposal.plans, key=lambda p: p.order)
        if p.remediation_id not in ids
    ]
    return ApprovalPreview(
        audit_id=audit_id,
        selection="default" if remediation_ids is None else "named",
        remediation_ids=ids,
        plans=[p.to_json_dict() for p in plans],
        plan_digest=digest,
        left_out=left_out,
    )


def decide_approval(
    audit_id: str,
    request: ApprovalRequest,
    approver: Caller,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> ApprovalResponse:
    moment = now()
    record, waiting = _pending(audit_id, sfn, s3, settings, moment)
    proposal = records.proposal(audit_id)  # the request record the API sealed, and what it proposes
    audit_request = proposal.request
    ids: list[str] = []
    digest: str | None = None
    if request.decision == "approve":
        check_four_eyes(
            approver, audit_request.requested_by, audit_id, allow_self_approval=settings.allow_self_approval
        )
        ids, _plans, digest = select(audit_id, proposal, request.remediation_ids, records)
        if request.plan_digest is None:
            raise BadRequest(
                "planDigest: is required to approve: send the planDigest that GET /audits/<auditId> shows "
                "(or, for a subset, GET /audits/<auditId>/approval?remediationIds=...)",
                field="planDigest",
            )
        if request.plan_digest != digest:
            conflict = Conflict(
                f'The planDigest does not match what approving this selection of audit "{audit_id}" would '
                "apply; read it again (GET /audits/{auditId}, or for a subset GET /audits/{auditId}/"
                "approval?remediationIds=...) and approve what you read. Nothing was applied.",
                field="planDigest",
            )
            conflict.extra = {"remediationIds": ids}
            raise conflict
    elif not approver.known and not settings.allow_self_approval:
        check_four_eyes(approver, audit_request.requested_by, audit_id, allow_self_approval=False)

    decision = Decision(
        audit_id=audit_id,
        resource=audit_request.resource,
        mode=audit_request.mode,
        decision=request.decision,
        remediation_ids=ids,
        selection="named" if request.remediation_ids is not None else "default",
        plan_digest=digest,
        approver=approver.principal or "unknown",
        approver_arn=approver.arn or None,
        requested_by=audit_request.requested_by,
        comment=request.comment,
        decided_at=moment,
    )
    try:
        records.write_decision(decision)  # first: Apply applies what this record binds, nothing else
    except Conflict:
        # A sealed decision is on record while approvals/ still says PENDING: the request that wrote
        # it failed before waking the task. A retry of that same decision finishes it; any other
        # decision (or a planted, unsealed file) is refused as before.
        earlier = records.decision(audit_id)
        if earlier is None or not _same_decision(earlier, decision):
            raise
        decision = earlier
    token = records.task_token(audit_id, waiting)
    if token is None:
        raise Conflict(f'Audit "{audit_id}" is not awaiting approval: its task token is gone.')
    try:
        sfn.send_task_success(taskToken=token, output=decision_output(decision))
    except ClientError as err:
        code = error_code(err)
        if code in _STALE_TOKEN:
            raise Conflict(f'Audit "{audit_id}" is no longer awaiting approval ({code}).') from None
        # ``from None`` and only the code: the SDK message may quote the token.
        raise UpstreamError(f"SendTaskSuccess failed: {code}") from None

    decided = dict(record)
    decided.update(
        status="DECIDED",
        decision=request.decision,
        decidedAt=decision.to_json_dict()["decidedAt"],
        approver=decision.approver_arn or decision.approver,
    )
    if request.decision == "approve":
        decided.update(remediationIds=ids, approvedDigest=digest)
    response = ApprovalResponse(
        audit_id=audit_id,
        decision=request.decision,
        remediation_ids=ids if request.decision == "approve" else None,
        plan_digest=digest,
    )
    try:
        write_json(s3, settings.report_bucket, settings.approval_key(audit_id), decided)
    except ClientError as err:
        # The decision already took effect; failing now would only invite a retry that gets 409.
        response.record_error = error_code(err)
    return response
