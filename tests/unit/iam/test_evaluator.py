"""tests/iam/evaluator.py: AWS's same-account policy evaluation, one documented rule per test.

Each test checks both sides of its rule (the request it must allow and the one it must deny), so
an evaluator that always allows or always denies fails it.
"""

from typing import Any

import pytest

from tests.iam.evaluator import Decision, NotModelled, Policy, Request, evaluate

ACCOUNT = "111122223333"
ROLE_A = f"arn:aws:iam::{ACCOUNT}:role/RoleA"
ROLE_B = f"arn:aws:iam::{ACCOUNT}:role/RoleB"
API_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ToolsApiRole"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BUCKET = "arn:aws:s3:::reports"
KEY = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def decide(
    principal: str,
    action: str,
    resource: str,
    identity: list[Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
    *,
    context: dict[str, Any] | None = None,
    key_policy: dict[str, Any] | None = None,
) -> Decision:
    return evaluate(
        Request(principal, action, resource, context or {}),
        identity or [],
        resource_policy,
        kms_key_policy=key_policy,
        account=ACCOUNT,
    )


# --- the three steps --------------------------------------------------------------------------------


def test_identity_allow_allows() -> None:
    # Given an identity policy allowing s3:GetObject on the bucket's objects
    identity = [Policy([allow("s3:GetObject", f"{BUCKET}/*", Sid="Read")], name="ReadReports")]
    # When RoleA reads an object, Then it is allowed by that statement
    decision = decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r.json", identity)
    assert decision.allowed and "'ReadReports'" in decision.reason and "'Read'" in decision.reason
    # And another action on it is not
    assert not decide(ROLE_A, "s3:PutObject", f"{BUCKET}/r.json", identity).allowed


def test_nothing_allows_is_an_implicit_deny() -> None:
    # Given no policy at all, When RoleA reads, Then it is implicitly denied
    decision = decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r.json")
    assert not decision.allowed and decision.reason.startswith("implicit deny")


def test_explicit_deny_in_identity_beats_allow() -> None:
    # Given an identity policy allowing s3:* and a second one denying s3:PutObject
    identity = [
        doc(allow("s3:*", "*")),
        Policy([deny("s3:PutObject", f"{BUCKET}/*", Sid="NoWrite")], "Guard"),
    ]
    # When RoleA writes, Then the Deny decides, naming its statement and policy
    decision = decide(ROLE_A, "s3:PutObject", f"{BUCKET}/r.json", identity)
    assert (
        not decision.allowed
        and decision.reason == "explicit Deny by identity policy 'Guard' statement 'NoWrite'"
    )
    # And reading is still allowed
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r.json", identity).allowed


def test_explicit_deny_in_resource_policy_beats_identity_allow() -> None:
    bucket_policy = doc(deny("s3:DeleteObject", f"{BUCKET}/*", Principal="*"))
    identity = [doc(allow("s3:*", "*"))]
    assert not decide(ROLE_A, "s3:DeleteObject", f"{BUCKET}/r", identity, bucket_policy).allowed
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy).allowed


def test_resource_policy_naming_the_role_allows_without_identity_policy() -> None:
    # Given a bucket policy that allows RoleA by ARN (same account)
    bucket_policy = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": [ROLE_A]}, Sid="A"))
    # Then RoleA may read with no identity policy, RoleB may not
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [], bucket_policy).reason == (
        "Allow by resource policy statement 'A'"
    )
    assert not decide(ROLE_B, "s3:GetObject", f"{BUCKET}/r", [], bucket_policy).allowed


def test_resource_policy_naming_the_account_delegates_to_iam() -> None:
    # Given a bucket policy allowing the account root: it grants no role by itself
    bucket_policy = doc(allow("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ROOT}))
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [], bucket_policy).allowed
    # But a Deny naming the account applies to every principal in it
    deny_all = doc(deny("s3:GetObject", f"{BUCKET}/*", Principal={"AWS": ACCOUNT}))
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*"))], deny_all).allowed


# --- conditions the stack uses ---------------------------------------------------------------------


def test_bucket_policy_arn_not_equals_principal_deny_spares_only_the_named_role() -> None:
    # Given: both roles may write locks/, the bucket denies writes there to all but RoleA
    identity = [doc(allow("s3:PutObject", f"{BUCKET}/locks/*"))]
    bucket_policy = doc(
        deny(
            ["s3:DeleteObject", "s3:PutObject"],
            f"{BUCKET}/locks/*",
            Principal={"AWS": "*"},
            Condition={"ArnNotEquals": {"aws:PrincipalArn": [ROLE_A]}},
            Sid="OnlyA",
        )
    )
    # When each writes a lock, Then RoleA is allowed and RoleB denied by that statement
    assert decide(ROLE_A, "s3:PutObject", f"{BUCKET}/locks/l", identity, bucket_policy).allowed
    denied = decide(ROLE_B, "s3:PutObject", f"{BUCKET}/locks/l", identity, bucket_policy)
    assert not denied.allowed and denied.reason == "explicit Deny by resource policy statement 'OnlyA'"


def test_arn_not_equals_with_several_roles_is_a_nor() -> None:
    condition = {"ArnNotEquals": {"aws:PrincipalArn": [ROLE_A, API_ROLE]}}
    bucket_policy = doc(deny("s3:PutObject", f"{BUCKET}/*", Principal="*", Condition=condition))
    identity = [doc(allow("s3:PutObject", "*"))]
    assert decide(ROLE_A, "s3:PutObject", f"{BUCKET}/x", identity, bucket_policy).allowed
    assert decide(API_ROLE, "s3:PutObject", f"{BUCKET}/x", identity, bucket_policy).allowed
    assert not decide(ROLE_B, "s3:PutObject", f"{BUCKET}/x", identity, bucket_policy).allowed


def test_resource_account_deny() -> None:
    # Given the Apply role's guard: deny bucket writes outside its own account
    identity = [
        doc(
            allow("s3:PutBucketPolicy", "arn:aws:s3:::*"),
            deny(
                "s3:PutBucketPolicy",
                "arn:aws:s3:::*",
                Condition={"StringNotEquals": {"aws:ResourceAccount": ACCOUNT}},
            ),
        )
    ]
    # When the bucket is the account's own (S3 ARNs carry no account: the evaluated account is used)
    assert decide(ROLE_A, "s3:PutBucketPolicy", "arn:aws:s3:::mine", identity).allowed
    # When the bucket belongs to another account, Then the Deny applies
    other = {"aws:ResourceAccount": "444455556666"}
    assert not decide(ROLE_A, "s3:PutBucketPolicy", "arn:aws:s3:::theirs", identity, context=other).allowed


def test_secure_transport_deny_applies_only_without_tls() -> None:
    bucket_policy = doc(
        deny(
            "s3:*",
            [BUCKET, f"{BUCKET}/*"],
            Principal={"AWS": "*"},
            Condition={"Bool": {"aws:SecureTransport": "false"}},
        )
    )
    identity = [doc(allow("s3:GetObject", f"{BUCKET}/*"))]
    # Over TLS (the default: the SDKs use HTTPS) the deny does not apply
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy).allowed
    assert decide(
        ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy, context={"aws:SecureTransport": True}
    ).allowed
    # Over plain HTTP it does
    plain = {"aws:SecureTransport": False}
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy, context=plain).allowed


def test_missing_key_negated_operator_matches_positive_does_not() -> None:
    # IAM User Guide: an absent key makes a condition false, except a negated operator, which is true.
    absent = "aws:PrincipalTag/team"
    negated = [
        doc(
            allow("s3:GetObject", "*"),
            deny("s3:GetObject", "*", Condition={"StringNotEquals": {absent: "x"}}),
        )
    ]
    positive = [
        doc(allow("s3:GetObject", "*"), deny("s3:GetObject", "*", Condition={"StringEquals": {absent: "x"}}))
    ]
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", negated).allowed
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", positive).allowed


def test_if_exists_is_true_when_the_key_is_absent_and_checked_when_present() -> None:
    identity = [
        doc(allow("s3:GetObject", "*", Condition={"StringEqualsIfExists": {"s3:prefix": "reports/"}}))
    ]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity).allowed
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, context={"s3:prefix": "reports/"}).allowed
    assert not decide(
        ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, context={"s3:prefix": "tokens/"}
    ).allowed
    # In a Deny, IfExists makes the statement apply to every request without the key
    guard = doc(
        allow("s3:GetObject", "*"),
        deny("s3:GetObject", "*", Condition={"StringEqualsIfExists": {"s3:prefix": "tokens/"}}),
    )
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [guard]).allowed
    assert not decide(
        ROLE_A, "s3:GetObject", f"{BUCKET}/r", [guard], context={"s3:prefix": "tokens/"}
    ).allowed
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [guard], context={"s3:prefix": "reports/"}).allowed


def test_values_are_or_keys_and_operators_are_and() -> None:
    condition = {
        "StringEquals": {"aws:PrincipalAccount": [ACCOUNT, "444455556666"], "aws:ResourceAccount": ACCOUNT},
        "Bool": {"aws:SecureTransport": "true"},
    }
    identity = [doc(allow("s3:GetObject", "*", Condition=condition))]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity).allowed  # every key holds
    other_resource = {"aws:ResourceAccount": "444455556666"}
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, context=other_resource).allowed
    plain = {"aws:SecureTransport": False}
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, context=plain).allowed


def test_string_like_and_arn_like() -> None:
    like = [doc(allow("s3:GetObject", "*", Condition={"StringLike": {"aws:PrincipalArn": "*:role/Role?"}}))]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", like).allowed
    assert not decide(API_ROLE, "s3:GetObject", f"{BUCKET}/r", like).allowed
    not_like = [
        doc(allow("s3:*", "*"), deny("s3:*", "*", Condition={"StringNotLike": {"aws:PrincipalArn": "*Api*"}}))
    ]
    assert decide(API_ROLE, "s3:GetObject", f"{BUCKET}/r", not_like).allowed
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", not_like).allowed
    # ArnLike matches each ARN part on its own: a wildcard cannot reach across a colon
    arn_like = {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Role*"}}
    assert decide(
        ROLE_B, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*", Condition=arn_like))]
    ).allowed
    any_account = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/RoleA"}}
    assert decide(
        ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*", Condition=any_account))]
    ).allowed
    across = {"ArnLike": {"aws:PrincipalArn": "arn:aws:*:role/RoleA"}}
    assert not decide(
        ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*", Condition=across))]
    ).allowed


def test_condition_key_names_are_case_insensitive_values_are_not() -> None:
    identity = [doc(allow("s3:*", "*", Condition={"ArnEquals": {"AWS:principalarn": ROLE_A}}))]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity).allowed
    assert not decide(ROLE_A.replace("RoleA", "rolea"), "s3:GetObject", f"{BUCKET}/r", identity).allowed


# --- NotAction, NotResource, NotPrincipal, wildcards --------------------------------------------------


def test_not_action() -> None:
    # Given: allow all of S3, deny everything that is not a read
    identity = [doc(allow("s3:*", "*"), {"Effect": "Deny", "NotAction": "s3:Get*", "Resource": "*"})]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity).allowed
    assert not decide(ROLE_A, "s3:PutObject", f"{BUCKET}/r", identity).allowed


def test_not_resource() -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"{BUCKET}/tokens/*"}
    identity = [doc(statement)]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/reports/r", identity).allowed
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/tokens/t", identity).allowed


def test_not_principal() -> None:
    bucket_policy = doc(
        {"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_A}, "Action": "s3:*", "Resource": "*"}
    )
    identity = [doc(allow("s3:*", "*"))]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy).allowed
    assert not decide(ROLE_B, "s3:GetObject", f"{BUCKET}/r", identity, bucket_policy).allowed


def test_action_wildcards_are_case_insensitive() -> None:
    identity = [
        doc(allow("s3:Get*", "*"), allow("kms:GenerateDataKey*", "*"), allow("states:Describe?xecution", "*"))
    ]
    assert decide(ROLE_A, "s3:GetBucketPolicy", BUCKET, identity).allowed
    assert decide(ROLE_A, "S3:getobject", f"{BUCKET}/r", identity).allowed
    assert decide(ROLE_A, "kms:GenerateDataKeyWithoutPlaintext", KEY, identity).allowed
    assert decide(ROLE_A, "states:DescribeExecution", "*", identity).allowed
    assert not decide(ROLE_A, "s3:PutObject", f"{BUCKET}/r", identity).allowed
    assert not decide(ROLE_A, "s3:ListBucket", BUCKET, identity).allowed


def test_resource_wildcards_cross_slashes_and_are_case_sensitive() -> None:
    identity = [
        doc(
            allow("s3:GetObject", f"{BUCKET}/prefix/*"),
            allow("s3:PutObject", f"{BUCKET}/checkpoints/*/discovery.json"),
        )
    ]
    assert decide(ROLE_A, "s3:GetObject", f"{BUCKET}/prefix/a/b.json", identity).allowed
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/Prefix/a.json", identity).allowed
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/prefix", identity).allowed
    assert decide(ROLE_A, "s3:PutObject", f"{BUCKET}/checkpoints/audit-1/discovery.json", identity).allowed
    assert not decide(ROLE_A, "s3:PutObject", f"{BUCKET}/checkpoints/audit-1/analysis.json", identity).allowed
    assert not decide(
        ROLE_A, "s3:PutObject", f"{BUCKET}-other/checkpoints/a/discovery.json", identity
    ).allowed


def test_resource_wildcard_cannot_reach_across_arn_parts() -> None:
    # Given a grant that forgot the account part: "*" in the region may not swallow "region:account"
    execution = f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:Audit:run-1"
    forgot_account = [doc(allow("states:DescribeExecution", "arn:aws:states:*:execution:Audit:*"))]
    assert not decide(ROLE_A, "states:DescribeExecution", execution, forgot_account).allowed
    right = [doc(allow("states:DescribeExecution", "arn:aws:states:*:*:execution:Audit:*"))]
    assert decide(ROLE_A, "states:DescribeExecution", execution, right).allowed


def test_bucket_arn_does_not_cover_its_objects_nor_star_actions() -> None:
    identity = [doc(allow("s3:*", BUCKET))]
    assert decide(ROLE_A, "s3:ListBucket", BUCKET, identity).allowed
    assert not decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", identity).allowed
    # An action evaluated against "*" (no resource-level permissions) needs Resource "*"
    assert not decide(ROLE_A, "s3:ListAllMyBuckets", "*", identity).allowed
    assert decide(ROLE_A, "s3:ListAllMyBuckets", "*", [doc(allow("s3:ListAllMyBuckets", "*"))]).allowed


# --- KMS -------------------------------------------------------------------------------------------

ROOT_DELEGATION = {
    "Sid": "Root",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
MAC_GUARD = {
    "Sid": "OnlyApiSeals",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:GenerateMac",
    "Resource": "*",
    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [API_ROLE]}},
}


def test_kms_root_delegation_needs_an_identity_allow() -> None:
    key_policy = doc(ROOT_DELEGATION)
    identity = [Policy([allow("kms:VerifyMac", KEY, Sid="Verify")], "ToolsPolicy")]
    decision = decide(ROLE_A, "kms:VerifyMac", KEY, identity, key_policy=key_policy)
    assert decision.allowed and "'Root' delegates to IAM" in decision.reason
    no_identity = decide(ROLE_A, "kms:VerifyMac", KEY, [], key_policy=key_policy)
    assert not no_identity.allowed and "no identity policy allows" in no_identity.reason


def test_kms_identity_allow_is_not_enough_without_the_key_policy() -> None:
    # Given a key policy that neither names RoleA nor delegates to IAM
    key_policy = doc(allow("kms:*", "*", Principal={"AWS": API_ROLE}))
    identity = [doc(allow("kms:*", "*"))]
    assert not decide(ROLE_A, "kms:Decrypt", KEY, identity, key_policy=key_policy).allowed
    # The role the key policy names needs no identity policy
    assert decide(API_ROLE, "kms:Decrypt", KEY, [], key_policy=key_policy).allowed


def test_kms_key_policy_deny_beats_root_delegation_and_identity_allow() -> None:
    # Given the seal key: root delegation plus "deny GenerateMac unless the API role"
    key_policy = doc(ROOT_DELEGATION, MAC_GUARD)
    identity = [doc(allow(["kms:GenerateMac", "kms:VerifyMac"], KEY))]
    assert decide(API_ROLE, "kms:GenerateMac", KEY, identity, key_policy=key_policy).allowed
    denied = decide(ROLE_A, "kms:GenerateMac", KEY, identity, key_policy=key_policy)
    assert not denied.allowed and denied.reason == "explicit Deny by KMS key policy statement 'OnlyApiSeals'"
    assert decide(ROLE_A, "kms:VerifyMac", KEY, identity, key_policy=key_policy).allowed


# --- service principals ----------------------------------------------------------------------------


def test_service_principal_is_allowed_by_a_resource_policy_with_source_arn() -> None:
    function = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:OnBucketCreated"
    rule = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/BucketCreated"
    function_policy = doc(
        allow(
            "lambda:InvokeFunction",
            function,
            Principal={"Service": "events.amazonaws.com"},
            Condition={"ArnLike": {"AWS:SourceArn": rule}},
        )
    )
    assert decide(
        "events.amazonaws.com",
        "lambda:InvokeFunction",
        function,
        [],
        function_policy,
        context={"aws:SourceArn": rule},
    ).allowed
    assert not decide(
        "events.amazonaws.com",
        "lambda:InvokeFunction",
        function,
        [],
        function_policy,
        context={"aws:SourceArn": rule + "x"},
    ).allowed
    assert not decide("sns.amazonaws.com", "lambda:InvokeFunction", function, [], function_policy).allowed


# --- what is not modelled refuses to guess -----------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"NumericLessThan": {"s3:max-keys": "10"}},
        {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
        {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    ],
)
def test_unmodelled_operator_raises(condition: dict[str, Any]) -> None:
    with pytest.raises(NotModelled):
        decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*", Condition=condition))])


def test_policy_variable_raises() -> None:
    with pytest.raises(NotModelled, match="policy variables"):
        decide(ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", f"{BUCKET}/${{aws:username}}/*"))])


def test_cross_account_principal_raises() -> None:
    with pytest.raises(ValueError, match="cross-account"):
        decide("arn:aws:iam::444455556666:role/X", "s3:GetObject", f"{BUCKET}/r")


def test_malformed_statements_raise() -> None:
    with pytest.raises(ValueError, match="identity policy cannot name a Principal"):
        decide(ROLE_A, "s3:GetObject", "*", [doc(allow("s3:*", "*", Principal="*"))])
    with pytest.raises(ValueError, match="Principal"):
        decide(ROLE_A, "s3:GetObject", "*", [], doc(allow("s3:*", "*")))
    with pytest.raises(ValueError, match="Action, NotAction"):
        decide(ROLE_A, "s3:GetObject", "*", [doc({"Effect": "Allow", "Resource": "*"})])
    with pytest.raises(ValueError, match="Effect"):
        decide(ROLE_A, "s3:GetObject", "*", [doc({"Effect": "allow", "Action": "*", "Resource": "*"})])


def test_multi_valued_context_key_raises() -> None:
    # A list-valued key needs the ForAnyValue/ForAllValues semantics, which are not modelled
    with pytest.raises(NotModelled, match="multi-valued"):
        decide(
            ROLE_A, "s3:GetObject", f"{BUCKET}/r", [doc(allow("s3:*", "*"))], context={"aws:TagKeys": ["a"]}
        )
