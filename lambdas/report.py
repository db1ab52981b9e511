"""Report Lambda: {"executionArn", "state"} -> {"auditId", "outcome", "reportKey"}.

Builds the Task-state timeline from the execution history, writes reports/{auditId}.json and
puts an "Audit Completed" event.
"""

from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.events import ReportEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.workflow.report import report_key, write_report
from secagent.workflow.settings import WorkflowSettings

SETTINGS = WorkflowSettings.from_env()  # cold start: REPORT_BUCKET, EVENT_BUS_NAME
SESSION = boto3.Session()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(ReportEvent, event)
    logger.append_keys(execution_arn=request.execution_arn)
    report = write_report(
        request.execution_arn,
        request.state,
        bucket=SETTINGS.report_bucket,
        session=SESSION,
        event_bus=SETTINGS.event_bus_name,
    )
    key = report_key(report.audit_id)
    # One metric per outcome (OutcomeRemediated, OutcomeFailed, ...): alarms need no dimensions.
    metrics.add_metric(
        name=f"Outcome{report.outcome.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    logger.info(
        "report written", extra={"auditId": report.audit_id, "outcome": report.outcome, "reportKey": key}
    )
    return {"auditId": report.audit_id, "outcome": report.outcome, "reportKey": key}
