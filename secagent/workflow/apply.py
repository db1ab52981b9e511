"""Apply Fixes: run exactly the authorized plans in order, recording each result as it goes.

The record (``ApplyProgress``, Apply's checkpoint) is rewritten after every plan, so a timeout or
a crash in the middle leaves the truth: a retry or a resume skips what is already applied and
continues; a rollback undoes what the record says was applied.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from secagent.aws import ClientFactory
from secagent.models.errors import SecAgentError, TransientError
from secagent.models.plans import Plan
from secagent.models.records import ApplyProgress
from secagent.models.report import ApplyResult, ApplyStatus
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


def _recount(progress: ApplyProgress) -> None:
    progress.applied_count = sum(r.status is ApplyStatus.APPLIED for r in progress.results)
    progress.failed_count = sum(r.status is ApplyStatus.FAILED for r in progress.results)


def apply_plans(
    audit_id: str,
    plans: list[Plan],
    plan_digest: str,
    earlier: ApplyProgress | None,
    record: Callable[[ApplyProgress], None],
    *,
    clients: ClientFactory,
) -> ApplyProgress:
    """Run ``plans`` in ``order``; after the first FAILED the rest are SKIPPED; ``record`` after each.

    A TransientError is recorded (the plans before it stay APPLIED) and propagates, so Step
    Functions retries the task; the retry skips what the record says is applied.
    """
    done = {r.plan_id: r for r in earlier.results if r.status is ApplyStatus.APPLIED} if earlier else {}
    progress = ApplyProgress(
        audit_id=audit_id, plan_digest=plan_digest, plans=plans, results=[], applied_count=0, failed_count=0
    )
    failed = False
    for plan in sorted(plans, key=lambda p: p.order):
        if plan.plan_id in done:
            result = done[plan.plan_id]
        elif failed:
            result = _result(plan, ApplyStatus.SKIPPED, EARLIER_FAILED)
        elif plan.manual_inputs:
            result = _result(
                plan, ApplyStatus.SKIPPED, f"needs manual input: {', '.join(plan.manual_inputs)}"
            )
        else:
            try:
                execute_api_call(plan.api_call, clients=clients)
                result = _result(plan, ApplyStatus.APPLIED)
            except TransientError:
                _recount(progress)
                record(progress)
                raise
            except (SecAgentError, ClientError) as err:
                failed = True
                result = _result(plan, ApplyStatus.FAILED, f"{type(err).__name__}: {err}")
        progress.results.append(result)
        _recount(progress)
        record(progress)
    progress.complete = True
    record(progress)
    return progress
