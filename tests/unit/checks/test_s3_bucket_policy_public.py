import pytest

from secagent.models import Probe, PublicAccessBlock, Status
from tests.unit.checks.snapshots import BUCKET, exposed, policy_with, run, snapshot, unknown_probe

CHECK = "s3_bucket_policy_public"
PUBLIC_GET = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}


def test_policy_public_tls_only_policy_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_policy_public_no_policy_passes() -> None:
    assert run(CHECK, snapshot(policy=Probe(value=None))).status is Status.PASS


def test_policy_public_star_get_object_fails_with_statement_evidence() -> None:
    finding = run(CHECK, exposed(policy=policy_with(PUBLIC_GET)))
    assert finding.status is Status.FAIL
    assert finding.evidence["publicStatements"] == [PUBLIC_GET]
    assert (finding.evidence["publicRead"], finding.evidence["publicWrite"]) == (True, False)
    # anyone may read, nobody may write: S3.2 fails, S3.3 (public write) does not
    assert finding.controls == ["FSBP:S3.2"]


def test_policy_public_vpce_condition_passes() -> None:
    stmt = {**PUBLIC_GET, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}}
    assert run(CHECK, snapshot(policy=policy_with(stmt))).status is Status.PASS


def test_policy_public_policy_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(policy=unknown_probe())).status is Status.UNKNOWN


def test_policy_public_policy_status_missing_still_decides() -> None:
    # LocalStack does not emulate GetBucketPolicyStatus: the check must not need it.
    finding = run(
        CHECK, exposed(policy=policy_with(PUBLIC_GET), policy_status_is_public=unknown_probe("501"))
    )
    assert finding.status is Status.FAIL


def test_policy_public_write_only_fails_s3_3_only() -> None:
    put = {**PUBLIC_GET, "Action": "s3:PutObject"}
    finding = run(CHECK, exposed(policy=policy_with(put)))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.3"]


def test_policy_public_read_and_write_fails_both() -> None:
    both = {**PUBLIC_GET, "Action": "s3:*"}
    assert run(CHECK, exposed(policy=policy_with(both))).controls == ["FSBP:S3.2", "FSBP:S3.3"]


@pytest.mark.parametrize("level", ["public_access_block", "account_public_access_block"])
def test_policy_public_restrict_public_buckets_at_either_level_neutralises_it(level: str) -> None:
    restrict = Probe(value=PublicAccessBlock(restrict_public_buckets=True))
    finding = run(CHECK, exposed(policy=policy_with(PUBLIC_GET), **{level: restrict}))
    assert finding.status is Status.PASS
    assert finding.evidence["neutralisedBy"] == "RestrictPublicBuckets"
    assert finding.evidence["latentPublicStatements"] == [PUBLIC_GET]


def test_policy_public_block_public_policy_alone_does_not_neutralise_an_existing_policy() -> None:
    block_new = Probe(value=PublicAccessBlock(block_public_policy=True, block_public_acls=True))
    finding = run(CHECK, exposed(policy=policy_with(PUBLIC_GET), public_access_block=block_new))
    assert finding.status is Status.FAIL


def test_policy_public_unreadable_block_public_access_is_unknown() -> None:
    finding = run(CHECK, exposed(policy=policy_with(PUBLIC_GET), account_public_access_block=unknown_probe()))
    assert finding.status is Status.UNKNOWN and "RestrictPublicBuckets" in (finding.error or "")


def test_policy_public_policy_status_public_overrides_the_engine() -> None:
    # On AWS GetBucketPolicyStatus is S3's own verdict: a policy our engine calls private is public
    pinned = {**PUBLIC_GET, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}}
    finding = run(CHECK, exposed(policy=policy_with(pinned), policy_status_is_public=Probe(value=True)))
    assert finding.status is Status.FAIL and finding.evidence["policyStatusIsPublic"] is True
    assert finding.controls == ["FSBP:S3.2", "FSBP:S3.3"]
