"""Verify Lambda: {"auditId", "executionArn"} -> $.verification (secagent.models.state).

Discovers and analyzes the resource of the sealed request again (the stored snapshot must be of it)
and compares with the findings Analyze stored, given
Apply's own record of what it applied (and, for a rollback, the verdicts Propose Fixes stored as
expected); stores the comparison (checkpoint ``verification``).
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.checkpoint import load_or_compute, stored_output
from lambdas.deps import deps
from lambdas.events import StepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.errors import AuditNotRequested
from secagent.models.findings import Finding, Status
from secagent.models.records import ApplyProgress
from secagent.models.report import Verification
from secagent.models.snapshot import parse_snapshot
from secagent.models.state import VerificationOutput
from secagent.workflow.gate import load_request
from secagent.workflow.verify import verify

STATE = "Verify Fixes"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    step = parse(StepEvent, event)
    logger.append_keys(audit_id=step.audit_id)
    deps().confirm(step.execution_arn, step.audit_id, STATE)

    def check_again() -> dict[str, Any]:
        faults.inject("verify", step.execution_arn)
        resource = parse_snapshot(stored_output(step.audit_id, "discovery")).resource
        request = load_request(step.audit_id, deps().report_bucket, deps().sealer, deps().clients)
        if request is None or request.resource != resource:
            raise AuditNotRequested(
                f"the stored snapshot of audit {step.audit_id} is not of the resource its sealed "
                "request names"
            )
        logger.append_keys(resource_id=resource.id)
        before = [
            Finding.model_validate(f) for f in stored_output(step.audit_id, "analysis").get("findings", [])
        ]
        applied = ApplyProgress.model_validate(stored_output(step.audit_id, "applied"))
        expected = {
            k: Status(v)
            for k, v in (stored_output(step.audit_id, "remediation").get("expected") or {}).items()
        }
        result = verify(
            resource,
            before,
            applied,
            None,
            deps().env.analysis,  # the same settings as Analyze, or before/after would disagree
            expected=expected or None,
            clients=deps().clients,
            exemptions=deps().exemptions_of(resource),
        )
        metrics.add_metric(name="ChecksStillFailing", unit=MetricUnit.Count, value=len(result.still_failing))
        logger.info("verified", extra={"allFixed": result.all_fixed, "stillFailing": result.still_failing})
        return result.to_json_dict()

    result = Verification.model_validate(load_or_compute(step, "verification", check_again))
    return VerificationOutput(
        outcome=result.outcome, all_fixed=result.all_fixed, still_failing=result.still_failing
    ).to_json_dict()
