"""Apply Lambda: {"auditId", "plans", "approval"} -> $.applied {"results", "appliedCount", "failedCount"}."""

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import checkpointed
from lambdas.events import ApplyEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.workflow.apply import apply_plans

SESSION = boto3.Session()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("applied")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("apply", event)
    request = parse(ApplyEvent, event)
    logger.append_keys(audit_id=request.audit_id)
    summary = apply_plans(request.plans, request.approval, SESSION)
    metrics.add_metric(name="PlansApplied", unit=MetricUnit.Count, value=summary.applied_count)
    metrics.add_metric(name="PlansFailed", unit=MetricUnit.Count, value=summary.failed_count)
    logger.info(
        "applied",
        extra={
            "results": [{"planId": r.plan_id, "status": r.status, "error": r.error} for r in summary.results]
        },
    )
    return summary.to_json_dict()
