"""Bucket policy analysis engine: who each Allow reaches, for which actions, after the Denies.

We decide "public" ourselves (LocalStack does not emulate GetBucketPolicyStatus; on AWS a
public status overrides us, see the policy check). The rules follow "The meaning of public"
in the S3 user guide (Block Public Access):

- A statement reaches everyone when its principal is "*", {"AWS": "*"}, a wildcard ARN or
  NotPrincipal, unless a condition pins it to *fixed* values of a restricting key. A fixed
  value has no wildcard and no policy variable (``${aws:PrincipalAccount}`` pins nothing);
  aws:SourceIp ranges wider than /8 (IPv4) or /32 (IPv6) are not fixed.
- A Deny to everyone that is unconditional removes the actions it covers; one whose every
  condition is "caller outside a fixed set" (StringNotEquals aws:PrincipalAccount ...)
  narrows who is left to that set. Any other conditional Deny removes nothing for certain.
- Actions expand over every S3 action (``s3_actions.ACCESS_LEVELS``), so ``s3:Get*``,
  ``s3:*Object`` and NotAction leave exactly what AWS leaves. Action names match without
  case; resource ARNs match case-sensitively. Both know only the wildcards ``*`` and ``?``.

When unsure we say "reaches more": a false alarm costs a review, a miss costs a leak.
"""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from secagent.checks.s3_actions import ACCESS_LEVELS
from secagent.models.access import (
    BLOCKLISTED_ACTIONS,
    as_list,
    aws_principals,
    canonical_principals,
    principal_values,
    statements,
)

ALL_ACTIONS = tuple(ACCESS_LEVELS)
READ_LEVELS = frozenset({"Read", "List"})
WRITE_LEVELS = frozenset({"Write", "Permissions management", "Tagging"})

# Condition keys whose fixed values name the caller's account (value: an account id or an ARN).
ACCOUNT_KEYS = frozenset(
    {
        "aws:principalaccount",
        "aws:principalarn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "s3:dataaccesspointaccount",
        "s3:dataaccesspointarn",
    }
)
# Keys whose fixed values pin a statement to a fixed set of callers ("The meaning of public").
RESTRICTING_KEYS = ACCOUNT_KEYS | frozenset(
    {
        "aws:sourceip",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:sourcearn",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:userid",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    }
)
_POSITIVE_OPS = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})
_NEGATED_OPS = frozenset(
    {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals", "arnnotlike"}
)
_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):", re.IGNORECASE)
_ACCESS_POINT_ARN = re.compile(r"^arn:aws[a-z-]*:s3:[a-z0-9-]*:(\d{12}):accesspoint/", re.IGNORECASE)
_USERID_ROLE = re.compile(r"^[A-Z0-9]+:\*$")  # "AROAEXAMPLEID:*": a fixed role, any session


def is_everyone(stmt: dict[str, Any]) -> bool:
    """Principal is anyone: "*", {"AWS": "*"}, a wildcard ARN, or NotPrincipal (everyone but a few)."""
    if "NotPrincipal" in stmt:
        return True
    return any("*" in v for v in principal_values(stmt.get("Principal")))


def account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = _ACCOUNT_IN_ARN.match(principal) or _ACCESS_POINT_ARN.match(principal)
    return match.group(1) if match else None


# ---- IAM pattern matching: only * and ? are wildcards; actions ignore case, ARNs do not ----


@cache
def _compiled(pattern: str, ignore_case: bool, against_pattern: bool) -> re.Pattern[str]:
    """``against_pattern``: the other side is a pattern too; its "*" is covered only by our "*",
    and our "?" matches one character that is not a "*" of the other side."""
    one = "[^*]" if against_pattern else "."
    parts = (".*" if c == "*" else one if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    return _compiled(pattern, True, False).fullmatch(action) is not None


def resource_matches(pattern: str, arn: str) -> bool:
    return _compiled(pattern, False, False).fullmatch(arn) is not None


def resource_covers(outer: str, inner: str) -> bool:
    """Does every ARN that ``inner`` matches also match ``outer``? (sound, not complete)"""
    return _compiled(outer, False, True).fullmatch(inner) is not None


def action_covers(outer: str, inner: str) -> bool:
    return _compiled(outer, True, True).fullmatch(inner) is not None


def _expand(patterns: Iterable[str]) -> set[str]:
    """The S3 actions a list of Action patterns names; patterns naming none are kept verbatim."""
    found: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            found.update(ALL_ACTIONS)
            continue
        if not action_matches(pattern.partition(":")[0], "s3"):
            continue  # another service's action grants nothing on a bucket
        hits = {a for a in ALL_ACTIONS if action_matches(pattern, a)}
        found.update(hits or {pattern})
    return found


def granted_actions(stmt: dict[str, Any]) -> set[str]:
    """The actions an Allow's Action/NotAction covers: S3 actions, plus unknown patterns verbatim."""
    if "NotAction" in stmt:
        excluded = [str(p) for p in as_list(stmt["NotAction"])]
        return {a for a in ALL_ACTIONS if not any(action_matches(p, a) for p in excluded)}
    return _expand(str(p) for p in as_list(stmt.get("Action")))


def _deny_covers_action(deny: dict[str, Any], action: str) -> bool:
    if "NotAction" in deny:
        # Denies everything but the listed actions; an unknown pattern might overlap them.
        excluded = [str(p) for p in as_list(deny["NotAction"])]
        return action in ACCESS_LEVELS and not any(action_matches(p, action) for p in excluded)
    return any(action_covers(str(p), action) for p in as_list(deny.get("Action")))


def _within_bucket(allow: dict[str, Any], bucket: str) -> list[str]:
    """The Allow's resources as they apply to this bucket: a bucket policy acts on nothing else,
    so "*" or "arn:aws:s3:::data*" mean the bucket ARN and "<bucket>/*"."""
    bucket_arn, objects = f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"
    if "NotResource" in allow:
        return [bucket_arn, objects]
    found: list[str] = []
    for r in (str(r) for r in as_list(allow.get("Resource"))):
        if resource_matches(r, bucket_arn):
            found.append(bucket_arn)
        if resource_covers(r, objects):
            found.append(objects)
        elif r.startswith(f"{bucket_arn}/"):
            found.append(r)
    return found


def _deny_covers_resources(deny: dict[str, Any], allow: dict[str, Any], bucket: str) -> bool:
    if "NotResource" in deny:
        return False
    deny_res = [str(r) for r in as_list(deny.get("Resource"))]
    return all(any(resource_covers(d, r) for d in deny_res) for r in _within_bucket(allow, bucket))


# ---- conditions ----


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
    if "${" in text:
        return False  # a policy variable takes the caller's own value: it pins nothing
    if key == "aws:sourceip":
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return False
        # Ranges wider than /8 (IPv4) or /32 (IPv6) count as public, as in S3 Block Public Access.
        return net.prefixlen >= (8 if net.version == 4 else 32)
    if key == "aws:userid" and _USERID_ROLE.match(text):
        return True
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


@dataclass(frozen=True)
class Pin:
    """One condition that limits who a statement reaches: ``accounts`` when the key names accounts."""

    key: str
    values: tuple[str, ...]

    @property
    def accounts(self) -> frozenset[str] | None:
        if self.key.lower() not in ACCOUNT_KEYS:
            return None
        found = {account_of(v) for v in self.values}
        return None if None in found else frozenset(a for a in found if a)

    def __str__(self) -> str:
        return f"{self.key} in {list(self.values)}"


def allow_pins(condition: dict[str, Any] | None) -> list[Pin]:
    """Conditions pinning an Allow to fixed callers (all must hold: each one narrows)."""
    pins: list[Pin] = []
    for operator, block in (condition or {}).items():
        op, if_exists, qualifier = _split_op(operator)
        # IfExists / ForAllValues hold when the key is absent: they pin nothing.
        if if_exists or qualifier == "forallvalues" or op not in _POSITIVE_OPS | {"ipaddress"}:
            continue
        for key, values in (block or {}).items() if isinstance(block, dict) else ():
            if _restricts(key, values, op):
                pins.append(Pin(key, tuple(str(v) for v in as_list(values))))
    return pins


def deny_pins(condition: dict[str, Any] | None) -> list[Pin] | None:
    """What a conditional Deny to everyone leaves allowed: callers inside ANY of the returned pins
    (its conditions are ANDed, so it applies only outside all of them). None when every condition
    is not "caller outside a fixed set": then it restricts nothing for certain.
    """
    if not condition:
        return None
    pins: list[Pin] = []
    for operator, block in condition.items():
        op, _if_exists, qualifier = _split_op(operator)
        # Absent keys make negated operators true, so the Deny still applies: IfExists is fine here.
        if qualifier or op not in _NEGATED_OPS | {"notipaddress"} or not isinstance(block, dict) or not block:
            return None
        for key, values in block.items():
            if not _restricts(key, values, op):
                return None
            pins.append(Pin(key, tuple(str(v) for v in as_list(values))))
    return pins


# ---- who an Allow reaches ----


@dataclass(frozen=True)
class Audience:
    """Who a statement's action reaches.

    ``accounts`` None: any account (``public`` when nothing else pins it either); otherwise the
    account ids (and "canonical:<id>" for canonical-user principals not known to be the owner).
    """

    accounts: frozenset[str] | None
    pins: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.accounts is None and not self.pins

    def narrowed_to_any(self, pins: list[Pin]) -> "Audience":
        """Callers inside any one of ``pins`` keep access (a Deny's ANDed "outside" conditions)."""
        if len(pins) == 1:
            return self.narrowed(pins[0])
        described = " or ".join(str(p) for p in pins)
        accounts = [p.accounts for p in pins]
        if any(a is None for a in accounts):  # some callers pass by network or organisation
            return Audience(self.accounts, (*self.pins, described))
        union = frozenset().union(*(a for a in accounts if a is not None))
        merged = union if self.accounts is None else self.accounts & union
        return Audience(merged, (*self.pins, described))

    def narrowed(self, pin: Pin) -> "Audience":
        accounts = pin.accounts
        if accounts is None:
            return Audience(self.accounts, (*self.pins, str(pin)))
        merged = accounts if self.accounts is None else self.accounts & accounts
        return Audience(merged, (*self.pins, str(pin)))

    def without(self, accounts: frozenset[str]) -> "Audience":
        if self.accounts is None:
            return self  # denying a few accounts leaves "any account" as it was
        return Audience(self.accounts - accounts, self.pins)

    def others(self, owner: str | None) -> frozenset[str]:
        return frozenset() if self.accounts is None else frozenset(a for a in self.accounts if a != owner)


_ACCOUNT_ROOT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):root$")


def _whole_accounts(principal: Any) -> frozenset[str]:
    """Accounts a Principal names as a whole (an account id or its root ARN), not one identity."""
    found = set()
    for p in aws_principals(principal):
        if re.fullmatch(r"\d{12}", p):
            found.add(p)
        elif match := _ACCOUNT_ROOT.match(p):
            found.add(match.group(1))
    return frozenset(found)


def _principal_audience(stmt: dict[str, Any], owner_canonical_id: str | None) -> Audience | None:
    """Who the Principal element names, before conditions; None when it names nobody we count.

    Principals are ORed: each named account counts. A web-identity provider (graph.facebook.com,
    accounts.google.com, Cognito) reaches anyone who signs in there: everyone ("The meaning of
    public"); a SAML provider ARN is its account's. AWS principals without an account (a deleted
    identity's unique id, a CloudFront origin access identity) and services reach no other account.
    """
    if is_everyone(stmt):
        return Audience(None)
    principal = stmt.get("Principal")
    accounts: set[str] = set()
    federated = principal.get("Federated") if isinstance(principal, dict) else None
    for provider in (str(v) for v in as_list(federated)):
        acct = account_of(provider)
        if acct is None:
            return Audience(None)  # a web identity: anyone with an account there
        accounts.add(acct)
    accounts.update(a for p in aws_principals(principal) if (a := account_of(p)))
    for cid in canonical_principals(principal):
        if owner_canonical_id is None or cid != owner_canonical_id:
            accounts.add(f"canonical:{cid}")
    return Audience(frozenset(accounts)) if accounts else None


@dataclass(frozen=True)
class StatementReach:
    """One Allow statement after the Denies: per audience, the actions it still grants."""

    index: int
    sid: str | None
    statement: dict[str, Any]
    audience: Audience
    actions: tuple[str, ...]


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
    accounts: tuple[str, ...]  # named other accounts ("canonical:<id>" for canonical users)
    principals: tuple[str, ...]
    statement: dict[str, Any]
    actions: tuple[str, ...]
    via: tuple[str, ...]  # the conditions that pinned it to those accounts, if any


@dataclass(frozen=True)
class BlocklistedGrant:
    """FSBP S3.6: other accounts (named, or any when not pinned to the owner) allowed a blocklisted action."""

    index: int
    sid: str | None
    accounts: tuple[str, ...]  # empty: any account
    actions: tuple[str, ...]
    statement: dict[str, Any]


def _is_read(action: str) -> bool:
    level = ACCESS_LEVELS.get(action)
    return level in READ_LEVELS if level else True  # an unknown action might read


def _is_write(action: str) -> bool:
    level = ACCESS_LEVELS.get(action)
    return level in WRITE_LEVELS if level else True


@dataclass
class PolicyReport:
    public: list[PublicStatement] = field(default_factory=list)
    cross_account: list[CrossAccountGrant] = field(default_factory=list)
    blocklisted: list[BlocklistedGrant] = field(default_factory=list)
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


def _everyone(stmt: dict[str, Any]) -> bool:
    return "NotPrincipal" not in stmt and any(v == "*" for v in aws_principals(stmt.get("Principal")))


def _after_denies(
    audience: Audience,
    action: str,
    to_everyone: list[dict[str, Any]],
    naming: list[tuple[dict[str, Any], frozenset[str]]],
) -> Audience | None:
    """Who still may do ``action`` after the Denies (None: nobody, an unconditional Deny)."""
    for deny in to_everyone:
        if not _deny_covers_action(deny, action):
            continue
        if not deny.get("Condition"):
            return None
        narrowing = deny_pins(deny.get("Condition"))
        if narrowing is not None:
            audience = audience.narrowed_to_any(narrowing)
    for deny, accounts in naming:
        if _deny_covers_action(deny, action):
            audience = audience.without(accounts)
    return audience


def _reach(
    index: int,
    stmt: dict[str, Any],
    denies: list[dict[str, Any]],
    owner_canonical_id: str | None,
    bucket: str,
) -> list[StatementReach]:
    if stmt.get("Effect") != "Allow":
        return []
    base = _principal_audience(stmt, owner_canonical_id)
    if base is None:
        return []
    for pin in allow_pins(stmt.get("Condition")):
        base = base.narrowed(pin)
    # Denies to everyone over all of this statement's resources: unconditional ones remove actions,
    # "outside a fixed set" ones narrow who keeps them; others remove nothing for certain.
    applicable = [d for d in denies if _everyone(d) and _deny_covers_resources(d, stmt, bucket)]
    # Unconditional Denies naming whole accounts take those accounts out of a named audience.
    naming = [
        (d, accounts)
        for d in denies
        if not _everyone(d)
        and "NotPrincipal" not in d
        and not d.get("Condition")
        and _deny_covers_resources(d, stmt, bucket)
        and (accounts := _whole_accounts(d.get("Principal")))
    ]
    by_audience: dict[Audience, list[str]] = {}
    for action in sorted(granted_actions(stmt)):
        audience = _after_denies(base, action, applicable, naming)
        if audience is not None and audience.accounts != frozenset():
            by_audience.setdefault(audience, []).append(action)
    return [
        StatementReach(index, stmt.get("Sid"), stmt, aud, tuple(acts)) for aud, acts in by_audience.items()
    ]


def _insecure_transport_only(stmt: dict[str, Any]) -> bool:
    """A Deny to everyone whose one condition is Bool aws:SecureTransport "false"."""
    if stmt.get("Effect") != "Deny" or not _everyone(stmt) or "NotResource" in stmt:
        return False
    condition = stmt.get("Condition") or {}
    if len(condition) != 1:
        return False
    ((operator, block),) = condition.items()
    op, _if_exists, qualifier = _split_op(operator)
    if op != "bool" or qualifier or not isinstance(block, dict) or len(block) != 1:
        return False
    ((key, values),) = block.items()
    return key.lower() == "aws:securetransport" and [str(v).lower() for v in as_list(values)] == ["false"]


def tls_deny_statements(stmts: list[dict[str, Any]], bucket: str) -> list[int] | None:
    """The insecure-transport Denies that together deny every S3 action on the bucket and on all
    its objects (FSBP S3.5, Config s3-bucket-ssl-requests-only), or None when some action stays
    allowed over plain HTTP. Several statements may share the work (one per resource)."""
    candidates = [(i, s) for i, s in enumerate(stmts) if _insecure_transport_only(s)]
    used: set[int] = set()
    for needed in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"):
        covering = [
            (i, s)
            for i, s in candidates
            if any(resource_covers(str(r), needed) for r in as_list(s.get("Resource")))
        ]
        denied = {a for _, s in covering for a in ALL_ACTIONS if _deny_covers_action(s, a)}
        if denied != set(ALL_ACTIONS):
            return None
        used.update(i for i, _ in covering)
    return sorted(used)


def analyze_policy(
    policy: dict[str, Any] | None,
    bucket: str,
    owner_account: str | None = None,
    trusted_accounts: frozenset[str] = frozenset(),
    owner_canonical_id: str | None = None,
) -> PolicyReport:
    stmts = statements(policy)
    denies = [s for s in stmts if s.get("Effect") == "Deny"]
    report = PolicyReport()
    for i, stmt in enumerate(stmts):
        reaches = _reach(i, stmt, denies, owner_canonical_id, bucket)
        public = sorted({a for r in reaches if r.audience.public for a in r.actions})
        if public:
            read = any(_is_read(a) for a in public)
            write = any(_is_write(a) for a in public)
            report.public.append(PublicStatement(i, stmt.get("Sid"), read, write, tuple(public), stmt))
        named = [r for r in reaches if r.audience.others(owner_account) - trusted_accounts]
        if named and owner_account is not None:
            accounts = sorted({a for r in named for a in r.audience.others(owner_account) - trusted_accounts})
            principals = [p for p in aws_principals(stmt.get("Principal")) if account_of(p) in accounts]
            report.cross_account.append(
                CrossAccountGrant(
                    index=i,
                    sid=stmt.get("Sid"),
                    accounts=tuple(accounts),
                    principals=tuple(principals),
                    statement=stmt,
                    actions=tuple(sorted({a for r in named for a in r.actions})),
                    via=tuple(sorted({p for r in named for p in r.audience.pins})),
                )
            )
        blocked = _blocklisted(i, stmt, reaches, owner_account)
        if blocked:
            report.blocklisted.append(blocked)
    report.tls_deny_indices = tls_deny_statements(stmts, bucket) or []
    return report


def _blocklisted(
    index: int, stmt: dict[str, Any], reaches: list[StatementReach], owner: str | None
) -> BlocklistedGrant | None:
    accounts: set[str] = set()
    actions: set[str] = set()
    any_account = False
    for r in reaches:
        hits = [a for a in r.actions if a in BLOCKLISTED_ACTIONS]
        if not hits:
            continue
        if r.audience.accounts is None:
            any_account = True  # anyone, or anyone inside a network/organisation: other accounts too
        elif others := r.audience.others(owner):
            accounts |= others
        else:
            continue
        actions.update(hits)
    if not actions or (owner is None and not any_account):
        return None
    return BlocklistedGrant(index, stmt.get("Sid"), () if any_account else tuple(sorted(accounts)),
                            tuple(sorted(actions)), stmt)  # fmt: skip
