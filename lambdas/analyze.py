"""Analyze Lambda: {"auditId", "executionArn"} -> $.analysis (secagent.models.state).

Judges the snapshot Discover stored; stores the findings (checkpoint ``analysis``)."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import load_or_compute, stored_output
from lambdas.deps import deps
from lambdas.events import StepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.checks import analyze
from secagent.models.findings import AnalysisResult
from secagent.models.snapshot import parse_snapshot
from secagent.models.state import AnalysisOutput

STATE = "Analyze Configuration"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(StepEvent, event)
    logger.append_keys(audit_id=step.audit_id)
    deps().confirm(step.execution_arn, step.audit_id, STATE)

    def judge() -> dict[str, Any]:
        faults.inject("analyze", step.execution_arn)
        snapshot = parse_snapshot(stored_output(step.audit_id, "discovery"))
        logger.append_keys(resource_id=snapshot.resource.id)
        result = analyze(snapshot, deps().env.analysis)
        metrics.add_metric(name="FindingsFailed", unit=MetricUnit.Count, value=result.summary.fail)
        logger.info("analyzed", extra={"summary": result.summary.to_json_dict()})
        return {"auditId": step.audit_id, **result.to_json_dict()}

    result = AnalysisResult.model_validate(
        {k: v for k, v in load_or_compute(step, "analysis", judge).items() if k != "auditId"}
    )
    return AnalysisOutput(checks_run=result.checks_run, summary=result.summary).to_json_dict()
