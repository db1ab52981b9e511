"""Recheck Configuration Lambda: {"auditId", "executionArn"} -> $.planCheck (secagent.models.state).

Right before Apply: is the approval on record valid for exactly these plans (else
ApprovalInvalid), and is the configuration they touch still what they were planned on? The
differences, with both values, are stored (``planCheck``) for the report; it runs again on a resume.
"""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas import faults
from lambdas.deps import deps
from lambdas.events import StepEvent, parse
from lambdas.observability import logger, metrics, tracer
from secagent.models.records import ApplyProgress
from secagent.models.report import ApplyStatus
from secagent.models.state import PlanCheckOutput
from secagent.workflow.checkpoints import load_checkpoint, save_checkpoint
from secagent.workflow.gate import authorize
from secagent.workflow.recheck import recheck


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    request = parse(StepEvent, event)
    logger.append_keys(audit_id=request.audit_id)
    deps().confirm(request.execution_arn, request.audit_id, "Recheck Configuration")
    faults.inject("recheck", request.execution_arn)
    bucket = deps().report_bucket
    authorized = authorize(
        request.audit_id, bucket, deps().env.analysis, deps().sealer, deps().clients, scope=deps().env.scope
    )
    # A resume after a partial Apply: what this audit already changed is not someone else's change.
    stored = load_checkpoint(bucket, request.audit_id, "applied", deps().clients)
    progress = ApplyProgress.model_validate(stored) if stored else None
    done = (
        {r.plan_id for r in progress.results if r.status is ApplyStatus.APPLIED}
        if progress and progress.plan_digest == authorized.decision.plan_digest
        else set()
    )
    # Plans Apply will skip (they need a person's input, e.g. an MFA code) change nothing.
    pending = [p for p in authorized.plans if p.plan_id not in done and not p.manual_inputs]
    check = recheck(authorized.proposal.snapshot, pending, clients=deps().clients)
    metrics.add_metric(name="StalePlans", unit=MetricUnit.Count, value=int(check.stale))
    logger.info(
        "rechecked", extra={"stale": check.stale, "changedFields": [d.field for d in check.differences]}
    )
    save_checkpoint(bucket, request.audit_id, "planCheck", check.to_json_dict(), deps().clients)
    return PlanCheckOutput(
        stale=check.stale, changed_fields=[d.field for d in check.differences]
    ).to_json_dict()
