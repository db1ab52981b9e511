import pytest

from secagent.models import Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_acls_enabled"


def test_acls_enabled_bucket_owner_enforced_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("ownership", [None, "ObjectWriter", "BucketOwnerPreferred"])
def test_acls_enabled_other_ownership_fails(ownership: str | None) -> None:
    finding = run(CHECK, snapshot(ownership_controls=Probe(value=ownership)))
    assert finding.status is Status.FAIL and finding.evidence == {"objectOwnership": ownership}


def test_acls_enabled_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(ownership_controls=unknown_probe())).status is Status.UNKNOWN
