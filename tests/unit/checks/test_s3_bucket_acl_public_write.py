import pytest

from secagent.models import Probe, PublicAccessBlock, Status
from tests.unit.checks.snapshots import (
    acl_with,
    exposed,
    public_grant,
    run,
    snapshot,
    unknown_probe,
)

CHECK = "s3_bucket_acl_public_write"


def test_acl_public_write_owner_only_acl_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
@pytest.mark.parametrize("permission", ["WRITE", "WRITE_ACP", "FULL_CONTROL"])
def test_acl_public_write_group_grant_fails(group: str, permission: str) -> None:
    finding = run(CHECK, exposed(acl=acl_with(public_grant(group, permission))))
    assert finding.status is Status.FAIL
    assert finding.evidence["publicGrants"][0]["permission"] == permission


def test_acl_public_write_read_only_grant_passes() -> None:
    assert run(CHECK, snapshot(acl=acl_with(public_grant("AllUsers", "READ")))).status is Status.PASS


@pytest.mark.parametrize("level", ["public_access_block", "account_public_access_block"])
def test_acl_public_write_ignore_public_acls_at_either_level_neutralises_it(level: str) -> None:
    # S3 ignores public ACL grants under IgnorePublicAcls: not public access (Config rule text)
    ignore = Probe(value=PublicAccessBlock(ignore_public_acls=True))
    finding = run(CHECK, exposed(acl=acl_with(public_grant("AllUsers", "WRITE")), **{level: ignore}))
    assert finding.status is Status.PASS
    assert finding.evidence["neutralisedBy"] == "IgnorePublicAcls"
    assert finding.evidence["latentPublicGrants"][0]["permission"] == "WRITE"


def test_acl_public_write_block_public_acls_alone_does_not_neutralise_an_existing_grant() -> None:
    block_new = Probe(value=PublicAccessBlock(block_public_acls=True, block_public_policy=True))
    finding = run(
        CHECK, exposed(acl=acl_with(public_grant("AllUsers", "WRITE")), public_access_block=block_new)
    )
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.3"]


def test_acl_public_write_unreadable_block_public_access_is_unknown_not_a_guess() -> None:
    finding = run(
        CHECK,
        exposed(acl=acl_with(public_grant("AllUsers", "WRITE")), public_access_block=unknown_probe()),
    )
    assert finding.status is Status.UNKNOWN and "IgnorePublicAcls" in (finding.error or "")


def test_acl_public_write_acl_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(acl=unknown_probe())).status is Status.UNKNOWN
