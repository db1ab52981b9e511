"""Bucket policy analysis engine: public statements, cross-account grants, TLS-only deny.

We decide "public" ourselves (LocalStack does not emulate GetBucketPolicyStatus). The
rules follow S3 Block Public Access's definition: a statement is public when it allows
everyone (Principal "*", {"AWS": "*"}, an ARN with a wildcard, or NotPrincipal) and no
condition pins it to a fixed set of callers. When unsure we say "public": a false alarm
costs a review, a miss costs a leak.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

READ_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAcl",
    "s3:GetObjectTagging",
    "s3:GetObjectAttributes",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetBucketAcl",
    "s3:GetBucketPolicy",
    "s3:GetBucketLocation",
    "s3:GetBucketWebsite",
    "s3:GetBucketCORS",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
)
WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectTagging",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucket",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketWebsite",
    "s3:PutBucketCORS",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketVersioning",
    "s3:PutBucketOwnershipControls",
)
KNOWN_ACTIONS = READ_ACTIONS + WRITE_ACTIONS

# Condition keys that pin a statement to a fixed set of callers when given fixed values.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceIp",
        "aws:SourceVpc",
        "aws:SourceVpce",
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:SourceAccount",
        "aws:SourceArn",
        "aws:SourceOwner",
        "aws:SourceOrgID",
        "aws:SourceOrgPaths",
        "aws:userid",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
    )
)
_POSITIVE_OPS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_NEGATED_OPS = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):")


def as_list(value: Any) -> list[Any]:
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


def is_everyone(stmt: dict[str, Any]) -> bool:
    """Principal is anyone: "*", {"AWS": "*"}, a wildcard ARN, or NotPrincipal (everyone but a few)."""
    if "NotPrincipal" in stmt:
        return True
    return any("*" in v for v in principal_values(stmt.get("Principal")))


def account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = _ACCOUNT_IN_ARN.match(principal)
    return match.group(1) if match else None


def _split_op(operator: str) -> tuple[str, bool, str | None]:
    """'ForAnyValue:StringEqualsIfExists' -> ('stringequals', if_exists=True, 'foranyvalue')."""
    op = operator.lower()
    qualifier = None
    if ":" in op:
        qualifier, op = op.split(":", 1)
    if_exists = op.endswith("ifexists")
    return op.removesuffix("ifexists"), if_exists, qualifier


def _is_fixed_value(key: str, value: Any) -> bool:
    text = str(value)
    if key == "aws:sourceip":
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return False
        # Ranges wider than /8 (IPv4) or /32 (IPv6) count as public, as in S3 Block Public Access.
        return net.prefixlen >= (8 if net.version == 4 else 32)
    return bool(text) and "*" not in text and "?" not in text


def _restricts(key: str, values: Any, op: str) -> bool:
    key = key.lower()
    if key not in RESTRICTING_KEYS:
        return False
    vals = as_list(values)
    if not vals or not all(_is_fixed_value(key, v) for v in vals):
        return False
    if key == "aws:sourceip":
        return op in {"ipaddress", "notipaddress"}
    return op in _POSITIVE_OPS | _NEGATED_OPS


def allow_condition_restricts(condition: dict[str, Any] | None) -> str | None:
    """The condition pinning an Allow to fixed callers, or None. Conditions are ANDed: one suffices."""
    for operator, block in (condition or {}).items():
        op, if_exists, qualifier = _split_op(operator)
        # IfExists / ForAllValues hold when the key is absent: they pin nothing.
        if if_exists or qualifier == "forallvalues" or op not in _POSITIVE_OPS | {"ipaddress"}:
            continue
        for key, values in (block or {}).items():
            if _restricts(key, values, op):
                return f"{operator} {key}"
    return None


def deny_condition_restricts(condition: dict[str, Any] | None) -> bool:
    """A conditional Deny pins access when every condition is "caller outside a fixed set"."""
    if not condition:
        return False
    for operator, block in condition.items():
        op, _if_exists, qualifier = _split_op(operator)
        # Absent keys make negated operators true, so the Deny still applies: IfExists is fine here.
        if qualifier or op not in _NEGATED_OPS | {"notipaddress"}:
            return False
        if not block or not all(_restricts(k, v, op) for k, v in block.items()):
            return False
    return True


def pattern_matches(pattern: str, value: str) -> bool:
    return fnmatchcase(value.lower(), pattern.lower())


def pattern_covers(outer: str, inner: str) -> bool:
    """Does every value matched by ``inner`` also match ``outer``? (sound, not complete)"""
    return outer == "*" or pattern_matches(outer, inner)


def granted_actions(stmt: dict[str, Any]) -> set[str]:
    """Known S3 actions the statement's Action/NotAction covers; unknown action patterns kept verbatim."""
    if "NotAction" in stmt:
        excluded = as_list(stmt["NotAction"])
        return {a for a in KNOWN_ACTIONS if not any(pattern_matches(p, a) for p in excluded)}
    patterns = [str(p) for p in as_list(stmt.get("Action"))]
    known = {a for a in KNOWN_ACTIONS for p in patterns if pattern_matches(p, a)}
    unknown = {p for p in patterns if not any(pattern_matches(p, a) for a in KNOWN_ACTIONS)}
    return known | unknown


def _deny_covers_resources(deny: dict[str, Any], allow: dict[str, Any]) -> bool:
    if "NotResource" in deny:
        return False
    deny_res = [str(r) for r in as_list(deny.get("Resource"))]
    if "NotResource" in allow:
        return "*" in deny_res
    return all(any(pattern_covers(d, str(r)) for d in deny_res) for r in as_list(allow.get("Resource")))


def _deny_blocks(deny: dict[str, Any], action: str) -> bool:
    if "NotAction" in deny:
        return False
    return any(pattern_covers(str(p), action) for p in as_list(deny.get("Action")))


@dataclass(frozen=True)
class PublicStatement:
    index: int
    sid: str | None
    read: bool
    write: bool
    actions: tuple[str, ...]
    statement: dict[str, Any]


@dataclass(frozen=True)
class CrossAccountGrant:
    index: int
    sid: str | None
    accounts: tuple[str, ...]
    principals: tuple[str, ...]
    statement: dict[str, Any]


@dataclass
class PolicyReport:
    public: list[PublicStatement] = field(default_factory=list)
    cross_account: list[CrossAccountGrant] = field(default_factory=list)
    tls_deny_indices: list[int] = field(default_factory=list)

    @property
    def is_public(self) -> bool:
        return bool(self.public)

    @property
    def public_read(self) -> bool:
        return any(p.read for p in self.public)

    @property
    def public_write(self) -> bool:
        return any(p.write for p in self.public)

    @property
    def tls_enforced(self) -> bool:
        return bool(self.tls_deny_indices)


def _public_verdict(index: int, stmt: dict[str, Any], denies: list[dict[str, Any]]) -> PublicStatement | None:
    if stmt.get("Effect") != "Allow" or not is_everyone(stmt):
        return None
    if allow_condition_restricts(stmt.get("Condition")):
        return None
    # Only Denies that apply to everyone and are unconditional, or pin callers to a fixed set, remove access.
    cancelling = [
        d
        for d in denies
        if d.get("Principal") is not None
        and any(v == "*" for v in aws_principals(d["Principal"]))
        and (not d.get("Condition") or deny_condition_restricts(d.get("Condition")))
        and _deny_covers_resources(d, stmt)
    ]
    remaining = sorted(a for a in granted_actions(stmt) if not any(_deny_blocks(d, a) for d in cancelling))
    if not remaining:
        return None
    unknown = [a for a in remaining if a not in KNOWN_ACTIONS]
    return PublicStatement(
        index=index,
        sid=stmt.get("Sid"),
        read=any(a in READ_ACTIONS for a in remaining) or bool(unknown),
        write=any(a in WRITE_ACTIONS for a in remaining) or bool(unknown),
        actions=tuple(remaining),
        statement=stmt,
    )


def _cross_account(
    index: int, stmt: dict[str, Any], owner: str | None, trusted: frozenset[str]
) -> CrossAccountGrant | None:
    if stmt.get("Effect") != "Allow" or "Principal" not in stmt:
        return None
    foreign = [
        p
        for p in aws_principals(stmt["Principal"])
        if (acct := account_of(p)) is not None and acct != owner and acct not in trusted
    ]
    if not foreign:
        return None
    accounts = tuple(sorted({a for p in foreign if (a := account_of(p))}))
    return CrossAccountGrant(index, stmt.get("Sid"), accounts, tuple(foreign), stmt)


def is_tls_deny(stmt: dict[str, Any], bucket: str) -> bool:
    if stmt.get("Effect") != "Deny" or not any(v == "*" for v in aws_principals(stmt.get("Principal"))):
        return False
    if not all(_deny_blocks(stmt, a) for a in ("s3:GetObject", "s3:PutObject", "s3:ListBucket")):
        return False
    resources = [str(r) for r in as_list(stmt.get("Resource"))]
    needed = (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*")
    if "NotResource" in stmt or not all(any(pattern_covers(r, n) for r in resources) for n in needed):
        return False
    for operator, block in (stmt.get("Condition") or {}).items():
        op, _, qualifier = _split_op(operator)
        if op == "bool" and not qualifier:
            for key, values in (block or {}).items():
                if key.lower() == "aws:securetransport" and [str(v).lower() for v in as_list(values)] == [
                    "false"
                ]:
                    return len(stmt["Condition"]) == 1 and len(block) == 1
    return False


def analyze_policy(
    policy: dict[str, Any] | None,
    bucket: str,
    owner_account: str | None = None,
    trusted_accounts: frozenset[str] = frozenset(),
) -> PolicyReport:
    stmts = statements(policy)
    denies = [s for s in stmts if s.get("Effect") == "Deny"]
    report = PolicyReport()
    for i, stmt in enumerate(stmts):
        if verdict := _public_verdict(i, stmt, denies):
            report.public.append(verdict)
        if grant := _cross_account(i, stmt, owner_account, trusted_accounts):
            report.cross_account.append(grant)
        if is_tls_deny(stmt, bucket):
            report.tls_deny_indices.append(i)
    return report
