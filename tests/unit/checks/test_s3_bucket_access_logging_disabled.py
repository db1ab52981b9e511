from secagent.models import Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_access_logging_disabled"


def test_access_logging_enabled_passes() -> None:
    finding = run(CHECK, snapshot())
    assert (
        finding.status is Status.PASS and finding.evidence["logging"]["targetBucket"] == "central-access-logs"
    )


def test_access_logging_off_fails() -> None:
    assert run(CHECK, snapshot(logging=Probe(value=None))).status is Status.FAIL


def test_access_logging_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(logging=unknown_probe())).status is Status.UNKNOWN
