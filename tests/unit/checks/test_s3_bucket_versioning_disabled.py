import pytest

from secagent.models import Probe, Status, Versioning
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_versioning_disabled"


def test_versioning_enabled_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("status", [None, "Suspended"])
def test_versioning_never_enabled_or_suspended_fails(status: str | None) -> None:
    finding = run(CHECK, snapshot(versioning=Probe(value=Versioning(status=status))))
    assert finding.status is Status.FAIL and finding.evidence == {"status": status}


def test_versioning_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(versioning=unknown_probe())).status is Status.UNKNOWN
