"""Await Approval Lambda (.waitForTaskToken): {"taskToken", "auditId", "executionArn"}.

Stores the pending plans (rebuilt from storage, as the API will check them) and, apart, the task
token; then the execution waits for the API's SendTaskSuccess. On a resume of an audit a person
already decided, it wakes the execution itself with that decision (sealed by the API). Returns
{"auditId", "status", "expiresAt"}, which Step Functions ignores. The token is never logged.
"""

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.deps import deps
from lambdas.events import AwaitApprovalEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.report import ApprovalRecord
from secagent.workflow.approval import decision_output, request_approval
from secagent.workflow.gate import default_remediation_ids, load_decision, load_proposal, needs_naming


# log_event=False explicitly: POWERTOOLS_LOGGER_LOG_EVENT=true would otherwise log the token.
@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(AwaitApprovalEvent, event)
    logger.append_keys(audit_id=request.audit_id)
    deps().confirm(request.execution_arn, request.audit_id, "Await Approval")
    bucket, clients, sealer = deps().report_bucket, deps().clients, deps().sealer
    proposal = load_proposal(request.audit_id, bucket, deps().env.analysis, sealer, clients)
    decided = load_decision(request.audit_id, bucket, sealer, clients)  # a planted one decides nothing
    if decided is not None:  # a resume: the person's decision stands
        clients("stepfunctions", None).send_task_success(
            taskToken=request.task_token, output=decision_output(decided)
        )
        logger.info("decision already on record", extra={"decision": decided.decision})
        return {"auditId": request.audit_id, "status": "DECIDED"}
    default_ids = default_remediation_ids(proposal.plans)
    now = datetime.now(UTC)
    record = request_approval(
        record=ApprovalRecord(
            audit_id=request.audit_id,
            status="PENDING",
            resource=proposal.request.resource,
            plans=sorted(proposal.plans, key=lambda p: p.order),
            default_remediation_ids=default_ids,
            plan_digest=proposal.digest(proposal.select(default_ids, deps().env.analysis)),
            named_only={p.remediation_id: why for p in proposal.plans if (why := needs_naming(p))},
            requested_by=proposal.request.requested_by,
            requested_at=now,
            expires_at=now,
        ),
        task_token=request.task_token,
        execution_name=request.execution_arn.rsplit(":", 1)[-1],
        timeout_seconds=proposal.request.approval_timeout_seconds,
        bucket=bucket,
        clients=clients,
        event_bus=deps().env.workflow.event_bus_name,
        now=now,
    )
    metrics.add_metric(name="ApprovalsRequested", unit=MetricUnit.Count, value=1)
    expires_at = record.to_json_dict()["expiresAt"]
    logger.info(
        "approval requested", extra={"plans": [p.plan_id for p in record.plans], "expiresAt": expires_at}
    )
    return {"auditId": record.audit_id, "status": record.status, "expiresAt": expires_at}
