from secagent.models import Probe, Status
from tests.unit.checks.snapshots import BUCKET, policy_with, run, snapshot, unknown_probe

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
    finding = run(CHECK, snapshot(policy=policy_with(PUBLIC_GET)))
    assert finding.status is Status.FAIL
    assert finding.evidence["publicStatements"] == [PUBLIC_GET]
    assert (finding.evidence["publicRead"], finding.evidence["publicWrite"]) == (True, False)


def test_policy_public_vpce_condition_passes() -> None:
    stmt = {**PUBLIC_GET, "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}}}
    assert run(CHECK, snapshot(policy=policy_with(stmt))).status is Status.PASS


def test_policy_public_policy_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(policy=unknown_probe())).status is Status.UNKNOWN


def test_policy_public_policy_status_missing_still_decides() -> None:
    # LocalStack does not emulate GetBucketPolicyStatus: the check must not need it.
    finding = run(
        CHECK, snapshot(policy=policy_with(PUBLIC_GET), policy_status_is_public=unknown_probe("501"))
    )
    assert finding.status is Status.FAIL
