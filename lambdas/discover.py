"""Discover Lambda: {"auditId", "request"} -> Snapshot JSON.

Only an audit the API (or the CreateBucket trigger) asked for is discovered: the execution input
must match the sealed request record, so a StartExecution with forged input reads nothing. Both
checks (the execution, then the request) come before the checkpoint: a resume with another mode
in its input gets nothing either.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import deps, faults
from lambdas.checkpoint import checkpointed
from lambdas.events import DiscoverEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.discovery import discover_bucket
from secagent.models.errors import AuditNotRequested
from secagent.workflow.gate import load_request


def _requested(event: dict[str, Any]) -> None:
    """AuditNotRequested unless the input matches the request record the API sealed."""
    request = parse(DiscoverEvent, event)
    stored = load_request(request.audit_id, deps.settings().report_bucket, deps.sealer(), deps.clients())
    given = request.request
    if (
        stored is None
        or stored.resource.id != given.resource.id
        or stored.mode != given.mode
        or stored.approval_timeout_seconds != given.approval_timeout_seconds
    ):
        raise AuditNotRequested(
            "This execution was not started by the audit API: its input does not match a request "
            "record sealed by the API. Nothing was read; start audits with POST /audits."
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(DiscoverEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.request.resource.id)
    return _discover(event, context)


@checkpointed("discovery", "Discover Bucket", check=_requested)
def _discover(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("discover", event)
    bucket = parse(DiscoverEvent, event).request.resource.id
    snapshot = discover_bucket(bucket, clients=deps.clients())
    snapshot.exemptions = deps.exemptions_of(bucket)
    unknown = [f for f, p in snapshot.config if not p.known]
    metrics.add_metric(name="UnknownFields", unit=MetricUnit.Count, value=len(unknown))
    logger.info("discovered", extra={"unknownFields": unknown, "durationMs": snapshot.read_by.duration_ms})
    return snapshot.to_json_dict()
