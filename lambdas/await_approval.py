"""Await Approval Lambda (.waitForTaskToken): {"taskToken", "auditId", "resource", "plans", "timeoutSeconds"}.

Stores the pending plans with the task token and announces them; the execution then waits for
the API's SendTaskSuccess. Returns {"auditId", "status", "approvalKey", "expiresAt"}, which Step
Functions ignores. The task token is never logged or returned.
"""

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.events import AwaitApprovalEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models import ResourceRef
from secagent.workflow.approval import approval_key, request_approval
from secagent.workflow.settings import WorkflowSettings

SETTINGS = WorkflowSettings.from_env()  # cold start: REPORT_BUCKET, EVENT_BUS_NAME
SESSION = boto3.Session()


# log_event=False explicitly: POWERTOOLS_LOGGER_LOG_EVENT=true would otherwise log the token.
@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(AwaitApprovalEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.resource.id)
    record = request_approval(
        audit_id=request.audit_id,
        resource=ResourceRef(id=request.resource.id),
        plans=request.plans,
        snapshot=request.snapshot,
        requested_by=request.requested_by,
        task_token=request.task_token,
        timeout_seconds=request.timeout_seconds,
        bucket=SETTINGS.report_bucket,
        session=SESSION,
        event_bus=SETTINGS.event_bus_name,
    )
    metrics.add_metric(name="ApprovalsRequested", unit=MetricUnit.Count, value=1)
    expires_at = record.to_json_dict()["expiresAt"]
    logger.info(
        "approval requested", extra={"plans": [p.plan_id for p in record.plans], "expiresAt": expires_at}
    )
    return {
        "auditId": record.audit_id,
        "status": record.status,
        "approvalKey": approval_key(record.audit_id),
        "expiresAt": expires_at,
    }
