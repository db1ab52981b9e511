"""Policy engine: when is a bucket policy public, cross-account, TLS-enforcing."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secagent.checks.policy import analyze_policy

B = "data-bucket"
OBJ = f"arn:aws:s3:::{B}/*"
BKT = f"arn:aws:s3:::{B}"
OWNER = "111122223333"


def allow(
    principal: Any = "*", action: Any = "s3:GetObject", resource: Any = OBJ, **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


def deny(
    principal: Any = "*", action: Any = "s3:*", resource: Any = (BKT, OBJ), **extra: Any
) -> dict[str, Any]:
    return {"Effect": "Deny", "Principal": principal, "Action": action, "Resource": list(resource), **extra}


def pol(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


# (case id, policy, public read, public write)
PUBLIC_CASES: list[tuple[str, dict[str, Any] | None, bool, bool]] = [
    ("no-policy", None, False, False),
    ("empty-statements", pol(), False, False),
    ("star-principal-get", pol(allow()), True, False),
    ("aws-star-principal", pol(allow({"AWS": "*"})), True, False),
    ("aws-star-in-list", pol(allow({"AWS": [f"arn:aws:iam::{OWNER}:root", "*"]})), True, False),
    ("single-statement-not-list", {"Version": "2012-10-17", "Statement": allow()}, True, False),
    ("account-arn-principal", pol(allow({"AWS": f"arn:aws:iam::{OWNER}:root"})), False, False),
    ("account-id-principal", pol(allow({"AWS": OWNER})), False, False),
    ("service-principal", pol(allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject")), False, False),
    ("wildcard-account-arn", pol(allow({"AWS": "arn:aws:iam::*:root"})), True, False),
    (
        "not-principal-allow",
        {"Statement": [{**allow(), "NotPrincipal": {"AWS": OWNER}, "Principal": None}]},
        True,
        False,
    ),
    ("action-star", pol(allow(action="*")), True, True),
    ("action-s3-star", pol(allow(action="s3:*")), True, True),
    ("action-get-star", pol(allow(action="s3:Get*")), True, False),
    ("action-put-object", pol(allow(action="s3:PutObject")), False, True),
    ("action-list-mixed-case", pol(allow(action=["S3:getobject", "s3:putobject"])), True, True),
    (
        "not-action-allow",
        {"Statement": [{"Effect": "Allow", "Principal": "*", "NotAction": "s3:Delete*", "Resource": OBJ}]},
        True,
        True,
    ),
    ("deny-statement-only", pol(deny()), False, False),
    ("deny-cancels-allow", pol(allow(), deny()), False, False),
    (
        "deny-star-action-star-resource",
        pol(allow(action="s3:*"), deny(action="*", resource=["*"])),
        False,
        False,
    ),
    (
        "deny-covers-only-writes",
        pol(allow(action="s3:*"), deny(action=["s3:Put*", "s3:Delete*"])),
        True,
        True,
    ),
    ("deny-other-resource-no-cancel", pol(allow(), deny(resource=["arn:aws:s3:::other/*"])), True, False),
    ("deny-to-one-account-no-cancel", pol(allow(), deny(principal={"AWS": OWNER})), True, False),
    (
        "deny-secure-transport-no-cancel",
        pol(allow(), deny(Condition={"Bool": {"aws:SecureTransport": "false"}})),
        True,
        False,
    ),
    (
        "deny-outside-ip-restricts",
        pol(allow(), deny(Condition={"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
        False,
        False,
    ),
    (
        "deny-outside-vpce-ifexists-restricts",
        pol(allow(), deny(Condition={"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})),
        False,
        False,
    ),
    (
        "deny-not-principal-no-cancel",
        pol(allow(), {**deny(), "NotPrincipal": {"AWS": OWNER}, "Principal": None}),
        True,
        False,
    ),
    (
        "cond-source-ip",
        pol(allow(Condition={"IpAddress": {"aws:SourceIp": ["198.51.100.0/24"]}})),
        False,
        False,
    ),
    ("cond-source-ip-any", pol(allow(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})), True, False),
    (
        "cond-source-ip-wider-than-8",
        pol(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}})),
        True,
        False,
    ),
    ("cond-source-vpc", pol(allow(Condition={"StringEquals": {"aws:SourceVpc": "vpc-1234"}})), False, False),
    (
        "cond-source-vpce",
        pol(allow(Condition={"StringEquals": {"aws:SourceVpce": "vpce-1234"}})),
        False,
        False,
    ),
    (
        "cond-principal-org-id",
        pol(allow(Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})),
        False,
        False,
    ),
    (
        "cond-principal-org-id-wildcard",
        pol(allow(Condition={"StringLike": {"aws:PrincipalOrgID": "o-*"}})),
        True,
        False,
    ),
    (
        "cond-principal-account",
        pol(allow(Condition={"StringEquals": {"aws:PrincipalAccount": OWNER}})),
        False,
        False,
    ),
    (
        "cond-source-account",
        pol(allow(Condition={"StringEquals": {"aws:SourceAccount": OWNER}})),
        False,
        False,
    ),
    (
        "cond-source-arn",
        pol(
            allow(
                Condition={"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::111122223333:distribution/E1"}}
            )
        ),
        False,
        False,
    ),
    (
        "cond-key-case-insensitive",
        pol(allow(Condition={"StringEquals": {"AWS:SOURCEVPCE": "vpce-1"}})),
        False,
        False,
    ),
    (
        "cond-referer-is-not-a-restriction",
        pol(allow(Condition={"StringLike": {"aws:Referer": "https://example.com/*"}})),
        True,
        False,
    ),
    (
        "cond-user-agent-is-not-a-restriction",
        pol(allow(Condition={"StringEquals": {"aws:UserAgent": "curl"}})),
        True,
        False,
    ),
    (
        "cond-secure-transport-is-not-a-restriction",
        pol(allow(Condition={"Bool": {"aws:SecureTransport": "true"}})),
        True,
        False,
    ),
    (
        "cond-negated-org-is-not-a-restriction",
        pol(allow(Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}})),
        True,
        False,
    ),
    (
        "cond-ifexists-is-not-a-restriction",
        pol(allow(Condition={"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}})),
        True,
        False,
    ),
    (
        "cond-forallvalues-is-not-a-restriction",
        pol(allow(Condition={"ForAllValues:StringEquals": {"aws:SourceVpce": ["vpce-1"]}})),
        True,
        False,
    ),
    (
        "cond-mixed-anded-restricts",
        pol(
            allow(
                Condition={
                    "Bool": {"aws:SecureTransport": "true"},
                    "StringEquals": {"aws:SourceVpc": "vpc-9"},
                }
            )
        ),
        False,
        False,
    ),
    (
        "two-statements-one-public",
        pol(allow({"AWS": OWNER}, "s3:*"), allow(action="s3:ListBucket", resource=BKT)),
        True,
        False,
    ),
]


@pytest.mark.parametrize(("case", "policy", "read", "write"), PUBLIC_CASES, ids=[c[0] for c in PUBLIC_CASES])
def test_policy_public_cases_classified(
    case: str, policy: dict[str, Any] | None, read: bool, write: bool
) -> None:
    # Given a bucket policy / When analysed / Then public read and write are as expected
    report = analyze_policy(policy, B, OWNER)
    assert (report.public_read, report.public_write) == (read, write), case
    assert report.is_public == (read or write)


def test_policy_public_statement_reports_index_sid_and_actions() -> None:
    report = analyze_policy(pol(allow({"AWS": OWNER}), {**allow(action="s3:Get*"), "Sid": "Open"}), B, OWNER)
    [public] = report.public
    assert (public.index, public.sid) == (1, "Open")
    assert "s3:GetObject" in public.actions and "s3:PutObject" not in public.actions


@pytest.mark.parametrize(
    ("principal", "trusted", "expected"),
    [
        ({"AWS": "arn:aws:iam::444455556666:root"}, frozenset(), ("444455556666",)),
        (
            {"AWS": ["arn:aws:iam::444455556666:role/r", "777788889999"]},
            frozenset(),
            ("444455556666", "777788889999"),
        ),
        ({"AWS": "arn:aws:iam::444455556666:root"}, frozenset({"444455556666"}), ()),
        ({"AWS": f"arn:aws:iam::{OWNER}:role/admin"}, frozenset(), ()),
        ({"AWS": "arn:aws:sts::444455556666:assumed-role/r/s"}, frozenset(), ("444455556666",)),
        ({"Service": "cloudfront.amazonaws.com"}, frozenset(), ()),
        ("*", frozenset(), ()),
    ],
)
def test_policy_cross_account_grants_outside_allow_list_reported(
    principal: Any, trusted: frozenset[str], expected: tuple[str, ...]
) -> None:
    report = analyze_policy(pol(allow(principal)), B, OWNER, trusted)
    found = tuple(a for g in report.cross_account for a in g.accounts)
    assert found == expected


def test_policy_cross_account_deny_is_not_a_grant() -> None:
    assert analyze_policy(pol(deny({"AWS": "444455556666"})), B, OWNER).cross_account == []


TLS = {"Bool": {"aws:SecureTransport": "false"}}


@pytest.mark.parametrize(
    ("policy", "enforced"),
    [
        (pol(deny(Condition=TLS)), True),
        (pol(deny({"AWS": "*"}, "*", ["*"], Condition={"Bool": {"aws:SecureTransport": False}})), True),
        (pol(deny(resource=[OBJ], Condition=TLS)), False),  # bucket-level calls still allowed over HTTP
        (pol(deny(action="s3:GetObject", Condition=TLS)), False),
        (pol(deny({"AWS": OWNER}, Condition=TLS)), False),
        (pol(allow(Condition=TLS)), False),
        (pol(deny(Condition={"Bool": {"aws:SecureTransport": "true"}})), False),
        (pol(deny(Condition={**TLS, "StringEquals": {"aws:SourceVpc": "vpc-1"}})), False),
        (None, False),
    ],
)
def test_policy_tls_only_deny_detected(policy: dict[str, Any] | None, enforced: bool) -> None:
    assert analyze_policy(policy, B, OWNER).tls_enforced is enforced


# --- property: a policy with no Allow is never public -------------------------------------------

_principal = st.one_of(
    st.just("*"),
    st.fixed_dictionaries(
        {"AWS": st.one_of(st.just("*"), st.lists(st.sampled_from(["*", OWNER, "444455556666"])))}
    ),
)
_action = st.one_of(
    st.sampled_from(["*", "s3:*", "s3:Get*", "s3:PutObject", "s3:ListBucket"]),
    st.lists(st.sampled_from(["s3:GetObject", "s3:Delete*", "iam:*"]), min_size=1),
)
_condition = st.one_of(
    st.none(),
    st.just({"Bool": {"aws:SecureTransport": "false"}}),
    st.just({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
)


@st.composite
def _non_allow_statement(draw: st.DrawFn) -> dict[str, Any]:
    stmt: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Deny", "deny", "DENY", "Audit", ""])),
        draw(st.sampled_from(["Principal", "NotPrincipal"])): draw(_principal),
        draw(st.sampled_from(["Action", "NotAction"])): draw(_action),
        "Resource": draw(st.sampled_from(["*", OBJ, [BKT, OBJ]])),
    }
    if (cond := draw(_condition)) is not None:
        stmt["Condition"] = cond
    return stmt


@given(st.lists(_non_allow_statement(), max_size=6))
def test_policy_without_allow_is_never_public(stmts: list[dict[str, Any]]) -> None:
    report = analyze_policy(pol(*stmts), B, OWNER)
    assert not report.is_public
    assert report.cross_account == []


# ---- the misses a review found in the first engine (issue: verdicts a security team can trust) ----

OTHER = "444455556666"


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},
        {"StringEquals": {"aws:SourceVpc": "${aws:SourceVpc}"}},
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/app"}},
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}},
        {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc"}},
    ],
)
def test_a_policy_variable_wildcard_or_absent_key_pins_nothing(condition: dict[str, Any]) -> None:
    assert analyze_policy(pol(allow(Condition=condition)), B, OWNER).public_read


@pytest.mark.parametrize(
    "action", ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:BypassGovernanceRetention"]
)
def test_not_action_leaves_every_action_it_does_not_name(action: str) -> None:
    stmt = {
        "Effect": "Allow",
        "Principal": "*",
        "NotAction": ["s3:Get*", "s3:List*", "s3:Put*"],
        "Resource": OBJ,
    }
    report = analyze_policy(pol(stmt), B, OWNER)
    assert report.public_write and action in report.public[0].actions


@pytest.mark.parametrize("pattern", ["s3:*Object", "s3:Get*"])
def test_denying_some_actions_leaves_the_rest_of_a_wildcard_public(pattern: str) -> None:
    denied = deny(action=["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectAcl"])
    report = analyze_policy(pol(allow(action=pattern), denied), B, OWNER)
    assert report.is_public and "s3:GetObject" not in report.public[0].actions
    assert ("s3:RestoreObject" if pattern == "s3:*Object" else "s3:GetObjectVersion") in report.public[
        0
    ].actions


def test_action_names_match_without_case_but_resources_with_case() -> None:
    assert analyze_policy(pol(allow(action="S3:GETOBJECT")), B, OWNER).public_read
    upper = deny(resource=(BKT.upper(), OBJ.upper()))
    assert analyze_policy(pol(allow(), upper), B, OWNER).public_read  # the Deny names another bucket
    assert not analyze_policy(pol(allow(), deny()), B, OWNER).is_public


def test_brackets_are_literal_in_resource_patterns() -> None:
    bracket = deny(resource=(BKT, f"{BKT}/[*]"))
    assert analyze_policy(pol(allow(), bracket), B, OWNER).public_read
    tls = deny(resource=(BKT, f"{BKT}/[*]"), Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert not analyze_policy(pol(tls), B, OWNER).tls_enforced


def test_deny_unless_another_account_is_a_cross_account_grant_not_public() -> None:
    unless = deny(Condition={"StringNotEquals": {"aws:PrincipalAccount": OTHER}})
    report = analyze_policy(pol(allow(action="s3:*"), unless), B, OWNER)
    assert not report.is_public
    assert [g.accounts for g in report.cross_account] == [(OTHER,)]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": OTHER}},
        {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/reader"}},
        {"StringEquals": {"AWS:PRINCIPALACCOUNT": OTHER}},  # condition keys ignore case
    ],
)
def test_allow_to_everyone_pinned_to_another_account_is_cross_account(condition: dict[str, Any]) -> None:
    report = analyze_policy(pol(allow(Condition=condition)), B, OWNER)
    assert not report.is_public and [g.accounts for g in report.cross_account] == [(OTHER,)]
    assert report.cross_account[0].principals == ()  # granted through the condition, not a principal


def test_canonical_user_principals_are_another_account_unless_the_owner() -> None:
    owner_id, other_id = "a" * 64, "b" * 64
    report = analyze_policy(pol(allow({"CanonicalUser": other_id})), B, OWNER, owner_canonical_id=owner_id)
    assert [g.accounts for g in report.cross_account] == [(f"canonical:{other_id}",)]
    own = analyze_policy(pol(allow({"CanonicalUser": owner_id})), B, OWNER, owner_canonical_id=owner_id)
    assert own.cross_account == []


def test_deny_narrowing_to_the_owner_leaves_no_cross_account_grant() -> None:
    only_owner = deny(Condition={"StringNotEquals": {"aws:PrincipalAccount": OWNER}})
    report = analyze_policy(pol(allow({"AWS": OTHER}, "s3:*"), only_owner), B, OWNER)
    assert report.cross_account == [] and report.blocklisted == []


def test_read_and_write_follow_iam_access_levels() -> None:
    tagging = analyze_policy(pol(allow(action="s3:PutObjectTagging")), B, OWNER)
    assert (tagging.public_read, tagging.public_write) == (False, True)
    listing = analyze_policy(pol(allow(action="s3:ListBucket", resource=BKT)), B, OWNER)
    assert (listing.public_read, listing.public_write) == (True, False)
    unknown = analyze_policy(pol(allow(action="s3:SomeFutureAction")), B, OWNER)
    assert (unknown.public_read, unknown.public_write) == (True, True)  # unknown: assume both


# ---- found by an adversarial review of the rewritten engine ----


@pytest.mark.parametrize(
    "provider", ["graph.facebook.com", "accounts.google.com", "cognito-identity.amazonaws.com"]
)
def test_a_web_identity_principal_is_public(provider: str) -> None:
    # "The meaning of public" lists exactly this statement as public
    report = analyze_policy(
        pol(allow({"Federated": provider}, ["s3:GetObject", "s3:PutBucketPolicy"])), B, OWNER
    )
    assert report.public_read and report.public_write and report.blocklisted


def test_a_saml_provider_is_its_account() -> None:
    saml = allow({"Federated": f"arn:aws:iam::{OTHER}:saml-provider/corp"})
    assert [g.accounts for g in analyze_policy(pol(saml), B, OWNER).cross_account] == [(OTHER,)]


def test_an_unparsed_principal_does_not_hide_the_accounts_beside_it() -> None:
    oai = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2EXAMPLE"
    report = analyze_policy(
        pol(allow({"AWS": [oai, "AROAEXAMPLEDELETED01", f"arn:aws:iam::{OTHER}:root"]})), B, OWNER
    )
    assert [g.accounts for g in report.cross_account] == [(OTHER,)]
    assert not report.is_public


def test_a_deny_with_several_outside_conditions_lets_each_set_through() -> None:
    # ANDed: the Deny applies only outside the owner account AND outside the partner's role
    unless = deny(
        Condition={
            "StringNotEquals": {"aws:PrincipalAccount": OWNER},
            "ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OTHER}:role/partner"},
        }
    )
    report = analyze_policy(pol(allow(), unless), B, OWNER)
    assert not report.is_public and [g.accounts for g in report.cross_account] == [(OTHER,)]


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"s3:DataAccessPointAccount": OTHER}},
        {"ArnEquals": {"s3:DataAccessPointArn": f"arn:aws:s3:us-east-1:{OTHER}:accesspoint/ap1"}},
        {"StringEqualsIgnoreCase": {"aws:PrincipalArn": f"ARN:AWS:IAM::{OTHER}:ROOT"}},
    ],
)
def test_access_point_and_case_folded_pins_name_their_account(condition: dict[str, Any]) -> None:
    report = analyze_policy(pol(allow(Condition=condition)), B, OWNER)
    assert not report.is_public and [g.accounts for g in report.cross_account] == [(OTHER,)]


def test_a_deny_over_the_whole_bucket_covers_an_allow_on_resource_star() -> None:
    everything = allow({"AWS": OTHER}, ["s3:PutObject", "s3:PutObjectAcl"], resource="*")
    unless = deny(action="s3:PutObjectAcl", Condition={"StringNotEquals": {"aws:PrincipalAccount": OWNER}})
    report = analyze_policy(pol(everything, unless), B, OWNER)
    assert report.blocklisted == [] and [g.actions for g in report.cross_account] == [("s3:PutObject",)]


def test_a_fixed_kms_key_condition_pins_a_write() -> None:
    kms = {
        "StringEquals": {
            "s3:x-amz-server-side-encryption-aws-kms-key-id": f"arn:aws:kms:us-east-1:{OWNER}:key/k"
        }
    }
    assert not analyze_policy(pol(allow(action="s3:PutObject", Condition=kms)), B, OWNER).is_public
