"""What each API call a fix may emit changes: the configuration field it rewrites, and the
parameter that names the resource it acts on. The gate accepts no other call; Recheck compares
exactly these fields before Apply."""

from secagent.models.plans import ApiCall
from secagent.models.security_group import ANY_IPV4, ANY_IPV6
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType

# (service, operation) -> the configuration field it changes.
FIELD_OF_OPERATION: dict[tuple[str, str], str] = {
    ("s3", "PutPublicAccessBlock"): "public_access_block",
    ("s3", "DeletePublicAccessBlock"): "public_access_block",
    ("s3control", "PutPublicAccessBlock"): "account_public_access_block",
    ("s3control", "DeletePublicAccessBlock"): "account_public_access_block",
    ("s3", "PutBucketAcl"): "acl",
    ("s3", "PutBucketOwnershipControls"): "ownership_controls",
    ("s3", "DeleteBucketOwnershipControls"): "ownership_controls",
    ("s3", "PutBucketPolicy"): "policy",
    ("s3", "DeleteBucketPolicy"): "policy",
    ("s3", "PutBucketEncryption"): "encryption",
    ("s3", "DeleteBucketEncryption"): "encryption",
    ("s3", "PutBucketVersioning"): "versioning",
    ("s3", "PutBucketLogging"): "logging",
    ("s3", "PutBucketLifecycleConfiguration"): "lifecycle_rules",
    ("s3", "DeleteBucketLifecycle"): "lifecycle_rules",
    ("s3", "PutObjectLockConfiguration"): "object_lock",
    ("s3", "PutBucketCors"): "cors",
    ("s3", "DeleteBucketCors"): "cors",
    ("s3", "PutBucketWebsite"): "website",
    ("s3", "DeleteBucketWebsite"): "website",
    ("ec2", "RevokeSecurityGroupIngress"): "ingress_rules",
    ("ec2", "AuthorizeSecurityGroupIngress"): "ingress_rules",
    ("ec2", "ModifySecurityGroupRules"): "ingress_rules",
    ("ec2", "RevokeSecurityGroupEgress"): "egress_rules",
    ("ec2", "AuthorizeSecurityGroupEgress"): "egress_rules",
}

# Calls that widen access: only a rollback (re-opening what a fix closed) may make them.
OPENING_OPERATIONS = frozenset(
    {("ec2", "AuthorizeSecurityGroupIngress"), ("ec2", "AuthorizeSecurityGroupEgress")}
)
_INTERNET_WIDE = frozenset({ANY_IPV4, ANY_IPV6})


def opens_access(call: ApiCall) -> bool:
    """Does ``call`` widen access? An authorize does; so does a rule modified to admit the whole
    internet (the rollback of a narrowing)."""
    if (call.service, call.operation) in OPENING_OPERATIONS:
        return True
    if (call.service, call.operation) == ("ec2", "ModifySecurityGroupRules"):
        rules = call.parameters.get("SecurityGroupRules") or []
        return any(
            {(r.get("SecurityGroupRule") or {}).get(k) for k in ("CidrIpv4", "CidrIpv6")} & _INTERNET_WIDE
            or (r.get("SecurityGroupRule") or {}).get("PrefixListId")
            for r in rules
            if isinstance(r, dict)
        )
    return False


# The services whose calls change a whole account, not the audited resource.
ACCOUNT_WIDE_SERVICES = frozenset({"s3control"})
# Per resource type: (service, the parameter naming the resource) of every call a fix of it makes.
TARGET_PARAMETER: dict[ResourceType, tuple[str, str]] = {
    BUCKET: ("s3", "Bucket"),
    SECURITY_GROUP: ("ec2", "GroupId"),
}
