"""List Resources Lambda (sweep): {"sweepId", "executionArn"} -> $.listing (ListingOutput).

Reads the sweep request the API sealed (the accounts and types come from it, never from the
input), lists each account's resources and writes them as the Distributed Map's items.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.deps import deps
from lambdas.events import SweepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.sweep import ListingOutput, items_key
from secagent.sweep.store import write_listing
from secagent.sweep.work import list_sweep


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(SweepEvent, event)
    logger.append_keys(sweep_id=step.sweep_id)
    d = deps()
    request = d.confirmed_sweep(step.execution_arn, step.sweep_id)
    listings, items = list_sweep(request, d.accounts, d.accounts.settings.region)
    write_listing(d.report_bucket, step.sweep_id, listings, items, d.clients)
    failed = [a.account_id for a in listings if a.status == "FAILED"]
    metrics.add_metric(name="SweepResourcesListed", unit=MetricUnit.Count, value=len(items))
    metrics.add_metric(name="SweepAccountsFailed", unit=MetricUnit.Count, value=len(failed))
    logger.info("listed", extra={"resources": len(items), "failedAccounts": failed})
    return ListingOutput(
        sweep_id=step.sweep_id,
        bucket=d.report_bucket,
        items_key=items_key(step.sweep_id),
        items=len(items),
        accounts=listings,
    ).to_json_dict()
