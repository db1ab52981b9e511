"""Discover Lambda: {"auditId", "executionArn", "input"} -> $.discovery (secagent.models.state).

Only an audit the API (or a CloudTrail trigger) asked for is discovered: the sealed request
record must exist, and the execution input may state nothing else, so a StartExecution with
forged input reads nothing. Both checks (the execution, then the request) come before the
checkpoint: a resume with another mode in its input gets nothing either. The state machine
routes on the sealed request this returns, never on the input.
"""

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import load_or_compute
from lambdas.deps import deps
from lambdas.events import DiscoverEvent, InputRequest, parse
from lambdas.observability import logger, metrics, tracer
from secagent.discovery import discover
from secagent.models.errors import AuditNotRequested
from secagent.models.records import AuditRequest
from secagent.models.snapshot import parse_snapshot
from secagent.models.state import DiscoveryOutput, Route
from secagent.workflow.gate import load_request

STATE = "Discover Bucket"
# The API and the trigger start the execution right after sealing its request.
REQUEST_LIFETIME = timedelta(hours=1)


def _requested(audit_id: str, given: InputRequest) -> AuditRequest:
    """The request record the API sealed; AuditNotRequested when there is none, or the input
    states anything else."""
    stored = load_request(audit_id, deps().report_bucket, deps().sealer, deps().clients)
    stated = {
        "type": given.resource.type if given.resource else None,
        "id": given.resource.id if given.resource else None,
        "mode": given.mode,
        "timeout": given.approval_timeout_seconds,
    }
    if stored is None:
        raise _not_requested()
    sealed = {
        "type": stored.resource.type,
        "id": stored.resource.id,
        "mode": stored.mode,
        "timeout": stored.approval_timeout_seconds,
    }
    if any(value is not None and value != sealed[key] for key, value in stated.items()):
        raise _not_requested()
    return stored


def _not_requested() -> AuditNotRequested:
    return AuditNotRequested(
        "This execution was not started by the audit API: its input does not match a request "
        "record sealed by the API. Nothing was read; start audits with POST /audits."
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(DiscoverEvent, event)
    logger.append_keys(audit_id=step.audit_id)
    started = deps().confirm(step.execution_arn, step.audit_id, STATE)
    request = _requested(step.audit_id, step.input)
    if not step.resumed and started is not None and started - request.requested_at > REQUEST_LIFETIME:
        # Execution names are unique for 90 days only; a sealed request lives longer. An old audit
        # started again under its own name would rewrite its report: only a resume may come later.
        raise _not_requested()
    resource = request.resource
    logger.append_keys(resource_id=resource.id, resource_type=resource.type)

    def read() -> dict[str, Any]:
        faults.inject("discover", step.execution_arn)
        snapshot = discover(resource, clients=deps().clients)
        snapshot.exemptions = deps().exemptions_of(resource)
        unknown = snapshot.unknown_fields()
        metrics.add_metric(name="UnknownFields", unit=MetricUnit.Count, value=len(unknown))
        logger.info(
            "discovered", extra={"unknownFields": unknown, "durationMs": snapshot.read_by.duration_ms}
        )
        return snapshot.to_json_dict()

    snapshot = parse_snapshot(load_or_compute(step, "discovery", read))
    return DiscoveryOutput(
        request=Route.of(request),
        account_id=snapshot.account_id,
        region=snapshot.region,
        unknown_fields=snapshot.unknown_fields(),
    ).to_json_dict()
