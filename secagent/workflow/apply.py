"""Apply Fixes: run the approved plans in order and record what happened to each."""

from datetime import UTC, datetime

import boto3
from botocore.exceptions import ClientError

from secagent.aws import ClientFactory, client_factory
from secagent.models.errors import SecAgentError, TransientError
from secagent.models.plans import Plan
from secagent.models.report import AppliedSummary, ApplyResult, ApplyStatus, ApprovalDecision
from secagent.remediation.apply import execute_api_call

EARLIER_FAILED = "not run: an earlier plan failed"


def _result(plan: Plan, status: ApplyStatus, error: str | None = None) -> ApplyResult:
    applied_at = datetime.now(UTC) if status is ApplyStatus.APPLIED else None
    return ApplyResult(
        plan_id=plan.plan_id,
        remediation_id=plan.remediation_id,
        check_ids=plan.check_ids,
        status=status,
        error=error,
        applied_at=applied_at,
    )


def apply_plans(
    plans: list[Plan],
    approval: ApprovalDecision,
    session: boto3.Session,
    *,
    clients: ClientFactory | None = None,
) -> AppliedSummary:
    """Run approved, runnable plans in ``order``; after the first FAILED the rest are SKIPPED.

    A TransientError propagates (Step Functions retries the task) only while nothing has been
    applied in this invocation; after that it is recorded as FAILED, so that the report still
    says which changes were made if the retries ran out. (The Put* calls are idempotent, so a
    retry would be harmless, but losing the record of applied changes would not be.)
    """
    make = clients or client_factory(session)
    results: list[ApplyResult] = []
    failed = False
    for plan in sorted(plans, key=lambda p: p.order):
        if not approval.approves(plan):
            results.append(_result(plan, ApplyStatus.SKIPPED, "not approved"))
        elif failed:
            results.append(_result(plan, ApplyStatus.SKIPPED, EARLIER_FAILED))
        elif plan.manual_inputs:
            needs = ", ".join(plan.manual_inputs)
            results.append(_result(plan, ApplyStatus.SKIPPED, f"needs manual input: {needs}"))
        else:
            try:
                execute_api_call(plan.api_call, clients=make)
                results.append(_result(plan, ApplyStatus.APPLIED))
            except TransientError as err:
                if not any(r.status is ApplyStatus.APPLIED for r in results):
                    raise
                failed = True
                results.append(_result(plan, ApplyStatus.FAILED, f"TransientError: {err}"))
            except (SecAgentError, ClientError) as err:
                failed = True
                results.append(_result(plan, ApplyStatus.FAILED, f"{type(err).__name__}: {err}"))
    return AppliedSummary(
        results=results,
        applied_count=sum(r.status is ApplyStatus.APPLIED for r in results),
        failed_count=sum(r.status is ApplyStatus.FAILED for r in results),
    )
