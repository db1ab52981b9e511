"""Apply Lambda: {"auditId", "executionArn"} -> $.applied (secagent.models.state).

Applies only what secagent.workflow.gate.authorize proves a person approved (from storage); its
record of each plan's result is its checkpoint, written as it goes.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.deps import deps
from lambdas.events import StepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.records import ApplyProgress
from secagent.models.state import AppliedOutput
from secagent.workflow.apply import apply_plans
from secagent.workflow.checkpoints import load_checkpoint, save_checkpoint
from secagent.workflow.gate import authorize


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(StepEvent, event)
    logger.append_keys(audit_id=request.audit_id)
    deps().confirm(request.execution_arn, request.audit_id, "Apply Fixes")
    faults.inject("apply", request.execution_arn)
    bucket, clients = deps().report_bucket, deps().clients
    authorized = authorize(
        request.audit_id, bucket, deps().env.analysis, deps().sealer, clients, scope=deps().env.scope
    )
    stored = load_checkpoint(bucket, request.audit_id, "applied", clients)
    earlier = ApplyProgress.model_validate(stored) if stored else None
    if earlier is not None and earlier.plan_digest != authorized.decision.plan_digest:
        earlier = None  # a record of another decision says nothing about this one
    if earlier is not None and earlier.complete:
        progress = earlier
    else:
        progress = apply_plans(
            request.audit_id,
            authorized.plans,
            authorized.decision.plan_digest or "",
            earlier,
            lambda p: save_checkpoint(bucket, request.audit_id, "applied", p.to_json_dict(), clients),
            clients=clients,
        )
    metrics.add_metric(name="PlansApplied", unit=MetricUnit.Count, value=progress.applied_count)
    metrics.add_metric(name="PlansFailed", unit=MetricUnit.Count, value=progress.failed_count)
    logger.info(
        "applied",
        extra={
            "results": [{"planId": r.plan_id, "status": r.status, "error": r.error} for r in progress.results]
        },
    )
    return AppliedOutput(
        applied_count=progress.applied_count, failed_count=progress.failed_count
    ).to_json_dict()
