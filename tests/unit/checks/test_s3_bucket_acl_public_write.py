import pytest

from secagent.models import Status
from tests.unit.checks.snapshots import acl_with, public_grant, run, snapshot, unknown_probe

CHECK = "s3_bucket_acl_public_write"


def test_acl_public_write_owner_only_acl_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
@pytest.mark.parametrize("permission", ["WRITE", "WRITE_ACP", "FULL_CONTROL"])
def test_acl_public_write_group_grant_fails(group: str, permission: str) -> None:
    finding = run(CHECK, snapshot(acl=acl_with(public_grant(group, permission))))
    assert finding.status is Status.FAIL
    assert finding.evidence["publicGrants"][0]["permission"] == permission


def test_acl_public_write_read_only_grant_passes() -> None:
    assert run(CHECK, snapshot(acl=acl_with(public_grant("AllUsers", "READ")))).status is Status.PASS


def test_acl_public_write_evidence_notes_ignore_public_acls() -> None:
    finding = run(CHECK, snapshot(acl=acl_with(public_grant("AllUsers", "WRITE"))))
    assert finding.evidence["neutralisedByIgnorePublicAcls"] is True


def test_acl_public_write_acl_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(acl=unknown_probe())).status is Status.UNKNOWN
