"""Surgical bucket policy edits. They edit the existing document, never replace it wholesale."""

import copy
from typing import Any

from secagent.checks.policy import account_of, aws_principals, is_everyone, statements

TLS_SID = "DenyInsecureTransport"


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
    sids = {s.get("Sid") for s in stmts}
    sid = (
        TLS_SID
        if TLS_SID not in sids
        else next(f"{TLS_SID}{n}" for n in range(2, 100) if f"{TLS_SID}{n}" not in sids)
    )
    result = _with_statements(policy, [*stmts, tls_deny_statement(bucket, sid)])
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


def foreign_principals(
    policy: dict[str, Any] | None, owner: str | None, trusted: frozenset[str]
) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for i, stmt in enumerate(statements(policy)):
        if stmt.get("Effect") != "Allow" or "Principal" not in stmt:
            continue
        bad = {
            p
            for p in aws_principals(stmt["Principal"])
            if (a := account_of(p)) and a != owner and a not in trusted
        }
        if bad:
            found[i] = bad
    return found


__all__ = [
    "TLS_SID",
    "UnsafePolicyEdit",
    "add_tls_deny",
    "foreign_principals",
    "guard",
    "is_everyone",
    "remove_principals",
    "restrict_to_account",
    "tls_deny_statement",
]
