"""A small evaluator of AWS's policy evaluation logic for requests within ONE account.

Follows the IAM User Guide, "Policy evaluation logic" and "Policy evaluation for requests within a
single account":
  1. an explicit Deny in any applicable policy (identity, resource, KMS key policy) decides;
  2. otherwise an Allow in an identity policy OR in the resource policy (naming the principal) allows;
  3. otherwise the request is implicitly denied.
KMS is the exception: the key policy must allow, either directly or through the account-root
statement that delegates to IAM, in which case an identity policy must allow too.

Not modelled (docs/iam.md): cross-account requests, SCPs/RCPs, permission boundaries, session
policies, VPC endpoint policies, ACLs, policy variables, set operators (ForAnyValue/ForAllValues),
operators other than the String/Arn/Bool/Null families. Anything unmodelled raises instead of
guessing, so a proof built on this cannot pass by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from tests.iam.arn import parse_arn

ContextValue = str | bool | int


class NotModelled(ValueError):
    """A policy feature this evaluator does not model (policy variables, set or numeric/date/IP
    operators, multi-valued keys). It refuses instead of guessing: a guess could pass a role that
    AWS would deny, or the other way round."""


@dataclass(frozen=True)
class Request:
    """One authorization request.

    `principal_arn` is the IAM role (or user) ARN, the value of aws:PrincipalArn (for a Lambda
    function: its execution role's ARN, not the assumed-role session ARN); or a service principal
    such as "events.amazonaws.com". `resource` is one ARN, or "*" for an action without
    resource-level permissions (tests.iam.actions.resource_arns gives both).
    `context` holds condition keys; evaluate() fills what AWS always sets and the caller did not:
    aws:PrincipalArn, aws:PrincipalAccount (from the principal ARN), aws:ResourceAccount (from the
    resource ARN, else the evaluated account) and aws:SecureTransport = true (the SDKs use TLS; pass
    False to model a plain-HTTP request).
    """

    principal_arn: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """A policy's statements and a name for reasons (an AWS::IAM::Policy name, "bucket policy")."""

    statements: Sequence[Mapping[str, Any]]
    name: str = ""

    @classmethod
    def from_document(cls, document: Mapping[str, Any], name: str = "") -> Policy:
        """From a policy document; the name defaults to its optional "Id" element."""
        statements = document.get("Statement", [])
        if isinstance(statements, Mapping):
            statements = [statements]  # a single statement may be written without the list
        return cls(list(statements), name or str(document.get("Id", "")))


PolicyLike = Policy | Mapping[str, Any]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # names the deciding statement (Sid, else its index) and its policy


def evaluate(
    request: Request,
    identity_policies: Sequence[PolicyLike],
    resource_policy: PolicyLike | None,
    *,
    kms_key_policy: PolicyLike | None = None,
    account: str,
) -> Decision:
    """Whether `request` is allowed within `account` (the account of the principal and the resource)."""
    if resource_policy is not None and kms_key_policy is not None:
        raise ValueError("a KMS request's resource policy is its key policy: pass only kms_key_policy")
    principal = _Principal.of(request.principal_arn, account)
    context = _context(request, principal, account)
    identities = [
        _Source(policy, f"identity policy {policy.name or f'#{i}'!r}", is_resource=False)
        for i, policy in enumerate(map(_policy, identity_policies))
    ]
    if identities and principal.service is not None:
        raise ValueError(f"{request.principal_arn} is a service principal: it has no identity policies")
    resource = None if resource_policy is None else _Source(_policy(resource_policy), "resource policy")
    key = None if kms_key_policy is None else _Source(_policy(kms_key_policy), "KMS key policy")
    every = [*identities, *(s for s in (resource, key) if s is not None)]

    # 1. An explicit Deny anywhere decides. (A Deny naming the account applies to all its principals.)
    for source in every:
        for label, _ in source.matching(request, principal, context, "Deny"):
            return Decision(False, f"explicit Deny by {source.label} statement {label}")

    identity_allow = next(
        (
            f"{s.label} statement {label}"
            for s in identities
            for label, _ in s.matching(request, principal, context, "Allow")
        ),
        None,
    )

    # 2. KMS: the key policy must allow, directly or by delegating to IAM (then IAM must allow too).
    if key is not None:
        delegation = None
        for label, grant in key.matching(request, principal, context, "Allow"):
            if grant is _Grant.DIRECT:
                return Decision(True, f"Allow by {key.label} statement {label}")
            delegation = delegation or label
        if delegation is None:
            return Decision(
                False,
                f"implicit deny: the {key.label} neither allows {request.action} nor delegates it to IAM",
            )
        if identity_allow is None:
            return Decision(
                False,
                f"implicit deny: {key.label} statement {delegation} delegates to IAM, "
                f"but no identity policy allows {request.action} on {request.resource}",
            )
        return Decision(
            True, f"Allow by {identity_allow} ({key.label} statement {delegation} delegates to IAM)"
        )

    # 2. Elsewhere, within one account, an Allow in an identity policy or the resource policy suffices.
    if identity_allow is not None:
        return Decision(True, f"Allow by {identity_allow}")
    if resource is not None:
        for label, grant in resource.matching(request, principal, context, "Allow"):
            # A statement naming only the account delegates to IAM: it grants no principal by itself.
            if grant is _Grant.DIRECT:
                return Decision(True, f"Allow by {resource.label} statement {label}")
    return Decision(False, f"implicit deny: no statement allows {request.action} on {request.resource}")


# --- principals -----------------------------------------------------------------------------------


class _Grant(Enum):
    DIRECT = "direct"  # the statement names the principal (or "*")
    ACCOUNT = "account"  # the statement names the principal's account: delegation to IAM


@dataclass(frozen=True)
class _Principal:
    arn: str | None
    account: str | None
    partition: str
    service: str | None

    @classmethod
    def of(cls, principal: str, account: str) -> _Principal:
        arn = parse_arn(principal)
        if arn is None:
            if not principal.endswith(".amazonaws.com"):
                raise ValueError(f"principal {principal!r} is neither an ARN nor a service principal")
            return cls(None, None, "aws", principal)
        if arn.account != account:
            raise ValueError(
                f"principal {principal} is in account {arn.account}, not {account}: "
                "cross-account requests are not modelled"
            )
        return cls(principal, arn.account, arn.partition, None)

    def named_by(self, element: Any) -> _Grant | None:
        """How a Principal/NotPrincipal element names this principal, if at all."""
        if element == "*":
            return _Grant.DIRECT
        if not isinstance(element, Mapping):
            raise ValueError(f"malformed Principal {element!r}")
        best: _Grant | None = None
        for kind, values in element.items():
            for value in [values] if isinstance(values, str) else values:
                grant = self._names(kind, str(value))
                if grant is _Grant.DIRECT:
                    return grant
                best = best or grant
        return best

    def _names(self, kind: str, value: str) -> _Grant | None:
        if kind == "Service":
            return _Grant.DIRECT if value == self.service else None
        if kind != "AWS":
            return None  # Federated, CanonicalUser: never one of our principals
        if value == "*":
            return _Grant.DIRECT
        if self.arn is None:
            return None
        if value == self.arn:
            return _Grant.DIRECT
        if value in (self.account, f"arn:{self.partition}:iam::{self.account}:root"):
            return _Grant.ACCOUNT
        return None


# --- statements -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    policy: Policy
    label: str
    is_resource: bool = True

    def matching(
        self, request: Request, principal: _Principal, context: Mapping[str, str], effect: str
    ) -> list[tuple[str, _Grant]]:
        """(statement label, how it names the principal) of each statement of `effect` that applies."""
        found: list[tuple[str, _Grant]] = []
        for index, statement in enumerate(self.policy.statements):
            label = repr(statement["Sid"]) if statement.get("Sid") else f"#{index}"
            grant = _applies(
                statement, self.is_resource, request, principal, context, f"{self.label} {label}"
            )
            if grant is not None and statement["Effect"] == effect:
                found.append((label, grant))
        return found


def _policy(policy: PolicyLike) -> Policy:
    return policy if isinstance(policy, Policy) else Policy.from_document(policy)


def _applies(
    statement: Mapping[str, Any],
    is_resource: bool,
    request: Request,
    principal: _Principal,
    context: Mapping[str, str],
    where: str,
) -> _Grant | None:
    """How the statement names the principal when it applies to the request; None when it does not."""
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise ValueError(f"{where}: Effect must be Allow or Deny, not {statement.get('Effect')!r}")
    grant: _Grant | None = _Grant.DIRECT
    if is_resource:
        grant = _principal_match(statement, principal, where)
    elif "Principal" in statement or "NotPrincipal" in statement:
        raise ValueError(f"{where}: an identity policy cannot name a Principal")
    if grant is None:
        return None
    action_ok = _one_of(statement, "Action", "NotAction", where, lambda p: _action_matches(p, request.action))
    resource_ok = _one_of(
        statement, "Resource", "NotResource", where, lambda p: _arn_matches(p, request.resource)
    )
    if action_ok and resource_ok and _conditions_hold(statement.get("Condition", {}), context, where):
        return grant
    return None


def _principal_match(statement: Mapping[str, Any], principal: _Principal, where: str) -> _Grant | None:
    if ("Principal" in statement) == ("NotPrincipal" in statement):
        raise ValueError(f"{where}: a resource policy statement needs exactly one of Principal, NotPrincipal")
    if "Principal" in statement:
        return principal.named_by(statement["Principal"])
    # NotPrincipal: applies to every principal it does not name (by ARN or by its account).
    return None if principal.named_by(statement["NotPrincipal"]) else _Grant.DIRECT


def _one_of(
    statement: Mapping[str, Any], positive: str, negative: str, where: str, matches: Callable[[str], bool]
) -> bool:
    if (positive in statement) == (negative in statement):
        raise ValueError(f"{where}: needs exactly one of {positive}, {negative}")
    key = positive if positive in statement else negative
    patterns = statement[key]
    hit = any(matches(str(p)) for p in ([patterns] if isinstance(patterns, str) else patterns))
    return hit if key == positive else not hit


# --- matching -------------------------------------------------------------------------------------


@cache
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """`*` matches any run of characters, `?` one character; nothing else is special."""
    if "${" in pattern:
        raise NotModelled(f"policy variables are not modelled: {pattern!r}")
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _like(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).fullmatch(value) is not None


def _action_matches(pattern: str, action: str) -> bool:
    return _like(pattern, action, ignore_case=True)  # action names are case-insensitive


def _arn_matches(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts is matched on its own, case-sensitively.

    So a wildcard in the region cannot swallow the account; only the last part (the resource)
    may contain colons and slashes, and `*` there crosses them (`bucket/prefix/*`).
    """
    if pattern == "*":
        return True
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        # Not both ARNs: two non-ARNs ("*" requests) compare whole; an ARN never matches a non-ARN.
        return len(pattern_parts) != 6 and len(value_parts) != 6 and _like(pattern, value)
    return all(_like(p, v) for p, v in zip(pattern_parts, value_parts, strict=True))


def _bool_equals(expected: str, actual: str) -> bool:
    return expected.lower() == actual.lower()


# operator -> (value matcher(policy value, request value), negated)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (str.__eq__, False),
    "StringNotEquals": (str.__eq__, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (_like, False),
    "StringNotLike": (_like, True),
    "ArnEquals": (_arn_matches, False),  # AWS: ArnEquals behaves as ArnLike, wildcards included
    "ArnLike": (_arn_matches, False),
    "ArnNotEquals": (_arn_matches, True),
    "ArnNotLike": (_arn_matches, True),
    "Bool": (_bool_equals, False),
}


def _conditions_hold(condition: Mapping[str, Any], context: Mapping[str, str], where: str) -> bool:
    """AND across operators and across keys; OR across one key's values (NOR for negated operators)."""
    for operator, keys in condition.items():
        for key, values in keys.items():
            if not _operator_holds(operator, key, values, context, where):
                return False
    return True


def _operator_holds(operator: str, key: str, values: Any, context: Mapping[str, str], where: str) -> bool:
    expected = [_as_string(v) for v in (values if isinstance(values, list) else [values])]
    actual = context.get(key.lower())  # condition key names are case-insensitive
    if operator == "Null":  # "true": the key must be absent; "false": present
        return any((actual is None) == (v.lower() == "true") for v in expected)
    if ":" in operator:
        raise NotModelled(f"{where}: set operator {operator!r} is not modelled")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise NotModelled(f"{where}: condition operator {operator!r} is not modelled")
    matches, negated = _OPERATORS[base]
    if actual is None:
        # IAM User Guide, condition operators: a missing key makes the condition false, except that a
        # negated operator (StringNotEquals, ArnNotLike, ...) is then true; ...IfExists is true.
        return base != operator or negated
    hit = any(matches(value, actual) for value in expected)
    return not hit if negated else hit


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError(f"condition value {value!r} is not a string, number or boolean")


def _context(request: Request, principal: _Principal, account: str) -> dict[str, str]:
    """Condition keys, lower-cased, with the values AWS always sets filled in."""
    defaults: dict[str, ContextValue] = {"aws:SecureTransport": True}
    if principal.arn is not None:
        defaults["aws:PrincipalArn"] = principal.arn
        defaults["aws:PrincipalAccount"] = str(principal.account)
    resource = parse_arn(request.resource)
    defaults["aws:ResourceAccount"] = resource.account if resource and resource.account else account
    merged = {k.lower(): v for k, v in defaults.items()}
    for key, value in request.context.items():
        if isinstance(value, list | tuple | set):
            raise NotModelled(f"multi-valued context key {key!r} is not modelled")
        merged[key.lower()] = value
    return {k: _as_string(v) for k, v in merged.items()}
