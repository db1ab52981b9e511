"""Remediate Lambda: {"auditId", "executionArn"} -> $.remediation (secagent.models.state).

Plans fixes for the findings Analyze stored, on the snapshot Discover stored; stores the plans
(checkpoint ``remediation``). A rollback audit (by its sealed request record, not by its input)
proposes the rollbacks of what the rolled-back audit applied, from Apply's own record of it.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import load_or_compute, stored_output
from lambdas.deps import deps
from lambdas.events import StepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.errors import AuditNotRequested
from secagent.models.findings import Finding
from secagent.models.snapshot import parse_snapshot
from secagent.models.state import RemediationOutput
from secagent.remediation import plan_remediations
from secagent.workflow.gate import load_proposal, load_request

STATE = "Propose Fixes"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(StepEvent, event)
    logger.append_keys(audit_id=step.audit_id)
    deps().confirm(step.execution_arn, step.audit_id, STATE)

    def propose() -> dict[str, Any]:
        faults.inject("remediate", step.execution_arn)
        bucket = deps().report_bucket
        stored = load_request(step.audit_id, bucket, deps().sealer, deps().clients)
        if stored is None:
            raise AuditNotRequested(f"audit {step.audit_id} has no request record sealed by the audit API")
        snapshot = parse_snapshot(stored_output(step.audit_id, "discovery"))
        logger.append_keys(resource_id=snapshot.resource.id)
        if stored.mode == "rollback":
            proposal = load_proposal(
                step.audit_id, bucket, deps().env.analysis, deps().sealer, deps().clients
            )
            plans, unplanned, expected = proposal.plans, [], proposal.expected
        else:
            analysis = stored_output(step.audit_id, "analysis")
            findings = [Finding.model_validate(f) for f in analysis.get("findings", [])]
            plan_set = plan_remediations(snapshot, findings, deps().env.analysis)
            plans, unplanned, expected = plan_set.plans, plan_set.unplanned, {}
        metrics.add_metric(name="PlansProposed", unit=MetricUnit.Count, value=len(plans))
        logger.info("planned", extra={"plans": [p.plan_id for p in plans], "unplanned": unplanned})
        return {
            "auditId": step.audit_id,
            "resourceId": snapshot.resource.id,
            "plans": [p.to_json_dict() for p in plans],
            "unplanned": unplanned,
            "expected": expected,
        }

    stored = load_or_compute(step, "remediation", propose)
    return RemediationOutput(
        plan_count=len(stored.get("plans") or []), unplanned=stored.get("unplanned") or []
    ).to_json_dict()
