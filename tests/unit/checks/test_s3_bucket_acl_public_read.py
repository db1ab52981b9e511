import pytest

from secagent.models import Probe, Status
from tests.unit.checks.snapshots import (
    ALL_ON,
    OPEN,
    acl_with,
    exposed,
    public_grant,
    run,
    snapshot,
    unknown_probe,
)

CHECK = "s3_bucket_acl_public_read"


def test_acl_public_read_owner_only_acl_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
@pytest.mark.parametrize("permission", ["READ", "READ_ACP", "FULL_CONTROL"])
def test_acl_public_read_group_grant_fails_with_grant_as_evidence(group: str, permission: str) -> None:
    finding = run(CHECK, exposed(acl=acl_with(public_grant(group, permission))))
    assert finding.status is Status.FAIL
    [grant] = finding.evidence["publicGrants"]
    assert grant["granteeUri"].endswith(group) and grant["permission"] == permission
    assert finding.remediation_id == "s3.remove_public_acl_grants"


def test_acl_public_read_write_only_grant_passes() -> None:
    assert run(CHECK, snapshot(acl=acl_with(public_grant("AllUsers", "WRITE")))).status is Status.PASS


def test_acl_public_read_log_delivery_group_passes() -> None:
    assert (
        run(CHECK, snapshot(acl=acl_with(public_grant("../s3/LogDelivery", "READ_ACP")))).status
        is Status.PASS
    )


def test_acl_public_read_acl_unreadable_is_unknown() -> None:
    finding = run(CHECK, snapshot(acl=unknown_probe()))
    assert finding.status is Status.UNKNOWN and "AccessDenied" in (finding.error or "")


def test_acl_public_read_neutralised_by_ignore_public_acls_is_pass_with_the_latent_grant() -> None:
    finding = run(CHECK, snapshot(acl=acl_with(public_grant("AllUsers", "READ"))))  # hardened: BPA all on
    assert finding.status is Status.PASS and finding.evidence["publicGrants"] == []
    assert finding.evidence["latentPublicGrants"][0]["permission"] == "READ"


def test_acl_public_read_fails_only_s3_2() -> None:
    finding = run(
        CHECK,
        exposed(acl=acl_with(public_grant("AllUsers", "READ")), public_access_block=Probe(value=ALL_ON)),
    )
    # bucket level all on, account level off: the bucket's own IgnorePublicAcls neutralises it
    assert finding.status is Status.PASS
    finding = run(
        CHECK, exposed(acl=acl_with(public_grant("AllUsers", "READ")), public_access_block=Probe(value=OPEN))
    )
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.2"]
