from secagent.models import Encryption, Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_default_encryption_missing"


def test_default_encryption_sse_s3_passes() -> None:
    assert run(CHECK, snapshot(encryption=Probe(value=Encryption(algorithm="AES256")))).status is Status.PASS


def test_default_encryption_missing_fails() -> None:
    assert run(CHECK, snapshot(encryption=Probe(value=None))).status is Status.FAIL


def test_default_encryption_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(encryption=unknown_probe())).status is Status.UNKNOWN
