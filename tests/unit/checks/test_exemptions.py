"""Exemptions (issue 8): bucket tags and the deploy-time allow-list turn accepted FAILs into EXEMPT."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from secagent.checks import analyze, registry
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings, AnalysisResult, AppliedSummary, Finding, Probe, Status
from secagent.models.settings import Exemption
from secagent.remediation import plan_remediations
from secagent.workflow.verify import compare
from tests.unit.checks.snapshots import BUCKET, policy_with, snapshot

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
POLICY = "s3_bucket_policy_public"
LIFECYCLE = "s3_bucket_lifecycle_missing"
PUBLIC_GET = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
REASON = "public website by design - see TICKET-42"
TAGGED = {"secagent:exempt": POLICY, "secagent:exempt-reason": REASON}


def public_snapshot(tags: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Fails exactly two checks: the public policy and the missing lifecycle configuration."""
    return snapshot(
        policy=policy_with(PUBLIC_GET),
        lifecycle_rules=Probe(value=None),
        tags=Probe(value={"team": "web", **(tags or {})}),
    )


def by_check(result: AnalysisResult) -> dict[str, Finding]:
    return {f.check_id: f for f in result.findings}


def test_failing_fixture_fails_exactly_two_checks() -> None:
    result = analyze(public_snapshot(), now=NOW)
    assert sorted(f.check_id for f in result.findings if f.status is Status.FAIL) == [LIFECYCLE, POLICY]
    assert (result.summary.fail, result.summary.exempt) == (2, 0)


# ---- tags -----------------------------------------------------------------------------------


def test_tag_exempts_one_check_keeping_its_evidence() -> None:
    # Given a bucket tagged exempt for the public-policy check, with a reason
    snap = public_snapshot({"secagent:exempt": POLICY, "secagent:exempt-reason": REASON})
    # When analyzed
    result = analyze(snap, now=NOW)
    # Then that check is EXEMPT with the original evidence and the exemption; the other still FAILs
    found = by_check(result)
    assert found[POLICY].status is Status.EXEMPT
    assert found[POLICY].evidence["publicStatements"] == [PUBLIC_GET]
    assert found[POLICY].evidence["exemption"] == {"source": "tag", "reason": REASON, "until": None}
    assert found[POLICY].remediation_id is None
    assert found[LIFECYCLE].status is Status.FAIL and "exemption" not in found[LIFECYCLE].evidence
    assert (result.summary.fail, result.summary.exempt) == (1, 1)


def test_tag_all_exempts_every_failing_check_and_leaves_passes_alone() -> None:
    snap = public_snapshot({"secagent:exempt": "all", "secagent:exempt-reason": REASON})
    result = analyze(snap, now=NOW)
    found = by_check(result)
    assert {found[POLICY].status, found[LIFECYCLE].status} == {Status.EXEMPT}
    assert all(f.status is Status.PASS for c, f in found.items() if c not in (POLICY, LIFECYCLE))
    assert result.summary.model_dump(by_alias=True) == {
        "pass": len(registry()) - 2,
        "fail": 0,
        "unknown": 0,
        "exempt": 2,
    }


def test_tag_naming_several_checks_separated_by_spaces() -> None:
    snap = public_snapshot({"secagent:exempt": f"{POLICY}  {LIFECYCLE}", "secagent:exempt-reason": REASON})
    assert analyze(snap, now=NOW).summary.exempt == 2


def test_tag_without_reason_does_not_apply_and_says_so() -> None:
    # Given the exempt tag but no (or a blank) reason tag
    for tags in ({"secagent:exempt": POLICY}, {"secagent:exempt": POLICY, "secagent:exempt-reason": "  "}):
        found = by_check(analyze(public_snapshot(tags), now=NOW))
        # Then the finding stays FAIL and its evidence says why the exemption did not apply
        assert found[POLICY].status is Status.FAIL
        assert found[POLICY].evidence["exemptionNotApplied"] == {
            "source": "tag",
            "why": "tag secagent:exempt-reason is missing or empty",
        }
        assert found[POLICY].remediation_id is not None
        # and a check the tag does not name is not annotated
        assert "exemptionNotApplied" not in found[LIFECYCLE].evidence


@pytest.mark.parametrize("until", ["2026-03-10", "2026-03-11", "2030-01-01"])
def test_tag_until_today_or_later_applies(until: str) -> None:
    tags = {**TAGGED, "secagent:exempt-until": until}
    finding = by_check(analyze(public_snapshot(tags), now=NOW))[POLICY]
    assert finding.status is Status.EXEMPT
    assert finding.evidence["exemption"]["until"] == until


def test_tag_until_in_the_past_does_not_apply_and_says_it_expired() -> None:
    tags = {**TAGGED, "secagent:exempt-until": "2026-03-09"}
    result = analyze(public_snapshot(tags), now=NOW)
    finding = by_check(result)[POLICY]
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionExpired"] == {"until": "2026-03-09", "source": "tag"}
    assert "exemption" not in finding.evidence
    assert (result.summary.fail, result.summary.exempt) == (2, 0)


def test_until_is_a_utc_day() -> None:
    tags = {**TAGGED, "secagent:exempt-until": "2026-03-10"}
    last_second = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)
    next_day = datetime(2026, 3, 11, 0, 0, 0, tzinfo=UTC)
    assert by_check(analyze(public_snapshot(tags), now=last_second))[POLICY].status is Status.EXEMPT
    assert by_check(analyze(public_snapshot(tags), now=next_day))[POLICY].status is Status.FAIL


@pytest.mark.parametrize("until", ["10/03/2026", "2026-3-1", "20260310", "tomorrow", "2026-02-30"])
def test_tag_malformed_until_does_not_apply_and_says_why(until: str) -> None:
    tags = {**TAGGED, "secagent:exempt-until": until}
    finding = by_check(analyze(public_snapshot(tags), now=NOW))[POLICY]
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionNotApplied"]["source"] == "tag"
    assert "secagent:exempt-until" in finding.evidence["exemptionNotApplied"]["why"]
    assert until in finding.evidence["exemptionNotApplied"]["why"]


def test_tag_unknown_check_ids_are_ignored_and_reported() -> None:
    # Given a tag naming one real check and a misspelt one
    tags = {"secagent:exempt": f"{POLICY} s3_bucket_lifecycle_mising", "secagent:exempt-reason": REASON}
    found = by_check(analyze(public_snapshot(tags), now=NOW))
    # Then the real one is exempt, the misspelt one changes nothing and is reported on the bucket's failures
    assert found[POLICY].status is Status.EXEMPT
    assert found[LIFECYCLE].status is Status.FAIL
    for check_id in (POLICY, LIFECYCLE):
        assert found[check_id].evidence["exemptionUnknownChecks"] == ["s3_bucket_lifecycle_mising"]


def test_tag_naming_only_unknown_checks_exempts_nothing_but_reports_them() -> None:
    tags = {"secagent:exempt": "s3_no_such_check", "secagent:exempt-reason": REASON}
    result = analyze(public_snapshot(tags), now=NOW)
    assert (result.summary.fail, result.summary.exempt) == (2, 0)
    assert by_check(result)[POLICY].evidence["exemptionUnknownChecks"] == ["s3_no_such_check"]


def test_unreadable_tags_exempt_nothing() -> None:
    snap = public_snapshot()
    snap.config.tags = Probe(state="unknown", reason="AccessDenied")
    assert analyze(snap, now=NOW).summary.fail == 2


def test_pass_and_unknown_findings_are_never_exempted() -> None:
    snap = snapshot(tags=Probe(value={"secagent:exempt": "all", "secagent:exempt-reason": REASON}))
    snap.config.logging = Probe(state="unknown", reason="AccessDenied")
    result = analyze(snap, now=NOW)
    assert result.summary.exempt == 0 and result.summary.unknown == 1
    assert all("exemption" not in f.evidence for f in result.findings)


# ---- deploy-time allow-list -----------------------------------------------------------------


def test_allow_list_entry_exempts_its_checks_on_its_bucket_only() -> None:
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[POLICY], reason=REASON)])
    found = by_check(analyze(public_snapshot(), settings, now=NOW))
    assert found[POLICY].status is Status.EXEMPT
    assert found[POLICY].evidence["exemption"] == {"source": "deployment", "reason": REASON, "until": None}
    assert found[LIFECYCLE].status is Status.FAIL
    other = AgentSettings(exemptions=[Exemption(bucket="another-bucket", checks="all", reason=REASON)])
    assert analyze(public_snapshot(), other, now=NOW).summary.exempt == 0


def test_allow_list_until_expired_reports_expiry() -> None:
    settings = AgentSettings(
        exemptions=[Exemption(bucket=BUCKET, checks="all", reason=REASON, until=date(2026, 1, 31))]
    )
    found = by_check(analyze(public_snapshot(), settings, now=NOW))
    assert found[POLICY].status is Status.FAIL
    assert found[POLICY].evidence["exemptionExpired"] == {"until": "2026-01-31", "source": "deployment"}


def test_active_allow_list_wins_over_an_expired_tag() -> None:
    tags = {"secagent:exempt": "all", "secagent:exempt-reason": "old", "secagent:exempt-until": "2020-01-01"}
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[POLICY], reason=REASON)])
    found = by_check(analyze(public_snapshot(tags), settings, now=NOW))
    assert found[POLICY].evidence["exemption"]["source"] == "deployment"
    assert found[LIFECYCLE].evidence["exemptionExpired"] == {"until": "2020-01-01", "source": "tag"}


def test_allow_list_from_env_json() -> None:
    raw = json.dumps(
        [
            {"bucket": BUCKET, "checks": [POLICY], "reason": REASON, "until": "2026-12-31"},
            {"bucket": "site", "checks": "all", "reason": "website"},
        ]
    )
    settings = AgentSettings.from_env({"SECAGENT_EXEMPTIONS": raw})
    assert settings.exemptions == [
        Exemption(bucket=BUCKET, checks=[POLICY], reason=REASON, until=date(2026, 12, 31)),
        Exemption(bucket="site", checks="all", reason="website"),
    ]
    assert AgentSettings.from_env({}).exemptions == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "JSON list"),
        ('{"bucket": "b"}', "JSON list"),
        ('[{"bucket": "b", "checks": "all"}]', "reason"),
        ('[{"bucket": "b", "checks": "all", "reason": " "}]', "must not be empty"),
        ('[{"bucket": "b", "checks": [], "reason": "r"}]', "at least one check"),
        ('[{"bucket": "b", "checks": "some", "reason": "r"}]', "checks"),
        ('[{"bucket": "b", "checks": "all", "reason": "r", "until": "someday"}]', "until"),
        ('[{"bucket": "b", "checks": "all", "reason": "r", "owner": "x"}]', "owner"),
    ],
)
def test_allow_list_malformed_env_is_refused(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AgentSettings.from_env({"SECAGENT_EXEMPTIONS": raw})


def test_allow_list_unknown_check_fails_the_analysis() -> None:
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=["s3_no_such_check"], reason="r")])
    with pytest.raises(ValueError, match="s3_no_such_check"):
        analyze(public_snapshot(), settings, now=NOW)


# ---- remediation and verification -----------------------------------------------------------


def test_planner_proposes_nothing_for_exempt_findings() -> None:
    snap = public_snapshot({"secagent:exempt": POLICY, "secagent:exempt-reason": REASON})
    result = analyze(snap, now=NOW)
    plans = plan_remediations(snap, result)
    assert [c for p in plans.plans for c in p.check_ids] == [LIFECYCLE]
    assert POLICY not in plans.unplanned
    # and with everything exempt, nothing at all
    snap = public_snapshot({"secagent:exempt": "all", "secagent:exempt-reason": REASON})
    empty = plan_remediations(snap, analyze(snap, now=NOW))
    assert (empty.plans, empty.unplanned) == ([], [])


def test_verify_comparison_treats_exempt_as_neither_fixed_nor_failing() -> None:
    snap = public_snapshot({"secagent:exempt": POLICY, "secagent:exempt-reason": REASON})
    findings = analyze(snap, now=NOW).findings
    nothing = AppliedSummary(results=[], applied_count=0, failed_count=0)
    verification = compare(findings, findings, nothing)
    row = next(c for c in verification.comparison if c.check_id == POLICY)
    assert (row.before, row.after, row.fixed) == (Status.EXEMPT, Status.EXEMPT, False)
    assert verification.still_failing == [LIFECYCLE]
    assert verification.all_fixed is False
    assert (verification.summary.fail, verification.summary.exempt) == (1, 1)


# ---- discovered from a real tag set (moto) --------------------------------------------------


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_tagged_bucket_discovered_yields_exempt_for_the_tagged_check(session: boto3.Session) -> None:
    # Given a bucket with a public policy, tagged exempt for the public-policy check
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    policy = {"Version": "2012-10-17", "Statement": [PUBLIC_GET]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3.put_bucket_tagging(
        Bucket=BUCKET,
        Tagging={
            "TagSet": [
                {"Key": "secagent:exempt", "Value": POLICY},
                {"Key": "secagent:exempt-reason", "Value": "public website: static assets only"},
                {"Key": "secagent:exempt-until", "Value": "2099-12-31"},
            ]
        },
    )
    # When discovered and analyzed
    result = analyze(discover_bucket(BUCKET, session))
    # Then the public-policy finding is EXEMPT with the tag's reason, and not planned
    found = by_check(result)
    assert found[POLICY].status is Status.EXEMPT
    assert found[POLICY].evidence["exemption"] == {
        "source": "tag",
        "reason": "public website: static assets only",
        "until": "2099-12-31",
    }
    assert result.summary.exempt == 1 and result.summary.fail > 0  # the bare bucket fails other checks
    plans = plan_remediations(discover_bucket(BUCKET, session), result).plans
    assert POLICY not in {c for p in plans for c in p.check_ids}
