import pytest

from secagent.models import Grant, Probe, Severity, Status
from tests.unit.checks.snapshots import acl_with, public_grant, run, snapshot, unknown_probe

CHECK = "s3_bucket_acls_enabled"
PARTNER_ID = "b" * 64


def test_acls_enabled_bucket_owner_enforced_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("ownership", [None, "ObjectWriter", "BucketOwnerPreferred"])
def test_acls_enabled_other_ownership_fails(ownership: str | None) -> None:
    # The hardened bucket's ACL grants only its owner: ACLs on, but no ACL configured for user
    # access, so S3.12 is met; the product's own stricter rule still fails it (LOW, no control).
    finding = run(CHECK, snapshot(ownership_controls=Probe(value=ownership)))
    assert finding.status is Status.FAIL
    assert finding.evidence == {"objectOwnership": ownership, "nonOwnerGrants": []}
    assert finding.controls == [] and finding.severity is Severity.LOW
    assert finding.remediation_id == "s3.enforce_bucket_owner"  # still fixable: disable ACLs


@pytest.mark.parametrize(
    "grant",
    [
        Grant(grantee_type="CanonicalUser", grantee_id=PARTNER_ID, permission="READ"),
        public_grant("LogDelivery", "WRITE"),
        public_grant("AllUsers", "READ"),
    ],
    ids=["other-account", "log-delivery", "all-users"],
)
def test_acls_enabled_non_owner_grant_fails_s3_12(grant: Grant) -> None:
    finding = run(CHECK, snapshot(ownership_controls=Probe(value="ObjectWriter"), acl=acl_with(grant)))
    assert finding.status is Status.FAIL
    assert finding.controls == ["FSBP:S3.12"] and finding.severity is Severity.MEDIUM
    assert finding.evidence == {"objectOwnership": "ObjectWriter", "nonOwnerGrants": [grant.to_json_dict()]}
    assert finding.remediation_id == "s3.enforce_bucket_owner"


def test_acls_enabled_acl_unreadable_is_unknown() -> None:
    finding = run(CHECK, snapshot(ownership_controls=Probe(value="ObjectWriter"), acl=unknown_probe()))
    assert finding.status is Status.UNKNOWN and finding.remediation_id is None
    assert finding.error and "bucket ACL is unreadable" in finding.error


def test_acls_disabled_needs_no_acl() -> None:
    # BucketOwnerEnforced: ACLs no longer grant anything, the ACL itself is not needed
    assert run(CHECK, snapshot(acl=unknown_probe())).status is Status.PASS


def test_acls_enabled_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(ownership_controls=unknown_probe())).status is Status.UNKNOWN
