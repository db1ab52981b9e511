"""Recheck Configuration Lambda: {"auditId", "snapshot", "plans", "approval"} -> $.planCheck.

Right before Apply: is the configuration the approved plans touch still what they were planned on?
"""

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.events import RecheckEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.workflow.recheck import recheck

SESSION = boto3.Session()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("recheck", event)
    request = parse(RecheckEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.snapshot.bucket)
    check = recheck(request.snapshot, request.plans, request.approval, SESSION)
    metrics.add_metric(name="StalePlans", unit=MetricUnit.Count, value=int(check.stale))
    logger.info(
        "rechecked", extra={"stale": check.stale, "changedFields": [d.field for d in check.differences]}
    )
    return check.to_json_dict()
