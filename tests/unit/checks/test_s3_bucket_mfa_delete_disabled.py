import pytest

from secagent.models import Probe, Status, Versioning
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_mfa_delete_disabled"


def test_mfa_delete_enabled_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("mfa", [None, "Disabled"])
def test_mfa_delete_off_fails(mfa: str | None) -> None:
    finding = run(
        CHECK,
        snapshot(
            versioning=Probe(value=Versioning(status="Enabled", mfa_delete=mfa)),
            lifecycle_rules=Probe(value=None),
        ),
    )
    assert finding.status is Status.FAIL and finding.evidence["mfaDelete"] == mfa


def test_mfa_delete_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(versioning=unknown_probe())).status is Status.UNKNOWN


def test_mfa_delete_off_with_a_lifecycle_configuration_fails_cis_2_1_2_only() -> None:
    # S3.20 produces no finding for buckets with a lifecycle configuration; CIS 2.1.2 has no such exception
    off = Probe(value=Versioning(status="Enabled", mfa_delete="Disabled"))
    finding = run(CHECK, snapshot(versioning=off))  # the hardened fixture has a lifecycle rule
    assert finding.status is Status.FAIL and finding.controls == ["CIS-3.0:2.1.2"]
    without = run(CHECK, snapshot(versioning=off, lifecycle_rules=Probe(value=None)))
    assert without.controls == ["FSBP:S3.20", "CIS-3.0:2.1.2"]
