"""The sweep's work on moto: listing each account (one account's failure is that account's alone,
the deployment's own buckets are never items) and judging one resource in its account (COMPLIANT
only when every check passed; a resource that is gone, unreadable or unreachable is its own
outcome; a transient error is raised for the state to retry)."""

from datetime import UTC, datetime

import pytest

from secagent.checks.registry import checks_for
from secagent.models import AgentSettings
from secagent.models.errors import TransientError
from secagent.models.findings import Status
from secagent.models.outcome import Outcome
from secagent.models.settings import Exemption
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef
from secagent.models.sweep import SweepItem, sweep_types
from secagent.sweep.work import judge_item, list_account, list_sweep
from tests.unit.sweep.conftest import (
    MEMBER_B,
    MEMBER_C,
    OWN,
    REGION,
    REPORTS,
    SWEEP,
    World,
    sweep_request,
)

CDK_BUCKET = f"cdk-hnb659fds-assets-{OWN}-us-east-1"
# The bucket checks a fresh moto bucket passes: with only these enabled it is COMPLIANT.
PASSING = frozenset(
    {
        "s3_bucket_acl_public_read",
        "s3_bucket_acl_public_write",
        "s3_bucket_policy_public",
        "s3_bucket_policy_blocklisted_actions",
        "s3_bucket_policy_cross_account",
        "s3_bucket_cors_wildcard_write",
        "s3_bucket_website_enabled",
    }
)
ONLY_PASSING = AgentSettings(disabled_checks=frozenset(checks_for(BUCKET)) - PASSING)
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def item(account: str, resource_id: str, region: str | None = REGION) -> SweepItem:
    kind = SECURITY_GROUP if resource_id.startswith("sg-") else BUCKET
    return SweepItem(
        sweep_id=SWEEP, account_id=account, resource=ResourceRef(type=kind, id=resource_id), region=region
    )


def members(world: World, *accounts: str) -> None:
    for account in accounts:
        world.install_member_role(account)


# -- listing ----------------------------------------------------------------------------------


def fail_member_role_missing(world: World) -> None:
    world.install_member_role(MEMBER_C)  # B never deployed the member stack


def fail_assume_role_denied(world: World) -> None:
    members(world, MEMBER_B, MEMBER_C)
    world.deny_assume_role(MEMBER_B)


def fail_list_buckets_throttled(world: World) -> None:
    members(world, MEMBER_B, MEMBER_C)
    world.fail(MEMBER_B, "s3.ListBuckets", "SlowDown", 503)


@pytest.mark.parametrize(
    ("break_b", "error"),
    [
        pytest.param(fail_member_role_missing, "MemberRoleMissing", id="member role missing"),
        pytest.param(fail_assume_role_denied, "AccessDenied", id="AssumeRole denied"),
        pytest.param(fail_list_buckets_throttled, "SlowDown", id="ListBuckets throttled"),
    ],
)
def test_list_sweep_one_failing_account_does_not_stop_the_others(
    world: World, break_b: object, error: str
) -> None:
    # Given three accounts with a bucket each, and member B failing
    world.buckets(OWN, "own-app-data")
    world.buckets(MEMBER_B, "b-app-data")
    world.buckets(MEMBER_C, "c-app-data")
    assert callable(break_b)
    break_b(world)
    request = sweep_request([OWN, MEMBER_B, MEMBER_C])
    # When the sweep lists them
    listings, items = list_sweep(request, world.sessions(), REGION)
    # Then each account has its listing, in the request's order; only B failed, with its reason
    assert [(a.account_id, a.status) for a in listings] == [
        (OWN, "LISTED"),
        (MEMBER_B, "FAILED"),
        (MEMBER_C, "LISTED"),
    ]
    failed = listings[1]
    assert failed.error is not None and failed.error.error == error and failed.resources == 0
    assert "not authorized" not in (failed.error.message or "")  # never the raw AWS message
    # And the other two accounts' buckets and groups are items, none of B's
    buckets = {(i.account_id, i.resource.id) for i in items if i.resource.type == BUCKET}
    assert buckets == {(OWN, "own-app-data"), (OWN, REPORTS), (MEMBER_C, "c-app-data")}
    assert {i.account_id for i in items if i.resource.type == SECURITY_GROUP} == {OWN, MEMBER_C}
    assert all(i.sweep_id == SWEEP for i in items)
    # And each listing counts its own items
    for listing in listings:
        assert listing.resources == sum(1 for i in items if i.account_id == listing.account_id)


def test_list_sweep_own_account_failing_does_not_stop_the_members(world: World) -> None:
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-app-data")
    world.fail(OWN, "s3.ListBuckets", "AccessDenied", 403)
    listings, items = list_sweep(sweep_request([OWN, MEMBER_B], [BUCKET]), world.sessions(), REGION)
    assert [(a.account_id, a.status) for a in listings] == [(OWN, "FAILED"), (MEMBER_B, "LISTED")]
    assert listings[0].error is not None and listings[0].error.error == "AccessDenied"
    assert [(i.account_id, i.resource.id) for i in items] == [(MEMBER_B, "b-app-data")]


def test_list_account_leaves_no_bucket_unseen_not_even_one_named_like_cdks(world: World) -> None:
    # Given the own account holds CDK's bootstrap bucket beside an app's (a sweep only reads: an
    # attacker's public bucket named cdk-... must not be left out of the posture)
    world.buckets(OWN, CDK_BUCKET, "own-app-data")
    # When it is listed
    listing, items = list_account(SWEEP, OWN, [BUCKET], world.sessions(), REGION)
    # Then every bucket is an item (the stack's own report bucket too: reading it is harmless)
    assert sorted(i.resource.id for i in items) == sorted([CDK_BUCKET, "own-app-data", REPORTS])
    assert (listing.status, listing.resources) == ("LISTED", 3)


def test_list_account_lists_a_members_buckets_with_the_members_credentials(world: World) -> None:
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-one", "b-two")
    world.buckets(OWN, "own-app-data")
    _, items = list_account(SWEEP, MEMBER_B, [BUCKET], world.sessions(), REGION)
    assert [(i.account_id, i.resource.id) for i in items] == [(MEMBER_B, "b-one"), (MEMBER_B, "b-two")]
    assert "s3.ListBuckets" in world.made(MEMBER_B) and "s3.ListBuckets" not in world.made(OWN)


def test_list_account_lists_security_groups_of_the_given_region(world: World) -> None:
    # Given member B with a group in eu-west-1 and one in us-east-1
    members(world, MEMBER_B)
    here = world.group(MEMBER_B, "eu-app", region="eu-west-1")
    elsewhere = world.group(MEMBER_B, "us-app", region="us-east-1")
    # When B's groups of eu-west-1 are listed
    listing, items = list_account(SWEEP, MEMBER_B, [SECURITY_GROUP], world.sessions(), "eu-west-1")
    # Then they are the items (eu-west-1's default group too), located there; not us-east-1's
    ids = [i.resource.id for i in items]
    assert here in ids and elsewhere not in ids
    assert len(ids) == 2  # the app's group and the default VPC's default group
    assert {(i.account_id, i.resource.type, i.region) for i in items} == {
        (MEMBER_B, SECURITY_GROUP, "eu-west-1")
    }
    assert listing.resources == 2
    assert "ec2.DescribeSecurityGroups" in world.made(MEMBER_B)


def test_sweep_types_keep_one_order() -> None:
    assert sweep_types(None) == [BUCKET, SECURITY_GROUP]
    assert sweep_types([SECURITY_GROUP, BUCKET]) == [BUCKET, SECURITY_GROUP]
    assert sweep_types([SECURITY_GROUP]) == [SECURITY_GROUP]


# -- judging one resource ---------------------------------------------------------------------


def test_bucket_whose_every_finding_passes_is_compliant_and_read_in_its_account(world: World) -> None:
    # Given a member's bucket every enabled check passes on
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-clean")
    # When it is judged
    result = judge_item(item(MEMBER_B, "b-clean"), world.sessions(), ONLY_PASSING, region=REGION)
    # Then it is COMPLIANT, every finding PASS, with the bucket's ARN and its account
    assert result.outcome == Outcome.COMPLIANT
    assert result.findings and {f.status for f in result.findings} == {Status.PASS}
    assert (result.account_id, result.resource_arn) == (MEMBER_B, "arn:aws:s3:::b-clean")
    assert result.error is None
    # And it was read with B's credentials, not the tools' own
    assert "s3.GetBucketPolicy" in world.made(MEMBER_B)
    assert not [c for c in world.made(OWN) if c.startswith("s3.")]


def test_exempt_findings_keep_a_bucket_compliant(world: World) -> None:
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-exempt")
    analysis = AgentSettings(
        disabled_checks=frozenset(checks_for(BUCKET)) - PASSING - {"s3_bucket_versioning_disabled"},
        exemptions=[Exemption(bucket="b-exempt", checks=["s3_bucket_versioning_disabled"], reason="logs")],
    )
    result = judge_item(item(MEMBER_B, "b-exempt"), world.sessions(), analysis, region=REGION)
    assert {f.status for f in result.findings} == {Status.PASS, Status.EXEMPT}
    assert result.outcome == Outcome.COMPLIANT


def test_bucket_with_a_failing_finding_is_non_compliant(world: World) -> None:
    world.buckets(OWN, "own-plain")
    result = judge_item(item(OWN, "own-plain"), world.sessions(), AgentSettings(), region=REGION)
    assert result.outcome == Outcome.NON_COMPLIANT and result.failing


@pytest.mark.parametrize("denied", ["s3.GetBucketPolicy", "s3.GetBucketAcl"])
def test_a_resource_whose_reads_were_denied_is_never_reported_compliant(world: World, denied: str) -> None:
    """Attack-ish: a member who denies the sweep's role one read (a bucket policy Deny on
    GetBucketPolicy) must not make a bucket look clean: the check answers UNKNOWN, and UNKNOWN is
    not compliant."""
    # Given the clean bucket of the compliant test, but one of its reads is denied
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-clean")
    world.fail(MEMBER_B, denied, "AccessDenied", 403)
    # When it is judged
    result = judge_item(item(MEMBER_B, "b-clean"), world.sessions(), ONLY_PASSING, region=REGION)
    # Then a finding is UNKNOWN, none fails, and still it is NON_COMPLIANT
    statuses = {f.status for f in result.findings}
    assert Status.UNKNOWN in statuses and Status.FAIL not in statuses
    assert result.outcome == Outcome.NON_COMPLIANT


def test_bucket_deleted_since_listing_is_resource_not_found(world: World) -> None:
    # Given an item of a bucket that is gone (the listing said where it was: no HeadBucket)
    members(world, MEMBER_B)
    # When it is judged
    result = judge_item(item(MEMBER_B, "b-gone"), world.sessions(), AgentSettings(), region=REGION, now=AT)
    # Then RESOURCE_NOT_FOUND, no findings, still named by its ARN and account
    assert result.outcome == Outcome.RESOURCE_NOT_FOUND
    assert result.error is not None and result.error.error == "ResourceNotFound"
    assert (result.findings, result.resource_arn, result.observed_at) == ([], "arn:aws:s3:::b-gone", AT)


def test_group_deleted_since_listing_is_resource_not_found(world: World) -> None:
    members(world, MEMBER_B)
    result = judge_item(
        item(MEMBER_B, "sg-0123456789abcdef0"), world.sessions(), AgentSettings(), region=REGION
    )
    assert result.outcome == Outcome.RESOURCE_NOT_FOUND


def test_group_the_role_may_not_describe_is_access_denied(world: World) -> None:
    members(world, MEMBER_B)
    group = world.group(MEMBER_B, "b-app")
    world.fail(MEMBER_B, "ec2.DescribeSecurityGroups", "UnauthorizedOperation", 403)
    result = judge_item(item(MEMBER_B, group), world.sessions(), AgentSettings(), region=REGION)
    assert result.outcome == Outcome.ACCESS_DENIED
    assert result.error is not None and result.error.error == "AccessDenied"
    assert result.findings == []


def test_resource_of_an_unreachable_account_is_access_denied_and_reads_nothing(world: World) -> None:
    # Given member B without its role
    # When one of its buckets is judged
    result = judge_item(item(MEMBER_B, "b-app-data"), world.sessions(), AgentSettings(), region=REGION)
    # Then ACCESS_DENIED with the account's reason; nothing of the bucket was read anywhere
    assert result.outcome == Outcome.ACCESS_DENIED
    assert result.error is not None and result.error.error == "MemberRoleMissing"
    assert world.made(MEMBER_B) == ["iam.GetRole"]
    assert not [c for c in world.made(OWN) if c.startswith("s3.")]


@pytest.mark.parametrize(
    ("resource", "operation", "code", "status"),
    [
        pytest.param("b-app-data", "s3.GetBucketPolicy", "SlowDown", 503, id="bucket read throttled"),
        pytest.param("b-app-data", "s3.GetBucketAcl", "InternalError", 500, id="bucket read 5xx"),
        pytest.param(
            "group", "ec2.DescribeSecurityGroups", "RequestLimitExceeded", 400, id="group throttled"
        ),
    ],
)
def test_transient_error_is_raised_for_the_state_to_retry(
    world: World, resource: str, operation: str, code: str, status: int
) -> None:
    members(world, MEMBER_B)
    world.buckets(MEMBER_B, "b-app-data")
    resource_id = world.group(MEMBER_B, "b-app") if resource == "group" else resource
    world.fail(MEMBER_B, operation, code, status)
    with pytest.raises(TransientError):
        judge_item(item(MEMBER_B, resource_id), world.sessions(), AgentSettings(), region=REGION)


def test_other_read_failure_is_failed(world: World) -> None:
    members(world, MEMBER_B)
    group = world.group(MEMBER_B, "b-app")
    world.fail(MEMBER_B, "ec2.DescribeSecurityGroups", "InvalidParameterValue", 400)
    result = judge_item(item(MEMBER_B, group), world.sessions(), AgentSettings(), region=REGION)
    assert result.outcome == Outcome.FAILED
    assert result.error is not None and result.error.message == "its configuration could not be read"


def test_group_arn_carries_the_member_account_and_region(world: World) -> None:
    # Given a member's security group
    members(world, MEMBER_B)
    group = world.group(MEMBER_B, "b-app")
    # When it is judged
    result = judge_item(item(MEMBER_B, group), world.sessions(), AgentSettings(), region=REGION)
    # Then its ARN names B (not the deployment's account) and the region
    assert result.resource_arn == f"arn:aws:ec2:us-east-1:{MEMBER_B}:security-group/{group}"
    assert (result.account_id, result.region) == (MEMBER_B, REGION)
    assert result.outcome in (Outcome.COMPLIANT, Outcome.NON_COMPLIANT) and result.findings
    # And it was described with B's credentials
    assert "ec2.DescribeSecurityGroups" in world.made(MEMBER_B)
    assert "ec2.DescribeSecurityGroups" not in world.made(OWN)


def test_group_listed_in_another_region_is_read_in_that_region(world: World) -> None:
    members(world, MEMBER_B)
    group = world.group(MEMBER_B, "b-eu-app", region="eu-west-1")
    result = judge_item(
        item(MEMBER_B, group, region="eu-west-1"), world.sessions(), AgentSettings(), region=REGION
    )
    assert result.outcome in (Outcome.COMPLIANT, Outcome.NON_COMPLIANT)
    assert result.resource_arn == f"arn:aws:ec2:eu-west-1:{MEMBER_B}:security-group/{group}"
