"""Verify Fixes: re-discover, re-analyze, compare per check."""

import boto3

from secagent.aws import client_factory
from secagent.models import (
    AnalysisResult,
    AppliedSummary,
    ApplyResult,
    ApplyStatus,
    Finding,
    Outcome,
    Plan,
    ResourceRef,
    Severity,
    Status,
)
from secagent.workflow.apply import apply_plans
from secagent.workflow.verify import compare, verify
from tests.unit.workflow.conftest import AUDIT, BUCKET, SETTINGS

NOTHING_APPLIED = AppliedSummary(results=[], applied_count=0, failed_count=0)


# moto drops BlockedEncryptionTypes from PutBucketEncryption: the SSE-C fix cannot turn PASS there
# (LocalStack keeps it; the deployed tests cover that fix).
SSE_C = "s3_bucket_sse_c_allowed"


def _never_planned(before: AnalysisResult) -> set[str]:
    return {f.check_id for f in before.findings if f.status is Status.FAIL and f.remediation_id is None}


def test_verify_after_apply_reports_fixed_checks_and_all_fixed(
    session: boto3.Session, before: AnalysisResult, plans: list[Plan]
) -> None:
    # Given every runnable plan moto can carry out was applied on the bucket
    runnable = [p for p in plans if SSE_C not in p.check_ids]
    assert len(runnable) == len(plans) - 1
    applied = apply_plans(AUDIT, runnable, "d" * 64, None, lambda _: None, clients=client_factory(session))
    targeted = {c for r in applied.results if r.status is ApplyStatus.APPLIED for c in r.check_ids}
    # When
    result = verify(ResourceRef(id=BUCKET), before.findings, applied, session, SETTINGS)
    # Then every applied plan's check went FAIL -> PASS
    rows = {c.check_id: c for c in result.comparison}
    assert {c for c in targeted if rows[c].fixed} == targeted
    assert all((rows[c].before, rows[c].after) == (Status.FAIL, Status.PASS) for c in targeted)
    assert result.all_fixed is True
    # and the checks no applied plan covered are still failing: the skipped plans', the SSE-C
    # plan left out, and the verdicts no fix is proposed for (S3.11; S3.17 with require_kms off)
    skipped = {c for r in applied.results if r.status is ApplyStatus.SKIPPED for c in r.check_ids}
    assert _never_planned(before) == {"s3_bucket_event_notifications_disabled", "s3_bucket_sse_kms_not_used"}
    still = skipped | {SSE_C} | _never_planned(before)
    assert set(result.still_failing) == still
    assert result.summary.fail == len(still)
    assert len(result.comparison) == len(before.findings)


def test_verify_after_apply_on_moto_reports_the_sse_c_fix_moto_dropped(
    session: boto3.Session, before: AnalysisResult, plans: list[Plan]
) -> None:
    # Given every runnable plan was applied, the SSE-C block included (moto accepts the call)
    applied = apply_plans(AUDIT, plans, "d" * 64, None, lambda _: None, clients=client_factory(session))
    (sse_c,) = [r for r in applied.results if SSE_C in r.check_ids]
    assert sse_c.status is ApplyStatus.APPLIED
    # When
    result = verify(ResourceRef(id=BUCKET), before.findings, applied, session, SETTINGS)
    # Then verification tells the truth: the check is still failing, so not everything was fixed
    rows = {c.check_id: c for c in result.comparison}
    assert (rows[SSE_C].before, rows[SSE_C].after, rows[SSE_C].fixed) == (Status.FAIL, Status.FAIL, False)
    assert result.all_fixed is False and SSE_C in result.still_failing


def test_verify_nothing_applied_is_not_all_fixed(session: boto3.Session, before: AnalysisResult) -> None:
    result = verify(ResourceRef(id=BUCKET), before.findings, NOTHING_APPLIED, session, SETTINGS)
    assert result.all_fixed is False
    assert not any(c.fixed for c in result.comparison)
    assert set(result.still_failing) == {f.check_id for f in before.findings if f.status is Status.FAIL}


def _finding(check_id: str, status: Status, resource: str = BUCKET) -> Finding:
    return Finding(
        check_id=check_id,
        title=check_id.replace("_", " "),
        severity=Severity.HIGH,
        status=status,
        controls=[],
        resource_id=resource,
    )


def test_compare_check_missing_on_one_side_is_none_and_not_fixed() -> None:
    result = compare([_finding("old", Status.FAIL)], [_finding("new", Status.PASS)], NOTHING_APPLIED)
    assert [(c.check_id, c.before, c.after, c.fixed) for c in result.comparison] == [
        ("old", Status.FAIL, None, False),
        ("new", None, Status.PASS, False),
    ]


def test_compare_check_with_several_findings_takes_worst_status() -> None:
    after = [_finding("c", Status.PASS), _finding("c", Status.UNKNOWN, "other")]
    result = compare([_finding("c", Status.FAIL)], after, NOTHING_APPLIED)
    assert (result.comparison[0].after, result.comparison[0].fixed) == (Status.UNKNOWN, False)


def test_compare_applied_check_still_failing_is_not_all_fixed() -> None:
    applied = AppliedSummary.model_validate(
        {
            "results": [
                {"planId": "01", "remediationId": "r", "checkIds": ["c"], "status": "APPLIED"},
            ],
            "appliedCount": 1,
            "failedCount": 0,
        }
    )
    result = compare([_finding("c", Status.FAIL)], [_finding("c", Status.FAIL)], applied)
    assert (result.all_fixed, result.still_failing) == (False, ["c"])


def _applied(*results: tuple[str, str]) -> AppliedSummary:
    return AppliedSummary.model_validate(
        {
            "results": [
                {"planId": f"0{i}", "remediationId": f"r{i}", "checkIds": [check], "status": status}
                for i, (check, status) in enumerate(results)
            ],
            "appliedCount": sum(status == "APPLIED" for _, status in results),
            "failedCount": sum(status == "FAILED" for _, status in results),
        }
    )


def test_compare_a_failed_plan_means_not_all_fixed_even_if_the_applied_ones_pass() -> None:
    applied = _applied(("a", "APPLIED"), ("b", "FAILED"))
    before = [_finding("a", Status.FAIL), _finding("b", Status.FAIL)]
    after = [_finding("a", Status.PASS), _finding("b", Status.FAIL)]
    assert compare(before, after, applied).all_fixed is False


def test_compare_rollback_expects_the_old_verdicts_back() -> None:
    applied = _applied(("a", "APPLIED"))
    undone = compare([_finding("a", Status.PASS)], [_finding("a", Status.FAIL)], applied, {"a": Status.FAIL})
    still_fixed = compare(
        [_finding("a", Status.PASS)], [_finding("a", Status.PASS)], applied, {"a": Status.FAIL}
    )
    assert (undone.all_fixed, still_fixed.all_fixed) == (True, False)


def test_a_check_that_failed_and_cannot_judge_after_the_fix_is_still_failing() -> None:
    # Given SSH fixed and applied, and the high-risk-port check (not approved) unreadable afterwards
    def finding(check_id: str, status: Status) -> Finding:
        return Finding(
            check_id=check_id,
            title=check_id,
            severity=Severity.HIGH,
            status=status,
            controls=[],
            resource_id="sg-1",
        )

    before = [finding("ssh", Status.FAIL), finding("high_risk", Status.FAIL)]
    after = [finding("ssh", Status.PASS), finding("high_risk", Status.UNKNOWN)]
    applied = AppliedSummary(
        results=[
            ApplyResult(plan_id="01-ssh", remediation_id="ssh", check_ids=["ssh"], status=ApplyStatus.APPLIED)
        ],
        applied_count=1,
        failed_count=0,
    )
    # When Verify compares, Then it never claims REMEDIATED: the unjudged check still counts as failing
    result = compare(before, after, applied)
    assert result.still_failing == ["high_risk"]
    assert result.outcome is Outcome.PARTIALLY_REMEDIATED
