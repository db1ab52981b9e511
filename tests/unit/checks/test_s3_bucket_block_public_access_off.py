import pytest

from secagent.models import Probe, PublicAccessBlock, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_block_public_access_off"


def test_bucket_bpa_all_on_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_bucket_bpa_not_configured_fails() -> None:
    finding = run(CHECK, snapshot(public_access_block=Probe(value=None)))
    assert finding.status is Status.FAIL and finding.evidence == {"publicAccessBlock": None}


@pytest.mark.parametrize(
    "off", ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]
)
def test_bucket_bpa_one_setting_off_fails(off: str) -> None:
    settings = {k: k != off for k in PublicAccessBlock.model_fields}
    assert (
        run(CHECK, snapshot(public_access_block=Probe(value=PublicAccessBlock(**settings)))).status
        is Status.FAIL
    )


def test_bucket_bpa_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(public_access_block=unknown_probe())).status is Status.UNKNOWN
