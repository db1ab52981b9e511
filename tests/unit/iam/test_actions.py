"""tests/iam/actions.py: SDK call -> IAM actions -> the ARNs they are evaluated against."""

import pytest

from tests.iam.actions import (
    ArnContext,
    action_exists,
    actions_for,
    canonical_action,
    catalogue_actions,
    overrides,
    resource_arns,
    resource_overrides,
)
from tests.iam.actions import _botocore_operations as botocore_operations
from tests.iam.actions import _privilege as privilege

CTX = ArnContext(partition="aws", region="eu-west-1", account="111122223333")
MACHINE = "arn:aws:states:eu-west-1:111122223333:stateMachine:SecurityAgentAudit"
EXECUTION = "arn:aws:states:eu-west-1:111122223333:execution:SecurityAgentAudit:audit-1"

# --- the data file keeps itself honest -------------------------------------------------------------

OVERRIDES = [(s, op, actions) for s, ops in overrides().items() for op, actions in ops.items()]


@pytest.mark.parametrize(("service", "operation", "actions"), OVERRIDES)
def test_every_override_action_exists_in_the_catalogue(
    service: str, operation: str, actions: list[str]
) -> None:
    # Given an override, Then each action it names is in AWS's catalogue, spelt as the catalogue spells it.
    for action in actions:
        assert action_exists(action), action
        assert canonical_action(action) == action


@pytest.mark.parametrize(("service", "operation", "actions"), OVERRIDES)
def test_every_override_names_a_real_operation(service: str, operation: str, actions: list[str]) -> None:
    assert operation in botocore_operations(service)


@pytest.mark.parametrize(("service", "operation", "actions"), OVERRIDES)
def test_every_override_is_needed(service: str, operation: str, actions: list[str]) -> None:
    # Given the catalogue alone, Then it gives no answer or another one: else the override is stale.
    assert catalogue_actions(service, operation) != actions


@pytest.mark.parametrize(("action", "types"), sorted(resource_overrides().items()))
def test_every_resource_override_is_needed_and_known(action: str, types: list[str]) -> None:
    _, data, entry = privilege(action)
    assert [t for t in entry["resource_types"] if t] == []  # the catalogue says: no resource types
    assert all(t in data["resources"] for t in types)


# --- operation -> actions ---------------------------------------------------------------------------

MAPPINGS = [
    ("s3", "HeadBucket", ["s3:ListBucket"]),
    ("s3", "ListObjectsV2", ["s3:ListBucket"]),
    ("s3", "ListObjects", ["s3:ListBucket"]),
    ("s3", "ListBuckets", ["s3:ListAllMyBuckets"]),
    ("s3control", "GetPublicAccessBlock", ["s3:GetAccountPublicAccessBlock"]),
    ("s3control", "PutPublicAccessBlock", ["s3:PutAccountPublicAccessBlock"]),
    ("s3control", "DeletePublicAccessBlock", ["s3:PutAccountPublicAccessBlock"]),
    ("s3", "GetPublicAccessBlock", ["s3:GetBucketPublicAccessBlock"]),
    ("s3", "PutPublicAccessBlock", ["s3:PutBucketPublicAccessBlock"]),
    ("s3", "DeletePublicAccessBlock", ["s3:PutBucketPublicAccessBlock"]),
    ("s3", "GetBucketEncryption", ["s3:GetEncryptionConfiguration"]),
    ("s3", "PutBucketEncryption", ["s3:PutEncryptionConfiguration"]),
    ("s3", "DeleteBucketEncryption", ["s3:PutEncryptionConfiguration"]),
    ("s3", "GetBucketLifecycleConfiguration", ["s3:GetLifecycleConfiguration"]),
    ("s3", "PutBucketLifecycleConfiguration", ["s3:PutLifecycleConfiguration"]),
    ("s3", "DeleteBucketLifecycle", ["s3:PutLifecycleConfiguration"]),
    ("s3", "GetObjectLockConfiguration", ["s3:GetBucketObjectLockConfiguration"]),
    ("s3", "PutObjectLockConfiguration", ["s3:PutBucketObjectLockConfiguration"]),
    ("s3", "GetBucketCors", ["s3:GetBucketCORS"]),
    ("s3", "PutBucketCors", ["s3:PutBucketCORS"]),
    ("s3", "DeleteBucketCors", ["s3:PutBucketCORS"]),
    ("s3", "GetBucketReplication", ["s3:GetReplicationConfiguration"]),
    ("s3", "GetBucketNotificationConfiguration", ["s3:GetBucketNotification"]),
    ("s3", "GetBucketOwnershipControls", ["s3:GetBucketOwnershipControls"]),
    ("s3", "PutBucketOwnershipControls", ["s3:PutBucketOwnershipControls"]),
    ("s3", "DeleteBucketOwnershipControls", ["s3:PutBucketOwnershipControls"]),
    ("s3", "DeleteBucketPolicy", ["s3:DeleteBucketPolicy"]),
    ("s3", "GetBucketPolicy", ["s3:GetBucketPolicy"]),
    ("s3", "PutBucketPolicy", ["s3:PutBucketPolicy"]),
    ("s3", "GetBucketPolicyStatus", ["s3:GetBucketPolicyStatus"]),
    ("s3", "GetBucketWebsite", ["s3:GetBucketWebsite"]),
    ("s3", "PutBucketWebsite", ["s3:PutBucketWebsite"]),
    ("s3", "DeleteBucketWebsite", ["s3:DeleteBucketWebsite"]),
    ("s3", "GetBucketTagging", ["s3:GetBucketTagging"]),
    ("s3", "GetBucketLogging", ["s3:GetBucketLogging"]),
    ("s3", "PutBucketLogging", ["s3:PutBucketLogging"]),
    ("s3", "GetBucketVersioning", ["s3:GetBucketVersioning"]),
    ("s3", "PutBucketVersioning", ["s3:PutBucketVersioning"]),
    ("s3", "GetBucketAcl", ["s3:GetBucketAcl"]),
    ("s3", "PutBucketAcl", ["s3:PutBucketAcl"]),
    ("s3", "GetBucketLocation", ["s3:GetBucketLocation"]),
    ("s3", "GetObject", ["s3:GetObject"]),  # not s3:GetObjectVersion, which shares its API page
    ("s3", "PutObject", ["s3:PutObject"]),
    ("s3", "HeadObject", ["s3:GetObject"]),
    ("kms", "GenerateMac", ["kms:GenerateMac"]),
    ("kms", "VerifyMac", ["kms:VerifyMac"]),
    ("kms", "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"]),  # both are checked
    ("stepfunctions", "StartExecution", ["states:StartExecution"]),
    ("stepfunctions", "DescribeExecution", ["states:DescribeExecution"]),
    ("stepfunctions", "GetExecutionHistory", ["states:GetExecutionHistory"]),
    ("stepfunctions", "ListExecutions", ["states:ListExecutions"]),
    ("stepfunctions", "SendTaskSuccess", ["states:SendTaskSuccess"]),
    ("stepfunctions", "SendTaskFailure", ["states:SendTaskFailure"]),
    ("events", "PutEvents", ["events:PutEvents"]),
    ("lambda", "Invoke", ["lambda:InvokeFunction"]),
    ("sts", "GetCallerIdentity", []),  # needs no permission at all
    # Security groups: discovery, the API's preflight, fixes and their rollbacks
    ("ec2", "DescribeSecurityGroups", ["ec2:DescribeSecurityGroups"]),
    ("ec2", "DescribeSecurityGroupRules", ["ec2:DescribeSecurityGroupRules"]),
    ("ec2", "DescribeNetworkInterfaces", ["ec2:DescribeNetworkInterfaces"]),
    ("ec2", "GetManagedPrefixListEntries", ["ec2:GetManagedPrefixListEntries"]),
    ("ec2", "RevokeSecurityGroupIngress", ["ec2:RevokeSecurityGroupIngress"]),
    ("ec2", "RevokeSecurityGroupEgress", ["ec2:RevokeSecurityGroupEgress"]),
    ("ec2", "ModifySecurityGroupRules", ["ec2:ModifySecurityGroupRules"]),
    ("ec2", "AuthorizeSecurityGroupIngress", ["ec2:AuthorizeSecurityGroupIngress"]),
    ("ec2", "AuthorizeSecurityGroupEgress", ["ec2:AuthorizeSecurityGroupEgress"]),
]


@pytest.mark.parametrize(("service", "operation", "expected"), MAPPINGS)
def test_call_maps_to_its_iam_actions(service: str, operation: str, expected: list[str]) -> None:
    assert actions_for(service, operation) == expected


def test_unknown_operation_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match=r"s3\.HeadBukket"):
        actions_for("s3", "HeadBukket")


def test_operation_without_a_known_mapping_is_a_key_error_asking_for_an_override() -> None:
    # CopyObject needs s3:GetObject on the source and s3:PutObject on the target: not derivable.
    with pytest.raises(KeyError, match=r"s3\.CopyObject.*override"):
        actions_for("s3", "CopyObject")


def test_unknown_service_is_a_key_error_naming_it() -> None:
    with pytest.raises(KeyError, match="stepfunction"):
        actions_for("stepfunction", "StartExecution")


def test_action_exists_against_the_catalogue() -> None:
    assert action_exists("s3:GetAccountPublicAccessBlock")
    assert action_exists("S3:getobject")  # IAM action names are case-insensitive
    assert not action_exists("s3:HeadBucket")
    assert not action_exists("s3:GetPublicAccessBlock")
    assert not action_exists("nosuchservice:Get")
    assert not action_exists("s3")


# --- action + target -> resource ARNs ---------------------------------------------------------------


def test_bucket_action_is_evaluated_against_the_bucket() -> None:
    assert resource_arns("s3:GetBucketPolicy", {"Bucket": "reports"}, CTX) == ["arn:aws:s3:::reports"]
    assert resource_arns("s3:ListBucket", {"Bucket": "reports"}, CTX) == ["arn:aws:s3:::reports"]


def test_object_action_is_evaluated_against_the_object() -> None:
    target = {"Bucket": "reports", "Key": "checkpoints/a-1/discovery.json", "Body": b"{}"}
    assert resource_arns("s3:GetObject", target, CTX) == [
        "arn:aws:s3:::reports/checkpoints/a-1/discovery.json"
    ]


def test_object_action_without_a_key_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"s3:PutObject.*ObjectName"):
        resource_arns("s3:PutObject", {"Bucket": "reports"}, CTX)


def test_account_level_action_is_evaluated_against_star() -> None:
    assert resource_arns("s3:PutAccountPublicAccessBlock", {"AccountId": "111122223333"}, CTX) == ["*"]
    assert resource_arns("s3:ListAllMyBuckets", {}, CTX) == ["*"]


def test_state_machine_action_is_evaluated_against_the_machine() -> None:
    target = {"stateMachineArn": MACHINE, "name": "audit-1", "input": "{}"}
    assert resource_arns("states:StartExecution", target, CTX) == [MACHINE]
    assert resource_arns("states:ListExecutions", {"stateMachineArn": MACHINE}, CTX) == [MACHINE]


def test_execution_actions_are_evaluated_against_the_execution() -> None:
    assert resource_arns("states:DescribeExecution", {"executionArn": EXECUTION}, CTX) == [EXECUTION]
    assert resource_arns("states:GetExecutionHistory", {"executionArn": EXECUTION}, CTX) == [EXECUTION]


def test_task_token_actions_are_evaluated_against_the_tokens_machine() -> None:
    # The catalogue says "*", AWS checks the state machine (operation_actions.json, resource_overrides).
    assert resource_arns("states:SendTaskSuccess", {"stateMachineArn": MACHINE, "taskToken": "t"}, CTX) == [
        MACHINE
    ]


def test_kms_key_by_arn_keeps_the_arns_region_and_account() -> None:
    key = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert resource_arns("kms:GenerateMac", {"KeyId": key}, CTX) == [key]


def test_kms_key_by_id_uses_the_context() -> None:
    assert resource_arns("kms:Decrypt", {"KeyId": "k-1"}, CTX) == [
        "arn:aws:kms:eu-west-1:111122223333:key/k-1"
    ]


def test_kms_alias_is_refused() -> None:
    with pytest.raises(ValueError, match="alias"):
        resource_arns("kms:Encrypt", {"KeyId": "alias/reports"}, CTX)


def test_put_events_is_evaluated_against_the_bus() -> None:
    bus = "arn:aws:events:eu-west-1:111122223333:event-bus/SecurityAgentEvents"
    assert resource_arns("events:PutEvents", {"EventBusName": "SecurityAgentEvents"}, CTX) == [bus]
    assert resource_arns("events:PutEvents", {"EventBusName": bus}, CTX) == [bus]
    assert resource_arns("events:PutEvents", {}, CTX) == [
        "arn:aws:events:eu-west-1:111122223333:event-bus/default"
    ]


def test_lambda_function_forms() -> None:
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:discover"
    assert resource_arns("lambda:InvokeFunction", {"FunctionName": "discover"}, CTX) == [arn]
    assert resource_arns("lambda:InvokeFunction", {"FunctionName": arn}, CTX) == [arn]
    assert resource_arns(
        "lambda:InvokeFunction", {"FunctionName": "111122223333:function:discover"}, CTX
    ) == [arn]
    assert resource_arns("lambda:InvokeFunction", {"FunctionName": "discover:live"}, CTX) == [f"{arn}:live"]


def test_unknown_action_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="s3:HeadBucket"):
        resource_arns("s3:HeadBucket", {"Bucket": "b"}, CTX)


# --- security groups ------------------------------------------------------------------------------

GROUP = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123abcd"


def rule(rule_id: str) -> str:
    return f"arn:aws:ec2:eu-west-1:111122223333:security-group-rule/{rule_id}"


def test_describe_actions_have_no_resource_level_permissions() -> None:
    for action in ("DescribeSecurityGroups", "DescribeSecurityGroupRules", "DescribeNetworkInterfaces"):
        assert resource_arns(f"ec2:{action}", {"GroupIds": ["sg-0123abcd"]}, CTX) == ["*"]


def test_revoke_and_authorize_are_evaluated_against_the_group() -> None:
    # Revoke names rules by id, but the catalogue authorizes it on the group only
    revoke = {"GroupId": "sg-0123abcd", "SecurityGroupRuleIds": ["sgr-1", "sgr-2"]}
    assert resource_arns("ec2:RevokeSecurityGroupIngress", revoke, CTX) == [GROUP]
    # A rollback's authorize names no rule (it creates them): the group only
    authorize = {"GroupId": "sg-0123abcd", "IpPermissions": [{"IpProtocol": "tcp"}]}
    assert resource_arns("ec2:AuthorizeSecurityGroupIngress", authorize, CTX) == [GROUP]


def test_modify_security_group_rules_is_evaluated_against_the_group_and_each_rule() -> None:
    target = {
        "GroupId": "sg-0123abcd",
        "SecurityGroupRules": [
            {"SecurityGroupRuleId": "sgr-1", "SecurityGroupRule": {"CidrIpv4": "10.0.0.0/8"}},
            {"SecurityGroupRuleId": "sgr-2", "SecurityGroupRule": {"CidrIpv4": "10.0.0.0/8"}},
        ],
    }
    assert resource_arns("ec2:ModifySecurityGroupRules", target, CTX) == [GROUP, rule("sgr-1"), rule("sgr-2")]


def test_a_target_builds_only_the_resource_types_it_names() -> None:
    # AWS checks ModifySecurityGroupRules on the group and on each rule: a target naming the group
    # alone (a recorded call keeps string parameters only) checks the group; the static proof of
    # every fix operation names the rules too (tests/iam/static_calls.py)
    assert resource_arns("ec2:ModifySecurityGroupRules", {"GroupId": "sg-0123abcd"}, CTX) == [GROUP]
    with pytest.raises(ValueError, match="security-group needs SecurityGroupId"):
        resource_arns("ec2:ModifySecurityGroupRules", {}, CTX)


def test_prefix_list_entries_are_evaluated_against_the_list() -> None:
    assert resource_arns("ec2:GetManagedPrefixListEntries", {"PrefixListId": "pl-63a5400a"}, CTX) == [
        "arn:aws:ec2:eu-west-1:111122223333:prefix-list/pl-63a5400a"
    ]
