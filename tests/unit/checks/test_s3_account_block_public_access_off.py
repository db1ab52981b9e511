import pytest

from secagent.models import Probe, PublicAccessBlock, Status
from tests.unit.checks.snapshots import ACCOUNT, OPEN, run, snapshot, unknown_probe

CHECK = "s3_account_block_public_access_off"


def test_account_bpa_all_on_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_account_bpa_not_configured_fails_with_account_id() -> None:
    finding = run(CHECK, snapshot(account_public_access_block=Probe(value=None)))
    assert finding.status is Status.FAIL and finding.evidence["accountId"] == ACCOUNT


def test_account_bpa_partially_on_fails() -> None:
    partial = PublicAccessBlock(block_public_acls=True, ignore_public_acls=True)
    assert run(CHECK, snapshot(account_public_access_block=Probe(value=partial))).status is Status.FAIL


def test_account_bpa_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(account_public_access_block=unknown_probe())).status is Status.UNKNOWN


def test_account_bpa_account_id_unknown_is_unknown() -> None:
    assert run(CHECK, snapshot(account_id=None)).status is Status.UNKNOWN


def test_account_bpa_off_with_the_bucket_fully_blocked_fails_s3_1_only() -> None:
    # CIS 2.1.4 is met by the bucket's own four settings (hardened fixture)
    finding = run(CHECK, snapshot(account_public_access_block=Probe(value=OPEN)))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.1"]


@pytest.mark.parametrize(
    "bucket",
    [
        Probe(value=None),
        Probe(value=OPEN),
        Probe(value=PublicAccessBlock(block_public_policy=True)),
        unknown_probe(),
    ],
    ids=["not-configured", "all-off", "partial", "unreadable"],
)
def test_account_bpa_off_and_bucket_not_all_on_fails_cis_2_1_4_too(bucket: Probe) -> None:
    finding = run(CHECK, snapshot(account_public_access_block=Probe(value=OPEN), public_access_block=bucket))
    assert finding.status is Status.FAIL
    assert finding.controls == ["FSBP:S3.1", "CIS-3.0:2.1.4"]
