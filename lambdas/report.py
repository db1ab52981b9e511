"""Report Lambda: {"executionArn", "state", "input"} -> {"auditId", "outcome", "reportKey"}.

Builds the Task-state timeline from the execution history, the findings, plans and verdicts from
the steps' stored outputs, the requester, decision and applied plans from the audit's records
(sealed by the API, or Apply's own), writes reports/{auditId}.json and puts an "Audit Completed"
event.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.deps import deps
from lambdas.events import ReportEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.workflow.report import report_key, write_report


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(ReportEvent, event)
    logger.append_keys(execution_arn=request.execution_arn)
    # The audit is the execution's, never the state's: `auditId` in the state could be anything.
    audit_id = request.execution_arn.rsplit(":", 1)[-1].split("_", 1)[0]
    deps().confirm(request.execution_arn, audit_id, "Write Report", "Write Failure Report")
    report = write_report(
        request.execution_arn,
        {**request.state, "auditId": audit_id},
        given=request.input if isinstance(request.input, dict) else None,
        bucket=deps().report_bucket,
        sealer=deps().sealer,
        event_bus=deps().env.workflow.event_bus_name,
        clients=deps().clients,
    )
    key = report_key(report.audit_id)
    # One metric per outcome (OutcomeRemediated, OutcomeFailed, ...): alarms need no dimensions.
    metrics.add_metric(
        name=f"Outcome{report.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    if report.failure is not None:
        # The user sees the sentence and the correlation id; the raw error (its stack trace) is
        # logged here, under that id, for whoever runs the stack.
        logger.error(
            "audit failed",
            extra={
                "auditId": report.audit_id,
                "correlationId": report.failure.correlation_id,
                "step": report.failure.step,
                "caughtError": request.state.get("error"),
            },
        )
    logger.info(
        "report written", extra={"auditId": report.audit_id, "outcome": report.outcome, "reportKey": key}
    )
    return {"auditId": report.audit_id, "outcome": report.outcome, "reportKey": key}
