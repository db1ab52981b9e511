"""Verify Lambda: {"auditId", "resource", "before", "applied", "expected"} -> $.verification."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import deps, faults
from lambdas.checkpoint import checkpointed
from lambdas.events import VerifyEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models import ResourceRef
from secagent.workflow.verify import verify


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("verification", "Verify Fixes")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("verify", event)
    request = parse(VerifyEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.resource.id)
    result = verify(
        ResourceRef(id=request.resource.id),
        request.before,
        request.applied,
        None,
        deps.analysis(),  # the same settings as Analyze, or before/after would disagree
        expected=request.expected or None,
        clients=deps.clients(),
        exemptions=deps.exemptions_of(request.resource.id),
    )
    metrics.add_metric(name="ChecksStillFailing", unit=MetricUnit.Count, value=len(result.still_failing))
    logger.info("verified", extra={"allFixed": result.all_fixed, "stillFailing": result.still_failing})
    return result.to_json_dict()
