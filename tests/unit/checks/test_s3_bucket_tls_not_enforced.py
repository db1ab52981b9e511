from secagent.models import Probe, Status
from tests.unit.checks.snapshots import BUCKET, run, snapshot, unknown_probe

CHECK = "s3_bucket_tls_not_enforced"


def test_tls_deny_present_passes() -> None:
    finding = run(CHECK, snapshot())
    assert (
        finding.status is Status.PASS
        and finding.evidence["tlsDenyStatements"][0]["Sid"] == "DenyInsecureTransport"
    )


def test_tls_no_policy_fails() -> None:
    finding = run(CHECK, snapshot(policy=Probe(value=None)))
    assert finding.status is Status.FAIL and finding.evidence["hasPolicy"] is False


def test_tls_deny_only_on_objects_fails() -> None:
    stmt = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert run(CHECK, snapshot(policy=Probe(value={"Statement": [stmt]}))).status is Status.FAIL


def test_tls_policy_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(policy=unknown_probe())).status is Status.UNKNOWN
