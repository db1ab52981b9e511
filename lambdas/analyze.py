"""Analyze Lambda: {"auditId", "snapshot"} -> {"auditId", "findings", "summary", ...}."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import deps, faults
from lambdas.checkpoint import checkpointed
from lambdas.events import AnalyzeEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.checks import analyze


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("analysis", "Analyze Configuration")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("analyze", event)
    request = parse(AnalyzeEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.snapshot.bucket)
    result = analyze(request.snapshot, deps.analysis())
    metrics.add_metric(name="FindingsFailed", unit=MetricUnit.Count, value=result.summary.fail)
    logger.info("analyzed", extra={"summary": result.summary.to_json_dict()})
    return {"auditId": request.audit_id, **result.to_json_dict()}
