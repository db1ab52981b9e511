"""How S3 spells access to a bucket: the ACL's public groups and a bucket policy's elements.

Read the same way by the checks that judge a bucket's access (secagent.checks) and by the fixes
that edit it (secagent.fixes). Plain values and readers only: who a statement actually reaches is
the policy engine's question (secagent.checks.policy).
"""

from typing import Any

# ACL grantee groups that make a grant public (S3 user guide, "The meaning of public").
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)

# FSBP S3.6 (Config rule s3-bucket-blacklisted-actions-prohibited, as Security Hub sets it).
BLOCKLISTED_ACTIONS = (
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
)


def as_list(value: Any) -> list[Any]:
    """A policy element that may be written as one value or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def statements(policy: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]


def principal_values(principal: Any) -> list[str]:
    """Flatten a Principal/NotPrincipal element to its string values ("*" stays "*")."""
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, dict):
        return [str(v) for values in principal.values() for v in as_list(values)]
    return [str(v) for v in as_list(principal)]


def aws_principals(principal: Any) -> list[str]:
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, dict):
        return [str(v) for v in as_list(principal.get("AWS"))]
    return []


def canonical_principals(principal: Any) -> list[str]:
    if isinstance(principal, dict):
        return [str(v) for v in as_list(principal.get("CanonicalUser"))]
    return []
