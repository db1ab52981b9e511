"""Roll back an audit's applied fixes: a new audit whose plans restore what they replaced.

Any ended audit with applied plans can be rolled back (a partial Apply too): Apply's own record
says what was applied and what each plan replaced. The rollback is an audit of its own (mode
`rollback`, `rollbackOf` the original), through the same gate: its plans are derived from that
record by the tools (never handed in), a person other than the rollback's requester approves
them, they are rechecked against the current configuration, applied newest first, and verified:
each rolled-back check must show its verdict from before the fix again.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from secagent.api.audits import check_target, start_execution_for
from secagent.api.errors import Conflict
from secagent.api.executions import audit_executions
from secagent.api.identity import Caller
from secagent.api.models import StartAuditResponse
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.errors import ApprovalInvalid
from secagent.models.records import ApplyProgress, AuditRequest
from secagent.workflow.checkpoints import load_checkpoint
from secagent.workflow.gate import rollback_plans

_ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def rollback_audit(
    audit_id: str, requested_by: Caller, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> StartAuditResponse:
    latest = audit_executions(sfn, s3, settings, audit_id)[-1]
    if latest["status"] not in _ENDED:
        raise Conflict(f'Audit "{audit_id}" is still running; roll it back once it has ended.')
    original = records.request(audit_id)
    stored = load_checkpoint(records.bucket, audit_id, "applied", records.clients)
    if original is None or stored is None:
        raise Conflict(f'Audit "{audit_id}" applied no fix, so there is nothing to roll back.')
    try:
        plans, _expected = rollback_plans(ApplyProgress.model_validate(stored), [])
    except (ValueError, ApprovalInvalid):
        plans = []
    if not plans:
        raise Conflict(f'Audit "{audit_id}" applied no fix that can be rolled back.')
    check_target(original.resource, "rollback", settings)
    return start_execution_for(
        AuditRequest(
            audit_id=str(uuid.uuid4()),
            resource=original.resource,
            mode="rollback",
            approval_timeout_seconds=original.approval_timeout_seconds,
            requested_by=requested_by.principal or UNKNOWN_CALLER,
            requested_by_arn=requested_by.arn or None,
            rollback_of=audit_id,
            requested_at=datetime.now(UTC),
        ),
        sfn=sfn,
        s3=s3,
        settings=settings,
        records=records,
    )
