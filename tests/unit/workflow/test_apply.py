"""Apply Fixes on moto: order, approval scope, manual inputs, first failure, transient errors."""

import random

import boto3
import pytest

from secagent.models import ApplyStatus, ApprovalDecision, Plan, TransientError
from secagent.workflow.apply import EARLIER_FAILED, apply_plans
from tests.unit.awsfakes import failing_clients
from tests.unit.workflow.conftest import BUCKET

APPROVE = ApprovalDecision(decision="approve", approver="alice")


def _versioning(session: boto3.Session) -> str | None:
    return session.client("s3").get_bucket_versioning(Bucket=BUCKET).get("Status")


def test_apply_plans_approved_runs_in_order_and_skips_manual_inputs(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # Given the plans in random order
    shuffled = random.Random(7).sample(plans, len(plans))
    # When
    summary = apply_plans(shuffled, APPROVE, session)
    # Then results follow `order`; plans needing a person are SKIPPED, the rest APPLIED
    assert [r.plan_id for r in summary.results] == [p.plan_id for p in sorted(plans, key=lambda p: p.order)]
    manual = {p.plan_id for p in plans if p.manual_inputs}
    assert manual, "the fixture should include plans with manual inputs (MFA delete, access logging)"
    for result in summary.results:
        if result.plan_id in manual:
            assert result.status is ApplyStatus.SKIPPED and result.applied_at is None
            assert (result.error or "").startswith("needs manual input: ")
        else:
            assert result.status is ApplyStatus.APPLIED and result.applied_at is not None
    assert summary.applied_count == len(plans) - len(manual) and summary.failed_count == 0
    assert _versioning(session) == "Enabled"


def test_apply_plans_rejected_applies_nothing(session: boto3.Session, plans: list[Plan]) -> None:
    summary = apply_plans(plans, ApprovalDecision(decision="reject"), session)
    assert {(r.status, r.error) for r in summary.results} == {(ApplyStatus.SKIPPED, "not approved")}
    assert (summary.applied_count, summary.failed_count) == (0, 0)
    assert _versioning(session) is None


def test_apply_plans_remediation_ids_restrict_approval(session: boto3.Session, plans: list[Plan]) -> None:
    # Given only versioning is approved
    approval = ApprovalDecision(decision="approve", remediation_ids=["s3.enable_versioning"])
    # When
    summary = apply_plans(plans, approval, session)
    # Then
    applied = [r.remediation_id for r in summary.results if r.status is ApplyStatus.APPLIED]
    assert applied == ["s3.enable_versioning"]
    assert _versioning(session) == "Enabled"
    assert {r.error for r in summary.results if r.status is ApplyStatus.SKIPPED} == {"not approved"}


def test_apply_plans_first_failure_skips_the_rest(session: boto3.Session, plans: list[Plan]) -> None:
    # Given PutBucketVersioning is denied
    clients, hits = failing_clients(session, {"s3.PutBucketVersioning": (403, "AccessDenied")})
    # When
    summary = apply_plans(plans, APPROVE, session, clients=clients)
    # Then earlier plans APPLIED, versioning FAILED, every later plan SKIPPED
    by_remediation = {r.remediation_id: r for r in summary.results}
    failed = by_remediation["s3.enable_versioning"]
    assert failed.status is ApplyStatus.FAILED and failed.error is not None
    assert failed.error.startswith("AccessDenied: ") and hits == ["s3.PutBucketVersioning"]
    position = summary.results.index(failed)
    assert all(r.status is not ApplyStatus.FAILED for r in summary.results[:position])
    assert summary.results[0].status is ApplyStatus.APPLIED
    assert {r.error for r in summary.results[position + 1 :]} == {EARLIER_FAILED}
    assert summary.failed_count == 1
    assert summary.applied_count == sum(r.status is ApplyStatus.APPLIED for r in summary.results[:position])


def test_apply_plans_transient_error_before_any_change_propagates_for_retry(
    session: boto3.Session, plans: list[Plan]
) -> None:
    first = min(plans, key=lambda p: p.order)
    clients, _ = failing_clients(session, {f"s3.{first.api_call.operation}": (503, "SlowDown")})
    with pytest.raises(TransientError):
        apply_plans(plans, APPROVE, session, clients=clients)


def test_apply_plans_transient_error_after_changes_is_recorded_failed(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # Given earlier plans were applied: a task retry would lose the record of what changed
    clients, _ = failing_clients(session, {"s3.PutBucketVersioning": (503, "SlowDown")})
    # When
    summary = apply_plans(plans, APPROVE, session, clients=clients)
    # Then
    failed = next(r for r in summary.results if r.status is ApplyStatus.FAILED)
    assert failed.remediation_id == "s3.enable_versioning"
    assert (failed.error or "").startswith("TransientError: ")
    assert summary.applied_count > 0


def test_apply_plans_serialises_contract_shape(session: boto3.Session, plans: list[Plan]) -> None:
    out = apply_plans(plans[:1], APPROVE, session).to_json_dict()
    assert set(out) == {"results", "appliedCount", "failedCount"}
    assert set(out["results"][0]) == {"planId", "remediationId", "checkIds", "status", "error", "appliedAt"}
    assert out["results"][0]["status"] == "APPLIED"
