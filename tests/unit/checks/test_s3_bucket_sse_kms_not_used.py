import pytest

from secagent.models import AgentSettings, Encryption, Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_sse_kms_not_used"
KMS = AgentSettings(require_kms=True)


@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
def test_sse_kms_required_and_used_passes(algorithm: str) -> None:
    enc = Probe(value=Encryption(algorithm=algorithm))
    assert run(CHECK, snapshot(encryption=enc), KMS).status is Status.PASS


def test_sse_kms_required_but_sse_s3_fails() -> None:
    finding = run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="AES256"))), KMS)
    assert finding.status is Status.FAIL and finding.evidence["encryption"]["algorithm"] == "AES256"


def test_sse_kms_required_and_no_encryption_fails() -> None:
    assert run(CHECK, snapshot(encryption=Probe(value=None)), KMS).status is Status.FAIL


def test_sse_kms_not_required_sse_s3_still_fails_s3_17_at_low_severity() -> None:
    # S3.17 is a verdict: SSE-S3 fails it whatever require_kms says; the setting sets the severity
    finding = run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="AES256"))))
    assert finding.status is Status.FAIL and finding.evidence["kmsRequired"] is False
    assert finding.severity == "LOW" and finding.controls == ["FSBP:S3.17"]
    required = run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="AES256"))), KMS)
    assert required.severity == "MEDIUM"


def test_sse_kms_fix_is_proposed_only_when_kms_is_required() -> None:
    from secagent.checks import analyze
    from secagent.remediation import plan_remediations

    snap = snapshot(
        encryption=Probe(value=Encryption(algorithm="AES256", blocked_encryption_types=["SSE-C"]))
    )
    plans = plan_remediations(snap, analyze(snap))
    assert plans.plans == [] and plans.unplanned == [CHECK]
    [plan] = plan_remediations(snap, analyze(snap, KMS), KMS).plans
    rule = plan.api_call.parameters["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": ["SSE-C"]}  # kept, not dropped


def test_sse_kms_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(encryption=unknown_probe()), KMS).status is Status.UNKNOWN
