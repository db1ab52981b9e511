"""Remediate Lambda: {"auditId", "snapshot", "findings"} -> {"auditId", "plans", "unplanned", "expected"}.

A rollback audit (by its sealed request record, not by its input) proposes the rollbacks of what
the rolled-back audit applied, from Apply's own record of it.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import deps, faults
from lambdas.checkpoint import checkpointed
from lambdas.events import RemediateEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.errors import AuditNotRequested
from secagent.remediation import plan_remediations
from secagent.workflow.gate import load_proposal, load_request


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("remediation", "Propose Fixes")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("remediate", event)
    request = parse(RemediateEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.snapshot.bucket)
    bucket = deps.settings().report_bucket
    stored = load_request(request.audit_id, bucket, deps.sealer(), deps.clients())
    if stored is None:
        raise AuditNotRequested(f"audit {request.audit_id} has no request record sealed by the audit API")
    if stored.mode == "rollback":
        proposal = load_proposal(request.audit_id, bucket, deps.analysis(), deps.sealer(), deps.clients())
        plans, unplanned, expected = proposal.plans, [], proposal.expected
    else:
        plan_set = plan_remediations(request.snapshot, request.findings, deps.analysis())
        plans, unplanned, expected = plan_set.plans, plan_set.unplanned, {}
    metrics.add_metric(name="PlansProposed", unit=MetricUnit.Count, value=len(plans))
    logger.info("planned", extra={"plans": [p.plan_id for p in plans], "unplanned": unplanned})
    return {
        "auditId": request.audit_id,
        "resourceId": request.snapshot.bucket,
        "plans": [p.to_json_dict() for p in plans],
        "unplanned": unplanned,
        "expected": expected,
    }
