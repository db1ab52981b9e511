"""Remediate Lambda: {"auditId", "snapshot", "findings"} -> {"auditId", "plans", "unplanned", ...}."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import checkpointed
from lambdas.events import RemediateEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models import AgentSettings
from secagent.remediation import plan_remediations

SETTINGS = AgentSettings.from_env()  # cold start: SECAGENT_KMS_KEY_ID, SECAGENT_ACCESS_LOG_BUCKET, ...


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("remediation")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("remediate", event)
    request = parse(RemediateEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.snapshot.bucket)
    plan_set = plan_remediations(request.snapshot, request.findings, SETTINGS)
    metrics.add_metric(name="PlansProposed", unit=MetricUnit.Count, value=len(plan_set.plans))
    logger.info(
        "planned", extra={"plans": [p.plan_id for p in plan_set.plans], "unplanned": plan_set.unplanned}
    )
    return {"auditId": request.audit_id, **plan_set.to_json_dict()}
