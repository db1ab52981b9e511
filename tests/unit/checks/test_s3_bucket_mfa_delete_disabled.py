import pytest

from secagent.models import Probe, Status, Versioning
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_mfa_delete_disabled"


def test_mfa_delete_enabled_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("mfa", [None, "Disabled"])
def test_mfa_delete_off_fails(mfa: str | None) -> None:
    finding = run(CHECK, snapshot(versioning=Probe(value=Versioning(status="Enabled", mfa_delete=mfa))))
    assert finding.status is Status.FAIL and finding.evidence["mfaDelete"] == mfa


def test_mfa_delete_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(versioning=unknown_probe())).status is Status.UNKNOWN
