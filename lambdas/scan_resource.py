"""Scan Resource Lambda (one child execution of the sweep's Distributed Map): a SweepItem ->
ItemOutcome. Discovers and analyzes one resource in its account and stores the ResourceResult.

The item comes from the map's items file, which only List Resources writes; it is still checked
against that file and the sealed sweep request (its account and type must be the request's), so
an invocation with a made-up item reads nothing.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.deps import deps
from lambdas.events import parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.errors import AuditNotRequested
from secagent.models.sweep import ItemOutcome, SweepItem, SweepRequest, resource_key
from secagent.sweep.store import load_sweep_request, read_items
from secagent.sweep.work import judge_item
from secagent.workflow.store import write_object

# The sealed request of each sweep this environment served and the items List Resources wrote for
# it (a sweep's children share them): read once per sweep and warm environment, not per resource.
_sweeps: dict[str, tuple[SweepRequest, frozenset[tuple[str, str, str]]]] = {}


def _sweep(sweep_id: str) -> tuple[SweepRequest, frozenset[tuple[str, str, str]]]:
    if sweep_id not in _sweeps:
        d = deps()
        request = load_sweep_request(sweep_id, d.report_bucket, d.sealer, d.clients)
        _sweeps.clear()  # one sweep at a time is the usual case; keep the cache small
        listed = read_items(d.report_bucket, sweep_id, d.clients)
        _sweeps[sweep_id] = (request, frozenset(i.identity for i in listed))
    return _sweeps[sweep_id]


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    item = parse(SweepItem, event)
    logger.append_keys(sweep_id=item.sweep_id, account_id=item.account_id, resource_id=item.resource.id)
    request, items = _sweep(item.sweep_id)
    if item.account_id not in request.accounts or item.resource.type not in request.resource_types:
        raise AuditNotRequested("the item is not one of its sweep's accounts and resource types")
    if item.identity not in items:
        raise AuditNotRequested("the item is not one List Resources listed for its sweep")
    d = deps()
    where = d.accounts.settings
    result = judge_item(item, d.accounts, d.env.analysis, region=where.region, partition=where.partition)
    key = resource_key(item.sweep_id, item.account_id, item.resource)
    write_object(d.report_bucket, key, result.to_json_dict(), d.clients)
    metrics.add_metric(name="SweepResourcesJudged", unit=MetricUnit.Count, value=1)
    return ItemOutcome(
        account_id=item.account_id,
        resource=item.resource,
        outcome=result.outcome,
        failing=len(result.failing),
        key=key,
    ).to_json_dict()
