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


def test_sse_kms_not_required_sse_s3_passes() -> None:
    finding = run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="AES256"))))
    assert finding.status is Status.PASS and finding.evidence["kmsRequired"] is False


def test_sse_kms_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(encryption=unknown_probe()), KMS).status is Status.UNKNOWN
