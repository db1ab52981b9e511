import pytest

from secagent.models import Probe, PublicAccessBlock, Status
from tests.unit.checks.snapshots import OPEN, run, snapshot, unknown_probe

CHECK = "s3_bucket_block_public_access_off"


def test_bucket_bpa_all_on_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_bucket_bpa_not_configured_fails() -> None:
    # The account blocks everything (hardened fixture): CIS 2.1.4 is met there, S3.8 is not
    finding = run(CHECK, snapshot(public_access_block=Probe(value=None)))
    assert finding.status is Status.FAIL
    assert finding.evidence == {"publicAccessBlock": None, "accountBlocksAll": True}
    assert finding.controls == ["FSBP:S3.8"]


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


PARTIAL = PublicAccessBlock(block_public_acls=True, ignore_public_acls=True)


@pytest.mark.parametrize(
    "account",
    [Probe(value=None), Probe(value=OPEN), Probe(value=PARTIAL)],
    ids=["not-configured", "all-off", "partial"],
)
def test_bucket_bpa_off_and_account_not_all_on_fails_cis_2_1_4_too(account: Probe) -> None:
    finding = run(CHECK, snapshot(public_access_block=Probe(value=OPEN), account_public_access_block=account))
    assert finding.status is Status.FAIL
    assert finding.controls == ["FSBP:S3.8", "CIS-3.0:2.1.4"]
    assert finding.evidence["accountBlocksAll"] is False


def test_bucket_bpa_off_and_account_unreadable_fails_cis_2_1_4_too() -> None:
    # Nothing shows the account meets CIS 2.1.4: the bucket's gap fails it
    finding = run(
        CHECK, snapshot(public_access_block=Probe(value=OPEN), account_public_access_block=unknown_probe())
    )
    assert finding.status is Status.FAIL
    assert finding.controls == ["FSBP:S3.8", "CIS-3.0:2.1.4"]
    assert finding.evidence["accountBlocksAll"] is None


def test_bucket_bpa_partial_under_a_fully_blocked_account_fails_s3_8_only() -> None:
    finding = run(CHECK, snapshot(public_access_block=Probe(value=PARTIAL)))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.8"]
