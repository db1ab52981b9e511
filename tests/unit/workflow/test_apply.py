"""Apply Fixes on moto: order, manual inputs, first failure, and the record written after every plan."""

import random

import boto3
import pytest

from secagent.aws import ClientFactory, client_factory
from secagent.models import ApplyStatus, Plan, TransientError
from secagent.models.records import ApplyProgress
from secagent.workflow.apply import EARLIER_FAILED, apply_plans
from tests.unit.awsfakes import failing_clients
from tests.unit.workflow.conftest import AUDIT, BUCKET, record_calls

DIGEST = "d" * 64


class Recorder:
    """The ``record`` callback: a copy of the progress each time Apply records it."""

    def __init__(self) -> None:
        self.records: list[ApplyProgress] = []

    def __call__(self, progress: ApplyProgress) -> None:
        self.records.append(progress.model_copy(deep=True))

    @property
    def last(self) -> ApplyProgress:
        return self.records[-1]


def _apply(
    plans: list[Plan], clients: ClientFactory, earlier: ApplyProgress | None = None
) -> tuple[ApplyProgress, Recorder]:
    recorder = Recorder()
    return apply_plans(AUDIT, plans, DIGEST, earlier, recorder, clients=clients), recorder


def _versioning(session: boto3.Session) -> str | None:
    return session.client("s3").get_bucket_versioning(Bucket=BUCKET).get("Status")


def _automatic(plans: list[Plan]) -> list[Plan]:
    return [p for p in sorted(plans, key=lambda p: p.order) if not p.manual_inputs]


def test_apply_plans_runs_in_order_and_skips_manual_inputs(session: boto3.Session, plans: list[Plan]) -> None:
    # Given the plans in random order
    shuffled = random.Random(7).sample(plans, len(plans))
    # When
    progress, _ = _apply(shuffled, client_factory(session))
    # Then results follow `order`; plans needing a person are SKIPPED, the rest APPLIED
    assert [r.plan_id for r in progress.results] == [p.plan_id for p in sorted(plans, key=lambda p: p.order)]
    manual = {p.plan_id for p in plans if p.manual_inputs}
    assert manual, "the fixture should include plans with manual inputs (MFA delete, access logging)"
    for result in progress.results:
        if result.plan_id in manual:
            assert result.status is ApplyStatus.SKIPPED and result.applied_at is None
            assert (result.error or "").startswith("needs manual input: ")
        else:
            assert result.status is ApplyStatus.APPLIED and result.applied_at is not None
    assert progress.applied_count == len(plans) - len(manual) and progress.failed_count == 0
    assert (progress.audit_id, progress.plan_digest, progress.complete) == (AUDIT, DIGEST, True)
    assert _versioning(session) == "Enabled"


def test_apply_plans_records_progress_after_every_plan(session: boto3.Session, plans: list[Plan]) -> None:
    # When
    progress, recorder = _apply(plans, client_factory(session))
    # Then the record grows by one result per plan, then is marked complete
    assert [len(r.results) for r in recorder.records] == [*range(1, len(plans) + 1), len(plans)]
    assert [r.complete for r in recorder.records] == [False] * len(plans) + [True]
    assert recorder.last == progress
    # and each record counts what it holds, and keeps the plans as applied (a rollback needs them)
    for record in recorder.records:
        assert record.applied_count == sum(r.status is ApplyStatus.APPLIED for r in record.results)
        assert record.plans == plans and record.plan_digest == DIGEST


def test_apply_plans_first_failure_skips_the_rest(session: boto3.Session, plans: list[Plan]) -> None:
    # Given PutBucketVersioning is denied
    clients, hits = failing_clients(session, {"s3.PutBucketVersioning": (403, "AccessDenied")})
    # When
    progress, recorder = _apply(plans, clients)
    # Then earlier plans APPLIED, versioning FAILED, every later plan SKIPPED, and the run complete
    by_remediation = {r.remediation_id: r for r in progress.results}
    failed = by_remediation["s3.enable_versioning"]
    assert failed.status is ApplyStatus.FAILED and failed.error is not None
    assert failed.error.startswith("AccessDenied: ") and hits == ["s3.PutBucketVersioning"]
    position = progress.results.index(failed)
    assert all(r.status is not ApplyStatus.FAILED for r in progress.results[:position])
    assert progress.results[0].status is ApplyStatus.APPLIED
    assert {r.error for r in progress.results[position + 1 :]} == {EARLIER_FAILED}
    assert progress.failed_count == 1 and progress.complete and recorder.last.failed_count == 1
    assert progress.applied_count == sum(r.status is ApplyStatus.APPLIED for r in progress.results[:position])


def test_apply_plans_transient_error_before_any_change_records_nothing_applied_and_propagates(
    session: boto3.Session, plans: list[Plan]
) -> None:
    first = min(plans, key=lambda p: p.order)
    clients, _ = failing_clients(session, {f"s3.{first.api_call.operation}": (503, "SlowDown")})
    recorder = Recorder()
    with pytest.raises(TransientError):
        apply_plans(AUDIT, plans, DIGEST, None, recorder, clients=clients)
    assert [(r.results, r.complete) for r in recorder.records] == [([], False)]


def test_apply_plans_transient_error_midway_is_recorded_and_the_retry_does_not_reapply(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # Given PutBucketVersioning answers 503 once the earlier plans were applied
    automatic = _automatic(plans)
    throttled = next(i for i, p in enumerate(automatic) if p.api_call.operation == "PutBucketVersioning")
    earlier_plans = automatic[:throttled]
    assert earlier_plans, "versioning should not be the first plan"
    clients, _ = failing_clients(session, {"s3.PutBucketVersioning": (503, "SlowDown")})
    recorder = Recorder()
    # When Apply runs: the error propagates (Step Functions retries the task)
    with pytest.raises(TransientError):
        apply_plans(AUDIT, plans, DIGEST, None, recorder, clients=clients)
    # Then the record says the earlier plans are APPLIED, and is not complete
    record = recorder.last
    applied = {r.plan_id for r in record.results if r.status is ApplyStatus.APPLIED}
    assert applied == {p.plan_id for p in earlier_plans}
    assert record.complete is False and record.applied_count == len(earlier_plans)
    # When the retry runs with that record
    calls = record_calls(session)
    progress, _ = _apply(plans, client_factory(session), earlier=record)
    # Then it calls AWS for the remaining plans only, not again for the ones already applied
    assert calls == [f"{p.api_call.service}.{p.api_call.operation}" for p in automatic[throttled:]]
    assert {r.plan_id: r for r in progress.results if r.plan_id in applied} == {
        r.plan_id: r for r in record.results if r.plan_id in applied
    }  # the earlier results, with their applied_at, are kept as recorded
    assert progress.complete and progress.applied_count == len(automatic)
    assert _versioning(session) == "Enabled"


def test_apply_plans_results_serialise_in_the_contract_shape(
    session: boto3.Session, plans: list[Plan]
) -> None:
    progress, _ = _apply(plans[:1], client_factory(session))
    out = progress.to_json_dict()
    assert {"results", "appliedCount", "failedCount", "auditId", "planDigest", "plans", "complete"} == set(
        out
    )
    assert set(out["results"][0]) == {"planId", "remediationId", "checkIds", "status", "error", "appliedAt"}
    assert out["results"][0]["status"] == "APPLIED"
