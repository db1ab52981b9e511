"""Policy engine properties over generated bucket policies (hypothesis).

Each test states one rule of AWS's policy evaluation that must hold for every policy, and lets
hypothesis look for a policy where the engine breaks it. The examples are derandomized: every run
checks the same policies, so a failure is reproducible and never flaky. For a deeper, random search
set POLICY_PROPERTY_SEARCH to a multiplier of the example counts (e.g. 20): each run then draws
new policies, and a failure it finds is printed with its seed.
"""

import json
import os
import random
from typing import Any

from hypothesis import given, note, settings
from hypothesis import strategies as st

from tests.unit.checks.policy_strategies import (
    ACTION_POOL,
    AWS_PRINCIPALS,
    BUCKET_ARN,
    OBJECTS_ARN,
    STATEMENTS,
    Policy,
    Site,
    Statement,
    Verdict,
    actions_allowed,
    as_list,
    drop_entry,
    one_or_list,
    pol,
    policies,
    read_actions,
    recase,
    recase_actions,
    recase_condition_keys,
    replace_value,
    shuffle_policy,
    unconditional_denies,
    verdict,
    widenable_statements,
    widening_sites,
    widenings,
    write_actions,
)

_SEARCH = float(os.environ.get("POLICY_PROPERTY_SEARCH") or 0)


def _settings(examples: int) -> settings:
    if _SEARCH:
        return settings(max_examples=int(examples * _SEARCH), deadline=None, database=None)
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None)


def _show(label: str, policy: Policy | None) -> None:
    note(f"{label}: {json.dumps(policy, sort_keys=False)}")


def _no_more_public(before: Verdict, after: Verdict) -> None:
    """after grants nothing before did not: public read/write only True -> False, no new accounts."""
    assert after.public_read <= before.public_read, (before, after)
    assert after.public_write <= before.public_write, (before, after)
    assert after.cross_account <= before.cross_account, (before, after)


def _read_write(v: Verdict) -> tuple[bool, bool]:
    return v.public_read, v.public_write


def _insert(policy: Policy, stmt: Statement, at: int) -> Policy:
    stmts = policy["Statement"]
    return pol(*stmts[:at], stmt, *stmts[at:])


EVERYONE = ("*", {"AWS": "*"}, {"AWS": ["*"]})
RANDOMS = st.randoms(use_true_random=False)


# --- 1. an unconditional Deny never opens anything ----------------------------------------------
# An explicit Deny wins over every Allow: a Deny to everyone can only take access away.


@_settings(600)
@given(policies(), unconditional_denies, st.data())
def test_adding_unconditional_deny_never_makes_policy_more_public(
    policy: Policy, deny: Statement, data: st.DataObject
) -> None:
    after = _insert(policy, deny, data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    _show("with deny", after)
    _no_more_public(verdict(policy), verdict(after))


any_denies = st.one_of(STATEMENTS["Deny"], widenable_statements(effect="Deny"))


@_settings(600)
@given(policies(), any_denies, st.data())
def test_adding_any_deny_never_makes_policy_more_public(
    policy: Policy, deny: Statement, data: st.DataObject
) -> None:
    # Any Deny (conditional, NotPrincipal, NotAction...) only removes access. A Deny "unless the caller
    # is in account X" may turn a public grant into a grant to X: new accounts only where it was public.
    after = _insert(policy, deny, data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    _show("with deny", after)
    before, now = verdict(policy), verdict(after)
    assert now.public_read <= before.public_read, (before, now)
    assert now.public_write <= before.public_write, (before, now)
    if not (before.public_read or before.public_write):
        assert now.cross_account <= before.cross_account, (before, now)


# --- 2. removing an Allow never opens anything --------------------------------------------------
# Access is the union of the Allows minus the Denies: one Allow fewer grants no more.


@_settings(600)
@given(policies(max_size=4), STATEMENTS["Allow"], st.data())
def test_removing_allow_never_makes_policy_more_public(
    policy: Policy, extra_allow: Statement, data: st.DataObject
) -> None:
    full = _insert(policy, extra_allow, data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    allows = [i for i, s in enumerate(full["Statement"]) if s["Effect"] == "Allow"]
    drop = data.draw(st.sampled_from(allows), label="removed statement")
    without = pol(*(s for i, s in enumerate(full["Statement"]) if i != drop))
    _show("full", full)
    _no_more_public(verdict(full), verdict(without))


# --- 3. order never matters ---------------------------------------------------------------------
# IAM evaluates all statements together, and every list element and JSON object is a set.


@_settings(600)
@given(policies(), RANDOMS)
def test_order_of_statements_and_list_elements_never_changes_verdict(
    policy: Policy, rnd: random.Random
) -> None:
    shuffled = shuffle_policy(policy, rnd)
    _show("shuffled", shuffled)
    assert verdict(shuffled) == verdict(policy)


# --- 4. what IAM compares case-insensitively ---------------------------------------------------


@_settings(400)
@given(policies(), RANDOMS)
def test_condition_key_case_never_changes_verdict(policy: Policy, rnd: random.Random) -> None:
    recased = recase_condition_keys(policy, rnd)
    _show("recased keys", recased)
    assert verdict(recased) == verdict(policy)


@_settings(400)
@given(policies(), RANDOMS)
def test_action_case_never_changes_verdict(policy: Policy, rnd: random.Random) -> None:
    recased = recase_actions(policy, rnd)
    _show("recased actions", recased)
    assert verdict(recased) == verdict(policy)


# --- 5. what IAM compares literally: resource ARNs ----------------------------------------------

bucket_names = st.from_regex(r"[a-z][a-z0-9-]{1,30}[a-z0-9]", fullmatch=True)


def _arns(bucket: str) -> tuple[str, str]:
    return f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"


def _tls_deny(principal: Any, action: Any, resources: list[str], flag: Any) -> Statement:
    return {
        "Effect": "Deny",
        "Principal": principal,
        "Action": action,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": flag}},
    }


@_settings(300)
@given(
    bucket_names,
    RANDOMS,
    st.sampled_from(("bucket", "objects", "both")),
    st.sampled_from(EVERYONE),
    st.sampled_from(("s3:*", "*", ["s3:*"])),
    st.sampled_from(("false", False)),
)
def test_tls_deny_on_other_case_bucket_arn_does_not_enforce_tls(
    bucket: str, rnd: random.Random, which: str, principal: Any, action: Any, flag: Any
) -> None:
    exact_bucket, exact_objects = _arns(bucket)
    other_bucket, other_objects = _arns(recase(bucket, rnd))
    recased = [
        other_bucket if which in {"bucket", "both"} else exact_bucket,
        other_objects if which in {"objects", "both"} else exact_objects,
    ]
    exact_policy = pol(_tls_deny(principal, action, [exact_bucket, exact_objects], flag))
    recased_policy = pol(_tls_deny(principal, action, recased, flag))
    _show("recased", recased_policy)
    assert verdict(exact_policy, bucket).tls_enforced
    # ARNs match case-sensitively: the Deny never applies to plain-HTTP calls on `bucket`.
    assert not verdict(recased_policy, bucket).tls_enforced


OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion")
BUCKET_ACTIONS = ("s3:ListBucket", "s3:PutBucketPolicy", "s3:GetBucketAcl")


@_settings(300)
@given(
    bucket_names,
    RANDOMS,
    st.lists(st.sampled_from(OBJECT_ACTIONS + BUCKET_ACTIONS), min_size=1, max_size=3, unique=True),
    st.sampled_from(EVERYONE),
    st.sampled_from(("s3:*", "*")),
)
def test_deny_on_other_case_bucket_does_not_cancel_public_allow(
    bucket: str, rnd: random.Random, actions: list[str], principal: Any, deny_action: str
) -> None:
    exact = list(_arns(bucket))
    allow = {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": exact}
    opened = verdict(pol(allow), bucket)
    assert opened.public_read or opened.public_write
    exact_deny = {"Effect": "Deny", "Principal": "*", "Action": deny_action, "Resource": exact}
    assert not any(_read_write(verdict(pol(allow, exact_deny), bucket))), (
        "control: an exact-case Deny cancels"
    )

    other_deny = {**exact_deny, "Resource": list(_arns(recase(bucket, rnd)))}
    _show("policy", pol(allow, other_deny))
    still = verdict(pol(allow, other_deny), bucket)
    assert (still.public_read, still.public_write) == (opened.public_read, opened.public_write)


@st.composite
def bracketed_object_patterns(draw: st.DrawFn, bucket: str) -> str:
    """A resource pattern where `[` `]` are literal characters (as IAM reads them), so it matches only
    keys or bucket names that contain brackets: never all of `bucket/*`."""
    if draw(st.booleans()):
        suffix = draw(st.sampled_from(("[*]", "[*]*", "*[*]", "[!x]*", "[*?]*", "[]*]", "[!]]*")))
        return f"arn:aws:s3:::{bucket}/{suffix}"
    i = draw(st.integers(0, len(bucket) - 1))
    cls = draw(st.sampled_from((f"[{bucket[i]}]", "[!#]", f"[{bucket[i]}#]")))
    return f"arn:aws:s3:::{bucket[:i]}{cls}{bucket[i + 1 :]}/*"


@_settings(300)
@given(
    bucket_names,
    st.data(),
    st.lists(st.sampled_from(OBJECT_ACTIONS), min_size=1, max_size=2, unique=True),
    st.sampled_from(EVERYONE),
)
def test_brackets_in_deny_resource_are_literal(
    bucket: str, data: st.DataObject, actions: list[str], principal: Any
) -> None:
    exact_bucket, exact_objects = _arns(bucket)
    pattern = data.draw(bracketed_object_patterns(bucket), label="deny resource")
    allow = {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": exact_objects}
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": pattern}
    opened = verdict(pol(allow), bucket)
    _show("policy", pol(allow, deny))
    assert _read_write(verdict(pol(allow, deny), bucket)) == _read_write(opened)

    tls = pol(_tls_deny("*", "s3:*", [exact_bucket, pattern], "false"))
    _show("tls policy", tls)
    assert not verdict(tls, bucket).tls_enforced


# --- 6. widening who may call never narrows -----------------------------------------------------


def _site_value(policy: Policy, site: Site) -> Any:
    return as_list(policy["Statement"][site.index]["Condition"][site.op][site.key])[site.value_index]


@_settings(600)
@given(policies(max_size=4), widenable_statements(), st.data())
def test_widening_a_condition_value_never_makes_policy_less_public(
    policy: Policy, stmt: Statement, data: st.DataObject
) -> None:
    base = _insert(policy, stmt, data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    site = data.draw(st.sampled_from(list(widening_sites(base))), label="site")
    new = data.draw(st.sampled_from(widenings(site.op, site.key, _site_value(base, site))), label="new value")
    wider = replace_value(base, site, new)
    _show("base", base)
    _show("wider", wider)
    before, after = verdict(base), verdict(wider)
    assert before.public_read <= after.public_read, (before, after)
    assert before.public_write <= after.public_write, (before, after)


@_settings(600)
@given(policies(max_size=3), widenable_statements(effect="Allow"), st.data())
def test_variable_or_wildcard_value_pins_no_caller(
    policy: Policy, stmt: Statement, data: st.DataObject
) -> None:
    # S3 Block Public Access: only fixed values (no wildcard, no policy variable, no range wider than /8)
    # make an Allow non-public. An entry with a non-fixed value counts as if it were not there.
    base = _insert(policy, stmt, data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    site = data.draw(st.sampled_from(list(widening_sites(base, allow_only=True))), label="site")
    new = data.draw(st.sampled_from(widenings(site.op, site.key, _site_value(base, site))), label="new value")
    unpinned = replace_value(base, site, new)
    _show("with non-fixed value", unpinned)
    assert _read_write(verdict(unpinned)) == _read_write(verdict(drop_entry(base, site)))


@_settings(400)
@given(
    policies(max_size=4),
    STATEMENTS["Allow"],
    st.lists(st.sampled_from(AWS_PRINCIPALS), min_size=1, max_size=3, unique=True),
    st.data(),
)
def test_widening_a_principal_to_everyone_never_makes_policy_less_public(
    policy: Policy, stmt: Statement, principals: list[str], data: st.DataObject
) -> None:
    stmt = {k: v for k, v in stmt.items() if k not in {"Principal", "NotPrincipal"}} | {
        "Principal": {"AWS": principals}
    }
    base = _insert(policy, stmt, at := data.draw(st.integers(0, len(policy["Statement"])), label="at"))
    j = data.draw(st.integers(0, len(principals) - 1), label="principal")
    wider = _insert(policy, {**stmt, "Principal": {"AWS": [*principals[:j], "*", *principals[j + 1 :]]}}, at)
    _show("base", base)
    before, after = verdict(base), verdict(wider)
    assert before.public_read <= after.public_read, (before, after)
    assert before.public_write <= after.public_write, (before, after)


# --- 7. an open Allow of a read / write action is public read / write --------------------------

BOTH_LEVELS = st.sampled_from(([BUCKET_ARN, OBJECTS_ARN], [OBJECTS_ARN, BUCKET_ARN]))
EXTRA_ALLOWS = st.lists(STATEMENTS["Allow"], max_size=2)


@_settings(600)
@given(
    one_or_list(st.sampled_from(ACTION_POOL), max_size=4),
    st.sampled_from(EVERYONE),
    BOTH_LEVELS,
    EXTRA_ALLOWS,
)
def test_open_allow_of_write_or_read_action_is_public_write_or_read(
    actions: Any, principal: Any, resources: list[str], extra: list[Statement]
) -> None:
    stmt = {"Effect": "Allow", "Principal": principal, "Action": actions, "Resource": resources}
    allowed = actions_allowed(stmt)
    policy = pol(*extra, stmt)
    _show("policy", policy)
    found = verdict(policy)
    if allowed & write_actions():
        assert found.public_write, sorted(allowed & write_actions())
    if allowed & read_actions():
        assert found.public_read, sorted(allowed & read_actions())


NOT_ACTION_POOL = (
    "s3:Get*",
    "s3:List*",
    "s3:Put*",
    "s3:Delete*",
    "s3:Restore*",
    "s3:Abort*",
    "s3:*Object",
    "s3:GetObject*",
    "s3:GetBucket*",
    "s3:ListBucket*",
    "s3:Get*Configuration",
    "s3:*Policy",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListBucket",
    "s3:RestoreObject",
    "s3:AbortMultipartUpload",
    "s3:ReplicateObject",
    "iam:*",
)


@_settings(600)
@given(
    st.lists(st.sampled_from(NOT_ACTION_POOL), min_size=1, max_size=8, unique=True),
    st.sampled_from(EVERYONE),
    BOTH_LEVELS,
)
def test_open_not_action_allow_leaving_a_write_or_read_action_is_public(
    not_actions: list[str], principal: Any, resources: list[str]
) -> None:
    stmt = {"Effect": "Allow", "Principal": principal, "NotAction": not_actions, "Resource": resources}
    allowed = actions_allowed(stmt)
    _show("policy", pol(stmt))
    found = verdict(pol(stmt))
    if allowed & write_actions():
        assert found.public_write, sorted(allowed & write_actions())
    if allowed & read_actions():
        assert found.public_read, sorted(allowed & read_actions())
