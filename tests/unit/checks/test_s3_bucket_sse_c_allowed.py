from secagent.checks import analyze
from secagent.models import Encryption, Probe, Status
from secagent.remediation import plan_remediations
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_sse_c_allowed"


def test_sse_c_blocked_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_sse_c_allowed_fails_with_no_standard_control() -> None:
    finding = run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="aws:kms"))))
    assert finding.status is Status.FAIL and finding.controls == []


def test_no_default_encryption_fails() -> None:
    assert run(CHECK, snapshot(encryption=Probe(value=None))).status is Status.FAIL


def test_fix_keeps_the_default_encryption_and_adds_the_block() -> None:
    snap = snapshot(encryption=Probe(value=Encryption(algorithm="aws:kms", kms_key_id="alias/data")))
    [plan] = plan_remediations(snap, analyze(snap)).plans
    [rule] = plan.api_call.parameters["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/data",
    }
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}
    [previous] = plan.rollback.parameters["ServerSideEncryptionConfiguration"]["Rules"]  # type: ignore[union-attr]
    assert "BlockedEncryptionTypes" not in previous


def test_missing_encryption_then_sse_c_builds_one_rule_on_the_other() -> None:
    snap = snapshot(encryption=Probe(value=None))
    first, second = plan_remediations(snap, analyze(snap)).plans
    assert first.check_ids == ["s3_bucket_default_encryption_missing"] and second.check_ids == [CHECK]
    [rule] = second.api_call.parameters["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert (
        second.rollback.parameters["ServerSideEncryptionConfiguration"]["Rules"][0].get(  # type: ignore[union-attr]
            "BlockedEncryptionTypes"
        )
        is None
    )


def test_sse_c_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(encryption=unknown_probe())).status is Status.UNKNOWN
