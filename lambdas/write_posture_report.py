"""Write Posture Report Lambda (sweep): {"sweepId", "executionArn", "state"} -> $.report.

Builds the posture report and the OCSF and ASFF findings from what the sweep's tools stored;
imports the ASFF into Security Hub when the deploy setting securityHubImport says so.
"""

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.deps import deps
from lambdas.events import SweepReportEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.sweep.report import write_sweep_report


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(SweepReportEvent, event)
    logger.append_keys(sweep_id=step.sweep_id)
    d = deps()
    request = d.confirmed_sweep(step.execution_arn, step.sweep_id)
    settings = d.accounts.settings
    posture, imported = write_sweep_report(
        request,
        step.state,
        bucket=d.report_bucket,
        clients=d.clients,
        security_hub_account=settings.own_account if settings.security_hub_import else None,
        security_hub_region=settings.region,
    )
    totals = posture.totals
    metrics.add_metric(name="SweepResourcesReported", unit=MetricUnit.Count, value=totals.resources)
    answer: dict[str, Any] = {
        "sweepId": step.sweep_id,
        "complete": posture.complete,
        "resources": totals.resources,
        "nonCompliant": totals.non_compliant,
    }
    if imported is not None:
        answer["securityHub"] = {k: v for k, v in asdict(imported).items() if k != "failures"}
        logger.info(
            "imported into Security Hub", extra={"imported": imported.imported, "failed": imported.failed}
        )
    logger.info("posture report written", extra=answer)
    return answer
