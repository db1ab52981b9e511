"""Build snapshots for check tests: a fully hardened bucket, then change one field."""

from datetime import UTC, datetime
from typing import Any

from secagent.checks import get_check, run_check
from secagent.models import (
    Acl,
    AgentSettings,
    BucketSnapshot,
    Encryption,
    Finding,
    Grant,
    Logging,
    ObjectLock,
    Probe,
    PublicAccessBlock,
    ReadBy,
    ResourceRef,
    S3BucketConfig,
    Versioning,
)

BUCKET = "check-fixture-bucket"
ACCOUNT = "111122223333"
OWNER_ID = "a" * 64
ALL_ON = PublicAccessBlock(
    block_public_acls=True, ignore_public_acls=True, block_public_policy=True, restrict_public_buckets=True
)
TLS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}


def hardened_config() -> dict[str, Probe[Any]]:
    """Every check passes on this configuration (asserted in test_registry)."""
    return {
        "public_access_block": Probe(value=ALL_ON),
        "account_public_access_block": Probe(value=ALL_ON),
        "acl": Probe(
            value=Acl(
                owner_id=OWNER_ID,
                grants=[Grant(grantee_type="CanonicalUser", grantee_id=OWNER_ID, permission="FULL_CONTROL")],
            )
        ),
        "ownership_controls": Probe(value="BucketOwnerEnforced"),
        "policy": Probe(value=TLS_POLICY),
        "policy_status_is_public": Probe(value=False),
        "encryption": Probe(
            value=Encryption(
                algorithm="aws:kms",
                kms_key_id="alias/data",
                bucket_key_enabled=True,
                blocked_encryption_types=["SSE-C"],
            )
        ),
        "versioning": Probe(value=Versioning(status="Enabled", mfa_delete="Enabled")),
        "logging": Probe(value=Logging(target_bucket="central-access-logs", target_prefix=f"{BUCKET}/")),
        "lifecycle_rules": Probe(
            value=[{"ID": "expire-noncurrent", "Status": "Enabled", "Filter": {"Prefix": ""}}]
        ),
        "object_lock": Probe(value=ObjectLock(enabled=True)),
        "website": Probe(value=None),
        "cors": Probe(value=None),
        "replication": Probe(value=None),
        "notifications": Probe(value={"EventBridgeConfiguration": {}}),
        "tags": Probe(value={"team": "security"}),
    }


def snapshot(account_id: str | None = ACCOUNT, **overrides: Probe[Any]) -> BucketSnapshot:
    return BucketSnapshot(
        resource=ResourceRef(id=BUCKET),
        account_id=account_id,
        region="us-east-1",
        read_at=datetime(2026, 1, 1, tzinfo=UTC),
        read_by=ReadBy(how="fixture", calls=0, concurrent=False, duration_ms=0.0),
        config=S3BucketConfig(**{**hardened_config(), **overrides}),
    )


OPEN = PublicAccessBlock()  # all four Block Public Access settings off


def exposed(account_id: str | None = ACCOUNT, **overrides: Probe[Any]) -> BucketSnapshot:
    """The hardened bucket with Block Public Access off at both levels: nothing neutralises a
    public ACL or policy (the BPA checks fail too)."""
    bpa_off: dict[str, Probe[Any]] = {
        "public_access_block": Probe(value=OPEN),
        "account_public_access_block": Probe(value=OPEN),
    }
    return snapshot(account_id, **{**bpa_off, **overrides})


def run(check_id: str, snap: BucketSnapshot, settings: AgentSettings | None = None) -> Finding:
    [finding] = run_check(get_check(check_id), snap, settings or AgentSettings())
    return finding


def public_grant(group: str, permission: str) -> Grant:
    return Grant(
        grantee_type="Group",
        grantee_uri=f"http://acs.amazonaws.com/groups/global/{group}",
        permission=permission,
    )


def acl_with(*grants: Grant) -> Probe[Acl]:
    owner = Grant(grantee_type="CanonicalUser", grantee_id=OWNER_ID, permission="FULL_CONTROL")
    return Probe(value=Acl(owner_id=OWNER_ID, grants=[owner, *grants]))


def policy_with(*stmts: dict[str, Any]) -> Probe[dict[str, Any]]:
    return Probe(value={"Version": "2012-10-17", "Statement": [*TLS_POLICY["Statement"], *stmts]})


def unknown_probe(reason: str = "AccessDenied: Access Denied") -> Probe[Any]:
    return Probe(state="unknown", reason=reason)
