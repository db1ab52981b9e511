"""Exemptions (issue 8): bucket tags and the deploy-time allow-list turn accepted FAILs into EXEMPT."""

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from moto import mock_aws
from pydantic import ValidationError

from secagent.checks import analyze
from secagent.checks.exemptions import TAG_MAX_DAYS
from secagent.checks.registry import checks_for
from secagent.discovery import discover_bucket
from secagent.models import (
    AgentSettings,
    AnalysisResult,
    AppliedSummary,
    Finding,
    Probe,
    PublicAccessBlock,
    Severity,
    Status,
    Versioning,
)
from secagent.models.settings import Exemption
from secagent.models.snapshot import BUCKET as BUCKET_TYPE
from secagent.remediation import plan_remediations
from secagent.workflow.verify import compare
from tests.unit.checks.snapshots import BUCKET, policy_with, snapshot

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
TODAY = NOW.date()
POLICY = "s3_bucket_policy_public"  # CRITICAL: a tag can never exempt it
VERSIONING = "s3_bucket_versioning_disabled"  # MEDIUM
LIFECYCLE = "s3_bucket_lifecycle_missing"  # LOW
BUCKET_BPA = "s3_bucket_block_public_access_off"  # HIGH
ACCOUNT_BPA = "s3_account_block_public_access_off"  # HIGH
NO_RESTRICT = PublicAccessBlock(block_public_acls=True, ignore_public_acls=True, block_public_policy=True)
PUBLIC_GET = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
REASON = "public website by design - see TICKET-42"
UNTIL = (TODAY + timedelta(days=30)).isoformat()  # 2026-04-09: well within the 90 days a tag allows
TAG_GRANTED_BY = "bucket tags secagent:exempt, secagent:exempt-reason, secagent:exempt-until"
DEPLOY_GRANTED_BY = "deploy-time exemptions setting (SECAGENT_EXEMPTIONS)"
CRITICAL_WHY = (
    "a bucket tag cannot exempt a CRITICAL finding; only the deploy-time exemptions setting "
    "(SECAGENT_EXEMPTIONS) can"
)


def exempt_tags(checks: str, reason: str | None = REASON, until: str | None = UNTIL) -> dict[str, str]:
    """The exemption tags; by default a valid reason and an expiry 30 days after NOW."""
    tags = {"secagent:exempt": checks}
    if reason is not None:
        tags["secagent:exempt-reason"] = reason
    if until is not None:
        tags["secagent:exempt-until"] = until
    return tags


def public_snapshot(tags: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """Fails exactly five checks: the public policy (CRITICAL; Block Public Access is partly off at
    both levels, or it would neutralise it: both HIGH), versioning (MEDIUM), lifecycle (LOW)."""
    return snapshot(
        policy=policy_with(PUBLIC_GET),
        public_access_block=Probe(value=NO_RESTRICT),
        account_public_access_block=Probe(value=NO_RESTRICT),
        versioning=Probe(value=Versioning(status="Suspended", mfa_delete="Enabled")),
        lifecycle_rules=Probe(value=None),
        tags=Probe(value={"team": "web", **(tags or {})}),
    )


def by_check(result: AnalysisResult) -> dict[str, Finding]:
    return {f.check_id: f for f in result.findings}


def test_failing_fixture_fails_exactly_five_checks_one_critical() -> None:
    result = analyze(public_snapshot(), now=NOW)
    failing = {f.check_id: f.severity for f in result.findings if f.status is Status.FAIL}
    assert failing == {
        POLICY: Severity.CRITICAL,
        BUCKET_BPA: Severity.HIGH,
        ACCOUNT_BPA: Severity.HIGH,
        VERSIONING: Severity.MEDIUM,
        LIFECYCLE: Severity.LOW,
    }
    assert (result.summary.fail, result.summary.exempt) == (5, 0)


def test_the_tag_limit_is_ninety_days() -> None:
    assert TAG_MAX_DAYS == 90


# ---- tags -----------------------------------------------------------------------------------


def test_tag_exempts_one_check_keeping_its_evidence_and_saying_who_granted_it() -> None:
    # Given a bucket tagged exempt for the lifecycle check, with a reason and an expiry in 30 days
    snap = public_snapshot(exempt_tags(LIFECYCLE))
    # When analyzed
    result = analyze(snap, now=NOW)
    # Then that check is EXEMPT with the original evidence and the exemption, naming the tags that
    # granted it; the others still FAIL
    found = by_check(result)
    assert found[LIFECYCLE].status is Status.EXEMPT
    assert found[LIFECYCLE].evidence["rules"] == []
    assert found[LIFECYCLE].evidence["exemption"] == {
        "source": "tag",
        "reason": REASON,
        "until": UNTIL,
        "grantedBy": TAG_GRANTED_BY,
    }
    assert found[LIFECYCLE].remediation_id is None
    for other in (POLICY, VERSIONING):
        assert found[other].status is Status.FAIL
        assert not {"exemption", "exemptionNotApplied"} & found[other].evidence.keys()
    assert (result.summary.fail, result.summary.exempt) == (4, 1)


def test_tag_all_exempts_every_failing_non_critical_check_and_leaves_passes_alone() -> None:
    # Given a bucket tagged exempt for all checks
    result = analyze(public_snapshot(exempt_tags("all")), now=NOW)
    found = by_check(result)
    # Then its non-critical failures are EXEMPT, the CRITICAL one still FAILs, passes are untouched
    non_critical = (VERSIONING, LIFECYCLE, BUCKET_BPA, ACCOUNT_BPA)
    assert {found[c].status for c in non_critical} == {Status.EXEMPT}
    assert found[POLICY].status is Status.FAIL
    assert found[POLICY].evidence["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert all(f.status is Status.PASS for c, f in found.items() if c not in (POLICY, *non_critical))
    assert result.summary.model_dump(by_alias=True) == {
        "pass": len(checks_for(BUCKET_TYPE)) - 5,
        "fail": 1,
        "unknown": 0,
        "exempt": 4,
    }


def test_tag_naming_several_checks_separated_by_spaces() -> None:
    snap = public_snapshot(exempt_tags(f"{VERSIONING}  {LIFECYCLE}"))
    assert analyze(snap, now=NOW).summary.exempt == 2


def test_tag_without_reason_does_not_apply_and_says_so() -> None:
    # Given the exempt tag (with an expiry) but no, or a blank, reason tag
    for tags in (exempt_tags(LIFECYCLE, reason=None), exempt_tags(LIFECYCLE, reason="  ")):
        found = by_check(analyze(public_snapshot(tags), now=NOW))
        # Then the finding stays FAIL and its evidence says why the exemption did not apply
        assert found[LIFECYCLE].status is Status.FAIL
        assert found[LIFECYCLE].evidence["exemptionNotApplied"] == {
            "source": "tag",
            "why": "tag secagent:exempt-reason is missing or empty",
        }
        assert found[LIFECYCLE].remediation_id is not None
        # and a check the tag does not name is not annotated
        assert "exemptionNotApplied" not in found[VERSIONING].evidence


def test_tag_without_expiry_does_not_apply_and_says_so() -> None:
    # Given the exempt tag and a reason, but no (or a blank) expiry tag
    for tags in (exempt_tags(LIFECYCLE, until=None), exempt_tags(LIFECYCLE, until=" ")):
        # When analyzed
        result = analyze(public_snapshot(tags), now=NOW)
        # Then nothing is exempt: the finding stays FAIL, keeps its remediation, and says why
        finding = by_check(result)[LIFECYCLE]
        assert finding.status is Status.FAIL
        assert finding.remediation_id is not None
        assert finding.evidence["exemptionNotApplied"] == {
            "source": "tag",
            "why": "tag secagent:exempt-until is missing or empty: "
            "a tag exemption must expire within 90 days",
        }
        assert (result.summary.fail, result.summary.exempt) == (5, 0)


def test_tag_expiry_91_days_ahead_does_not_apply_and_says_so() -> None:
    # Given a tag exemption whose expiry is 91 days after the evaluation day
    until = (TODAY + timedelta(days=91)).isoformat()  # 2026-06-09
    # When analyzed
    result = analyze(public_snapshot(exempt_tags(LIFECYCLE, until=until)), now=NOW)
    # Then it does not apply, and the finding says the expiry is too far ahead and what is allowed
    finding = by_check(result)[LIFECYCLE]
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionNotApplied"] == {
        "source": "tag",
        "why": "tag secagent:exempt-until 2026-06-09 is more than 90 days after today (2026-03-10); "
        "the latest allowed is 2026-06-08",
    }
    assert "exemption" not in finding.evidence and "exemptionExpired" not in finding.evidence
    assert (result.summary.fail, result.summary.exempt) == (5, 0)


def test_tag_expiry_exactly_90_days_ahead_applies() -> None:
    # Given a tag exemption whose expiry is exactly 90 days after the evaluation day
    until = (TODAY + timedelta(days=90)).isoformat()  # 2026-06-08
    # When analyzed
    finding = by_check(analyze(public_snapshot(exempt_tags(LIFECYCLE, until=until)), now=NOW))[LIFECYCLE]
    # Then it applies
    assert finding.status is Status.EXEMPT
    assert finding.evidence["exemption"]["until"] == until
    assert "exemptionNotApplied" not in finding.evidence


def test_tag_expiry_limit_counts_from_the_evaluation_day() -> None:
    # Given a tag expiring 2026-06-08: 90 days after NOW's day, 91 after the day before
    tags = exempt_tags(LIFECYCLE, until="2026-06-08")
    # When evaluated at the last second of the day before NOW, and at NOW
    day_before = datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC)
    # Then it is refused the day before (too far ahead) and applies on NOW's day
    assert by_check(analyze(public_snapshot(tags), now=day_before))[LIFECYCLE].status is Status.FAIL
    assert by_check(analyze(public_snapshot(tags), now=NOW))[LIFECYCLE].status is Status.EXEMPT


@pytest.mark.parametrize("until", ["2026-03-10", "2026-03-11", "2026-06-08"])
def test_tag_until_today_or_later_within_90_days_applies(until: str) -> None:
    finding = by_check(analyze(public_snapshot(exempt_tags(LIFECYCLE, until=until)), now=NOW))[LIFECYCLE]
    assert finding.status is Status.EXEMPT
    assert finding.evidence["exemption"]["until"] == until


@pytest.mark.parametrize("until", ["2026-06-09", "2027-01-01", "2099-12-31"])
def test_tag_until_beyond_90_days_does_not_apply(until: str) -> None:
    finding = by_check(analyze(public_snapshot(exempt_tags(LIFECYCLE, until=until)), now=NOW))[LIFECYCLE]
    assert finding.status is Status.FAIL
    assert "more than 90 days" in finding.evidence["exemptionNotApplied"]["why"]


def test_tag_until_in_the_past_does_not_apply_and_says_it_expired() -> None:
    result = analyze(public_snapshot(exempt_tags(LIFECYCLE, until="2026-03-09")), now=NOW)
    finding = by_check(result)[LIFECYCLE]
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionExpired"] == {"until": "2026-03-09", "source": "tag"}
    assert "exemption" not in finding.evidence
    assert (result.summary.fail, result.summary.exempt) == (5, 0)


def test_until_is_a_utc_day() -> None:
    tags = exempt_tags(LIFECYCLE, until="2026-03-10")
    last_second = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)
    next_day = datetime(2026, 3, 11, 0, 0, 0, tzinfo=UTC)
    assert by_check(analyze(public_snapshot(tags), now=last_second))[LIFECYCLE].status is Status.EXEMPT
    assert by_check(analyze(public_snapshot(tags), now=next_day))[LIFECYCLE].status is Status.FAIL


@pytest.mark.parametrize("until", ["10/03/2026", "2026-3-1", "20260310", "tomorrow", "2026-02-30"])
def test_tag_malformed_until_does_not_apply_and_says_why(until: str) -> None:
    finding = by_check(analyze(public_snapshot(exempt_tags(LIFECYCLE, until=until)), now=NOW))[LIFECYCLE]
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionNotApplied"]["source"] == "tag"
    assert "secagent:exempt-until" in finding.evidence["exemptionNotApplied"]["why"]
    assert until in finding.evidence["exemptionNotApplied"]["why"]


def test_tag_cannot_exempt_a_critical_finding() -> None:
    # Given a valid tag exemption (reason, expiry in 30 days) naming the CRITICAL public-policy check
    snap = public_snapshot(exempt_tags(POLICY))
    # When analyzed
    result = analyze(snap, now=NOW)
    # Then the CRITICAL finding stays FAIL, keeps its remediation, and says only the deploy-time
    # allow-list could exempt it
    finding = by_check(result)[POLICY]
    assert finding.severity is Severity.CRITICAL
    assert finding.status is Status.FAIL
    assert finding.remediation_id is not None
    assert finding.evidence["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert "exemption" not in finding.evidence
    assert (result.summary.fail, result.summary.exempt) == (5, 0)
    # and it is still planned for remediation
    assert POLICY in {c for p in plan_remediations(snap, result).plans for c in p.check_ids}


@pytest.mark.parametrize(
    "tags",
    [
        exempt_tags(POLICY, until=None),  # no expiry
        exempt_tags(POLICY, until="2099-12-31"),  # too far ahead
        exempt_tags(POLICY, until="2020-01-01"),  # expired
        exempt_tags(POLICY, reason=None),  # no reason
    ],
)
def test_critical_finding_says_tags_cannot_exempt_it_whatever_else_is_wrong_with_the_tag(
    tags: dict[str, str],
) -> None:
    # Given a tag exemption naming the CRITICAL check that would be refused for another reason too
    # When analyzed
    finding = by_check(analyze(public_snapshot(tags), now=NOW))[POLICY]
    # Then the finding gives the reason that fixing the tag would not change
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert "exemptionExpired" not in finding.evidence


def test_tag_unknown_check_ids_are_ignored_and_reported() -> None:
    # Given a tag naming one real check and a misspelt one
    tags = exempt_tags(f"{LIFECYCLE} s3_bucket_versioning_disabld")
    found = by_check(analyze(public_snapshot(tags), now=NOW))
    # Then the real one is exempt, the misspelt one changes nothing and is reported on the bucket's failures
    assert found[LIFECYCLE].status is Status.EXEMPT
    assert found[VERSIONING].status is Status.FAIL
    for check_id in (POLICY, VERSIONING, LIFECYCLE):
        assert found[check_id].evidence["exemptionUnknownChecks"] == ["s3_bucket_versioning_disabld"]


def test_tag_naming_only_unknown_checks_exempts_nothing_but_reports_them() -> None:
    result = analyze(public_snapshot(exempt_tags("s3_no_such_check")), now=NOW)
    assert (result.summary.fail, result.summary.exempt) == (5, 0)
    assert by_check(result)[LIFECYCLE].evidence["exemptionUnknownChecks"] == ["s3_no_such_check"]


def test_unreadable_tags_exempt_nothing() -> None:
    snap = public_snapshot()
    snap.config.tags = Probe(state="unknown", reason="AccessDenied")
    assert analyze(snap, now=NOW).summary.fail == 5


def test_pass_and_unknown_findings_are_never_exempted() -> None:
    snap = snapshot(tags=Probe(value=exempt_tags("all")))
    snap.config.logging = Probe(state="unknown", reason="AccessDenied")
    result = analyze(snap, now=NOW)
    assert result.summary.exempt == 0 and result.summary.unknown == 1
    assert all("exemption" not in f.evidence for f in result.findings)


# ---- deploy-time allow-list -----------------------------------------------------------------


def test_allow_list_entry_exempts_its_checks_on_its_bucket_only() -> None:
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[LIFECYCLE], reason=REASON)])
    found = by_check(analyze(public_snapshot(), settings, now=NOW))
    assert found[LIFECYCLE].status is Status.EXEMPT
    assert found[VERSIONING].status is Status.FAIL
    other = AgentSettings(exemptions=[Exemption(bucket="another-bucket", checks="all", reason=REASON)])
    assert analyze(public_snapshot(), other, now=NOW).summary.exempt == 0


def test_allow_list_exempts_a_critical_finding_without_expiry_and_says_who_granted_it() -> None:
    # Given a deploy-time exemption, without expiry, for the CRITICAL public-policy check
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[POLICY], reason=REASON)])
    # When analyzed
    result = analyze(public_snapshot(), settings, now=NOW)
    # Then the CRITICAL finding is EXEMPT and its evidence names the deploy-time setting
    finding = by_check(result)[POLICY]
    assert finding.severity is Severity.CRITICAL
    assert finding.status is Status.EXEMPT
    assert finding.remediation_id is None
    assert finding.evidence["exemption"] == {
        "source": "deployment",
        "reason": REASON,
        "until": None,
        "grantedBy": DEPLOY_GRANTED_BY,
    }
    assert "exemptionNotApplied" not in finding.evidence
    assert (result.summary.fail, result.summary.exempt) == (4, 1)


def test_allow_list_expiry_may_be_more_than_90_days_ahead() -> None:
    # Given a deploy-time exemption of the CRITICAL check until a day a year ahead
    far = date(2027, 3, 10)
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks="all", reason=REASON, until=far)])
    # When analyzed
    found = by_check(analyze(public_snapshot(), settings, now=NOW))
    # Then it applies: the 90-day limit is for tags only
    assert {found[c].status for c in (POLICY, VERSIONING, LIFECYCLE)} == {Status.EXEMPT}
    assert found[POLICY].evidence["exemption"]["until"] == "2027-03-10"


def test_allow_list_exempts_a_critical_finding_a_tag_also_names() -> None:
    # Given the CRITICAL check named both by a tag and by the deploy-time allow-list
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[POLICY], reason="approved")])
    # When analyzed
    finding = by_check(analyze(public_snapshot(exempt_tags(POLICY)), settings, now=NOW))[POLICY]
    # Then the allow-list exempts it
    assert finding.status is Status.EXEMPT
    assert finding.evidence["exemption"]["source"] == "deployment"
    assert finding.evidence["exemption"]["reason"] == "approved"


def test_allow_list_until_expired_reports_expiry() -> None:
    settings = AgentSettings(
        exemptions=[Exemption(bucket=BUCKET, checks="all", reason=REASON, until=date(2026, 1, 31))]
    )
    found = by_check(analyze(public_snapshot(), settings, now=NOW))
    assert found[POLICY].status is Status.FAIL
    assert found[POLICY].evidence["exemptionExpired"] == {"until": "2026-01-31", "source": "deployment"}


def test_active_allow_list_wins_over_an_expired_tag() -> None:
    tags = exempt_tags("all", reason="old", until="2020-01-01")
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[VERSIONING], reason=REASON)])
    found = by_check(analyze(public_snapshot(tags), settings, now=NOW))
    assert found[VERSIONING].evidence["exemption"]["source"] == "deployment"
    assert found[LIFECYCLE].evidence["exemptionExpired"] == {"until": "2020-01-01", "source": "tag"}


def test_active_allow_list_wins_over_an_active_tag() -> None:
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[LIFECYCLE], reason="deployed")])
    finding = by_check(analyze(public_snapshot(exempt_tags(LIFECYCLE)), settings, now=NOW))[LIFECYCLE]
    assert finding.evidence["exemption"]["source"] == "deployment"
    assert finding.evidence["exemption"]["grantedBy"] == DEPLOY_GRANTED_BY


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
    snap = public_snapshot(exempt_tags(LIFECYCLE))
    result = analyze(snap, now=NOW)
    plans = plan_remediations(snap, result)
    assert sorted(c for p in plans.plans for c in p.check_ids) == sorted(
        [POLICY, VERSIONING, BUCKET_BPA, ACCOUNT_BPA]
    )
    assert LIFECYCLE not in plans.unplanned
    # and with everything exempt (the CRITICAL check by the allow-list, the rest by tag), nothing at all
    snap = public_snapshot(exempt_tags("all"))
    settings = AgentSettings(exemptions=[Exemption(bucket=BUCKET, checks=[POLICY], reason=REASON)])
    empty = plan_remediations(snap, analyze(snap, settings, now=NOW))
    assert (empty.plans, empty.unplanned) == ([], [])


def test_verify_comparison_treats_exempt_as_neither_fixed_nor_failing() -> None:
    snap = public_snapshot(exempt_tags(LIFECYCLE))
    findings = analyze(snap, now=NOW).findings
    nothing = AppliedSummary(results=[], applied_count=0, failed_count=0)
    verification = compare(findings, findings, nothing)
    row = next(c for c in verification.comparison if c.check_id == LIFECYCLE)
    assert (row.before, row.after, row.fixed) == (Status.EXEMPT, Status.EXEMPT, False)
    assert sorted(verification.still_failing) == sorted([POLICY, VERSIONING, BUCKET_BPA, ACCOUNT_BPA])
    assert verification.all_fixed is False
    assert (verification.summary.fail, verification.summary.exempt) == (4, 1)


# ---- discovered from a real tag set (moto) --------------------------------------------------


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


def test_tagged_bucket_discovered_yields_exempt_for_the_tagged_non_critical_check(
    session: boto3.Session,
) -> None:
    # Given a bucket with a public policy and no lifecycle rules, tagged exempt for both checks
    # until 30 days from today (the analysis runs at the real current time)
    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    policy = {"Version": "2012-10-17", "Statement": [PUBLIC_GET]}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3.put_bucket_tagging(
        Bucket=BUCKET,
        Tagging={
            "TagSet": [
                {"Key": "secagent:exempt", "Value": f"{POLICY} {LIFECYCLE}"},
                {"Key": "secagent:exempt-reason", "Value": "public website: static assets only"},
                {"Key": "secagent:exempt-until", "Value": until},
            ]
        },
    )
    # When discovered and analyzed
    result = analyze(discover_bucket(BUCKET, session))
    # Then the lifecycle finding is EXEMPT with the tag's reason and the tags that granted it
    found = by_check(result)
    assert found[LIFECYCLE].status is Status.EXEMPT
    assert found[LIFECYCLE].evidence["exemption"] == {
        "source": "tag",
        "reason": "public website: static assets only",
        "until": until,
        "grantedBy": TAG_GRANTED_BY,
    }
    # and the CRITICAL public-policy finding still FAILs, says why, and is planned
    assert found[POLICY].status is Status.FAIL
    assert found[POLICY].evidence["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert result.summary.exempt == 1 and result.summary.fail > 1  # the bare bucket fails other checks
    planned = {
        c for p in plan_remediations(discover_bucket(BUCKET, session), result).plans for c in p.check_ids
    }
    assert POLICY in planned and LIFECYCLE not in planned
