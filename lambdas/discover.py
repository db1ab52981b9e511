"""Discover Lambda: {"auditId", "resource": {"type": "AWS::S3::Bucket", "id": bucket}} -> Snapshot JSON."""

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import checkpointed
from lambdas.events import DiscoverEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.aws import client_factory
from secagent.discovery import discover_bucket


@cache
def _clients():
    """Clients live as long as the warm environment (they are thread-safe; creating them costs ~45 ms)."""
    return client_factory()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@checkpointed("discovery")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    faults.inject("discover", event)
    request = parse(DiscoverEvent, event)
    logger.append_keys(audit_id=request.audit_id, bucket=request.resource.id)
    snapshot = discover_bucket(request.resource.id, clients=_clients())
    unknown = [f for f, p in snapshot.config if not p.known]
    metrics.add_metric(name="UnknownFields", unit=MetricUnit.Count, value=len(unknown))
    logger.info("discovered", extra={"unknownFields": unknown, "durationMs": snapshot.read_by.duration_ms})
    return snapshot.to_json_dict()
