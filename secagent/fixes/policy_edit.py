"""Surgical bucket policy edits. They edit the existing document, never replace it wholesale."""

import copy
from typing import Any

from secagent.models.access import BLOCKLISTED_ACTIONS, aws_principals, statements

TLS_SID = "DenyInsecureTransport"
BLOCKLIST_SID = "DenyOtherAccountsBucketControl"


class UnsafePolicyEdit(ValueError):
    """The edited policy could lock the account's own administrators out."""


def _with_statements(policy: dict[str, Any] | None, stmts: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not stmts:
        return None
    base: dict[str, Any] = copy.deepcopy(policy) if policy else {"Version": "2012-10-17"}
    base.setdefault("Version", "2012-10-17")
    base["Statement"] = stmts
    return base


def restrict_to_account(
    policy: dict[str, Any], indices: list[int], account_id: str | None
) -> dict[str, Any] | None:
    """Pin public Allow statements to the owner account (aws:PrincipalAccount); drop them if it is unknown."""
    result: list[dict[str, Any]] = []
    for i, stmt in enumerate(copy.deepcopy(statements(policy))):
        if i not in indices:
            result.append(stmt)
        elif account_id:
            cond = stmt.setdefault("Condition", {})
            cond.setdefault("StringEquals", {})["aws:PrincipalAccount"] = account_id
            result.append(stmt)
    return guard(policy, _with_statements(policy, result))


def remove_principals(policy: dict[str, Any], removals: dict[int, set[str]]) -> dict[str, Any] | None:
    """Remove the given AWS principals from statements; a statement left with no principal goes."""
    result: list[dict[str, Any]] = []
    for i, stmt in enumerate(copy.deepcopy(statements(policy))):
        drop = removals.get(i)
        if not drop:
            result.append(stmt)
            continue
        principal = stmt["Principal"]
        keep = [p for p in aws_principals(principal) if p not in drop]
        others = {k: v for k, v in principal.items() if k != "AWS"} if isinstance(principal, dict) else {}
        if keep:
            others["AWS"] = keep[0] if len(keep) == 1 else keep
        if others:
            stmt["Principal"] = others
            result.append(stmt)
    return guard(policy, _with_statements(policy, result))


def tls_deny_statement(bucket: str, sid: str = TLS_SID) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def add_tls_deny(policy: dict[str, Any] | None, bucket: str) -> dict[str, Any]:
    stmts = copy.deepcopy(statements(policy))
    result = _with_statements(policy, [*stmts, tls_deny_statement(bucket, _free_sid(stmts, TLS_SID))])
    assert result is not None
    return guard(policy, result) or result


def _free_sid(stmts: list[dict[str, Any]], sid: str) -> str:
    sids = {s.get("Sid") for s in stmts}
    return sid if sid not in sids else next(f"{sid}{n}" for n in range(2, 100) if f"{sid}{n}" not in sids)


def deny_blocklisted_to_other_accounts(
    policy: dict[str, Any] | None, bucket: str, owner_account: str
) -> dict[str, Any]:
    """Add one Deny: no account but the owner may change the bucket's policy, ACLs or encryption
    (the S3.6 actions). Everything else the policy grants other accounts is left as it is."""
    stmts = copy.deepcopy(statements(policy))
    deny = {
        "Sid": _free_sid(stmts, BLOCKLIST_SID),
        "Effect": "Deny",
        "Principal": "*",
        "Action": list(BLOCKLISTED_ACTIONS),
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": owner_account}},
    }
    result = _with_statements(policy, [*stmts, deny])
    assert result is not None
    return guard(policy, result) or result


def guard(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """Refuse any edit that adds a Deny able to stop the account's administrators.

    Every Deny we add must carry a condition (e.g. insecure transport only) and name no
    NotPrincipal; existing statements are the owner's and are kept as they are.
    """
    old = [s for s in statements(before)]
    for stmt in statements(after):
        if stmt.get("Effect") != "Deny" or stmt in old:
            continue
        if "NotPrincipal" in stmt or not stmt.get("Condition"):
            raise UnsafePolicyEdit(f"refusing to add an unconditional Deny: {stmt}")
    return after


__all__ = [
    "TLS_SID",
    "UnsafePolicyEdit",
    "add_tls_deny",
    "deny_blocklisted_to_other_accounts",
    "guard",
    "remove_principals",
    "restrict_to_account",
    "tls_deny_statement",
]
