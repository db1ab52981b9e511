"""Await Approval: store the pending plans as a person will see them, keep the token apart, announce.

The task token goes to ``tokens/{auditId}.json``, which only the API's role may read; the pending
plans (``approvals/{auditId}.json``) and the "Approval Requested" event never carry it. The token
only wakes the execution: what Apply applies is decided by the API's sealed decision record.
"""

import hashlib
import json
from datetime import UTC, datetime, timedelta

from secagent.aws import ClientFactory
from secagent.models.plans import Plan
from secagent.models.records import Decision
from secagent.models.report import ApprovalRecord
from secagent.models.snapshot import Snapshot
from secagent.workflow._aws import put_event
from secagent.workflow.store import token_key, write_object

APPROVALS_PREFIX = "approvals/"


def plan_digest(plans: list[Plan], snapshot: Snapshot) -> str:
    """SHA-256 of the plans and the configuration they were computed from, as canonical JSON.

    An approval must quote it: what a person approves is exactly these plans for exactly that
    configuration; any other plan set (or a re-plan on changed configuration) has another digest.
    """
    document = {
        "plans": [p.to_json_dict() for p in sorted(plans, key=lambda p: p.order)],
        "configuration": snapshot.config.to_json_dict(),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_key(audit_id: str) -> str:
    return f"{APPROVALS_PREFIX}{audit_id}.json"


def decision_output(decision: Decision) -> str:
    """The Await Approval task's output: enough to route the execution, nothing Apply trusts."""
    return json.dumps(
        {
            "decision": decision.decision,
            "approver": decision.approver,
            "planDigest": decision.plan_digest,
            "remediationIds": decision.remediation_ids,
        }
    )


def request_approval(
    *,
    record: ApprovalRecord,
    task_token: str,
    execution_name: str,
    timeout_seconds: int,
    bucket: str,
    clients: ClientFactory,
    event_bus: str = "default",
    now: datetime | None = None,
) -> ApprovalRecord:
    """Write the token, then ``approvals/{auditId}.json``, then put ``Approval Requested`` (no token)."""
    requested_at = now or datetime.now(UTC)
    record = record.model_copy(
        update={"requested_at": requested_at, "expires_at": requested_at + timedelta(seconds=timeout_seconds)}
    )
    # The token first: once the plans are visible, someone may approve, and the API needs it. Once per
    # execution: a second invocation during the wait cannot swap the token the API will use.
    token = {"auditId": record.audit_id, "execution": execution_name, "taskToken": task_token}
    write_object(bucket, token_key(record.audit_id, execution_name), token, clients, once=True)
    write_object(bucket, approval_key(record.audit_id), record.to_json_dict(), clients)
    audit_id = record.audit_id
    detail = {
        "auditId": audit_id,
        "resource": record.resource.to_json_dict(),
        "plans": [
            {"planId": p.plan_id, "title": p.title, "cliCommand": p.cli_command, "risk": p.risk}
            for p in record.plans
        ],
        "planDigest": record.plan_digest,
        "defaultRemediationIds": record.default_remediation_ids,
        "expiresAt": record.to_json_dict()["expiresAt"],
        # How to decide: never a link that acts on GET, never the task token.
        "howToDecide": f"Review with `secagent status {audit_id}`, then `secagent approve {audit_id}` "
        f"or `secagent reject {audit_id}`. Only a person other than the requester may approve.",
    }
    put_event("Approval Requested", detail, event_bus, clients)
    return record
