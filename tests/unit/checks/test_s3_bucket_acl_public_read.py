import pytest

from secagent.models import Status
from tests.unit.checks.snapshots import acl_with, public_grant, run, snapshot, unknown_probe

CHECK = "s3_bucket_acl_public_read"


def test_acl_public_read_owner_only_acl_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("group", ["AllUsers", "AuthenticatedUsers"])
@pytest.mark.parametrize("permission", ["READ", "READ_ACP", "FULL_CONTROL"])
def test_acl_public_read_group_grant_fails_with_grant_as_evidence(group: str, permission: str) -> None:
    finding = run(CHECK, snapshot(acl=acl_with(public_grant(group, permission))))
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
