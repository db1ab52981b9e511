"""tests/iam/template.py: a template's roles and policies, intrinsics resolved with physical ids."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.iam.template import Template, TemplateError, fake_physical_ids

ACCOUNT, REGION = "111122223333", "eu-west-1"
REAL_TEMPLATE = (
    Path(__file__).resolve().parents[3] / ".localstack" / "cdk.out" / "SecurityAgent.template.json"
)

PARTITION_ROOT = {
    "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"]]
}

DOCUMENT: dict[str, Any] = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "BootstrapVersion": {
            "Type": "AWS::SSM::Parameter::Value<String>",
            "Default": "/cdk-bootstrap/version",
        },
    },
    "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
    },
    "Mappings": {"Retention": {"dev": {"Days": "7"}}},
    "Resources": {
        "Reports": {"Type": "AWS::S3::Bucket"},
        "ReportsPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "Reports"},
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Principal": {"AWS": "*"},
                            "Action": "s3:*",
                            "Resource": [
                                {"Fn::GetAtt": ["Reports", "Arn"]},
                                {"Fn::Join": ["", [{"Fn::GetAtt": ["Reports", "Arn"]}, "/*"]]},
                            ],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ]
                },
            },
        },
        "Key": {
            "Type": "AWS::KMS::Key",
            "Properties": {
                "KeyPolicy": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": PARTITION_ROOT},
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ]
                }
            },
        },
        "PlainKey": {"Type": "AWS::KMS::Key", "Properties": {}},
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "events-bus"}},
        "Rule": {"Type": "AWS::Events::Rule"},
        "Topic": {"Type": "AWS::SNS::Topic"},
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Logs": {"Type": "AWS::Logs::LogGroup"},
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "ToolRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Path": "/tools/",
                "Policies": [
                    {
                        "PolicyName": {"Fn::Sub": "${AWS::StackName}-inline"},
                        "PolicyDocument": {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "states:StartExecution",
                                    "Resource": {
                                        "Fn::Sub": [
                                            "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                                            ":stateMachine:${Name}",
                                            {"Name": {"Fn::Select": [1, {"Fn::Split": ["/", "a/Audit/c"]}]}},
                                        ]
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
        "ToolPolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "ToolPolicy",
                "Roles": [{"Ref": "ToolRole"}],
                "PolicyDocument": {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt"],
                            "Resource": {"Fn::GetAtt": ["Key", "Arn"]},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "events:PutEvents",
                            "Resource": {"Fn::Sub": "${Bus.Arn}"},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sns:Publish",
                            "Resource": {"Fn::GetAtt": "Topic.TopicArn"},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "sqs:SendMessage",
                            "Resource": {"Fn::GetAtt": ["Queue", "Arn"]},
                        },
                        {
                            "Effect": "Allow",
                            "Action": "logs:PutLogEvents",
                            "Resource": {"Fn::GetAtt": ["Logs", "Arn"]},
                            "Condition": {
                                "StringEquals": {
                                    "aws:RequestTag/literal": {"Fn::Sub": "${!NotAVariable}"},
                                    "aws:RequestTag/suffix": {"Ref": "AWS::URLSuffix"},
                                    "aws:RequestTag/env": {
                                        "Fn::If": ["IsProd", "prod", {"Ref": "AWS::NoValue"}]
                                    },
                                    "aws:RequestTag/days": {"Fn::FindInMap": ["Retention", "dev", "Days"]},
                                }
                            },
                        },
                    ]
                },
            },
        },
        "ProdOnlyPolicy": {
            "Type": "AWS::IAM::Policy",
            "Condition": "IsProd",
            "Properties": {
                "PolicyName": "ProdOnly",
                "Roles": [{"Ref": "ToolRole"}],
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
            },
        },
        "OtherRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "other-role"}},
        "ByNamePolicy": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "ByName",
                "Roles": ["other-role"],
                "PolicyDocument": {
                    "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]
                },
            },
        },
        "LocalManaged": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]},
            },
        },
        "ManagedRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "ManagedPolicyArns": [
                    {
                        "Fn::Join": [
                            "",
                            ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/ReadOnlyAccess"],
                        ]
                    },
                    {"Ref": "LocalManaged"},
                ]
            },
        },
        "Tool": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": {"Fn::GetAtt": ["ToolRole", "Arn"]}},
        },
        "Other": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${OtherRole}"},
            },
        },
        "ToolPermission": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Fn::GetAtt": ["Tool", "Arn"]},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": ["Rule", "Arn"]},
            },
        },
        "MachineRole": {"Type": "AWS::IAM::Role"},
        "Machine": {
            "Type": "AWS::StepFunctions::StateMachine",
            "Properties": {"RoleArn": {"Fn::GetAtt": ["MachineRole", "Arn"]}},
        },
    },
}

PHYSICAL = {
    "Reports": "reports-bucket",
    "ReportsPolicy": "reports-policy-id",
    "Key": "key-1",
    "PlainKey": "key-2",
    "Bus": "events-bus",
    "Rule": "rule-1",
    "Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:topic-1",
    "Queue": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/queue-1",
    "Logs": "/aws/lambda/tool",
    "Api": "api-1",
    "ToolRole": "tool-role",
    "ToolPolicy": "tool-policy-id",
    "OtherRole": "other-role",
    "ByNamePolicy": "by-name-id",
    "LocalManaged": f"arn:aws:iam::{ACCOUNT}:policy/local-managed",
    "ManagedRole": "managed-role",
    "Tool": "tool-fn",
    "Other": "other-fn",
    "MachineRole": "machine-role",
    "Machine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Audit",
}


def template(parameters: dict[str, str] | None = None, **kwargs: Any) -> Template:
    parameters = {"AWS::StackName": "Stack", **(parameters or {})}
    return Template(
        copy.deepcopy(DOCUMENT), PHYSICAL, account=ACCOUNT, region=REGION, parameters=parameters, **kwargs
    )


# --- intrinsics -------------------------------------------------------------------------------------


def test_ref_gives_the_physical_id_and_pseudo_parameters() -> None:
    t = template()
    assert t.resolve({"Ref": "Reports"}) == "reports-bucket"  # bucket: its name
    assert t.resolve({"Ref": "ToolRole"}) == "tool-role"  # role: its name
    assert t.resolve({"Ref": "Key"}) == "key-1"  # key: its id
    assert t.resolve({"Ref": "Tool"}) == "tool-fn"  # function: its name
    assert t.resolve({"Ref": "Topic"}) == PHYSICAL["Topic"]  # topic: its ARN
    assert [t.resolve({"Ref": f"AWS::{p}"}) for p in ("Partition", "Region", "AccountId", "URLSuffix")] == [
        "aws",
        REGION,
        ACCOUNT,
        "amazonaws.com",
    ]
    assert t.resolve({"Ref": "Env"}) == "dev"  # a parameter's default


@pytest.mark.parametrize(
    ("logical_id", "attribute", "expected"),
    [
        ("Reports", "Arn", "arn:aws:s3:::reports-bucket"),
        ("ToolRole", "Arn", f"arn:aws:iam::{ACCOUNT}:role/tools/tool-role"),  # the ARN carries the Path
        ("OtherRole", "Arn", f"arn:aws:iam::{ACCOUNT}:role/other-role"),
        ("Tool", "Arn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tool-fn"),
        ("Key", "Arn", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/key-1"),
        ("Key", "KeyId", "key-1"),
        ("Bus", "Arn", f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/events-bus"),
        ("Rule", "Arn", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/rule-1"),
        ("Topic", "TopicArn", PHYSICAL["Topic"]),
        ("Queue", "Arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue-1"),
        ("Machine", "Arn", PHYSICAL["Machine"]),
        ("Machine", "Name", "Audit"),
        ("Logs", "Arn", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/tool:*"),
    ],
)
def test_get_att(logical_id: str, attribute: str, expected: str) -> None:
    assert template().resolve({"Fn::GetAtt": [logical_id, attribute]}) == expected
    assert template().resolve({"Fn::GetAtt": f"{logical_id}.{attribute}"}) == expected


def test_join_select_split() -> None:
    t = template()
    assert t.resolve({"Fn::Join": [":", ["a", {"Ref": "AWS::Region"}]]}) == f"a:{REGION}"
    assert t.resolve({"Fn::Split": [",", {"Fn::Join": [",", ["x", "y"]]}]}) == ["x", "y"]
    assert t.resolve({"Fn::Select": ["1", {"Fn::Split": ["/", "a/b/c"]}]}) == "b"


def test_sub_with_and_without_variables() -> None:
    t = template()
    assert (
        t.resolve({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Reports}/*"}) == "arn:aws:s3:::reports-bucket/*"
    )
    assert t.resolve({"Fn::Sub": "${Reports.Arn}"}) == "arn:aws:s3:::reports-bucket"
    assert t.resolve({"Fn::Sub": ["${A}-${AWS::Region}", {"A": {"Ref": "Tool"}}]}) == f"tool-fn-{REGION}"
    assert t.resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_if_conditions_and_no_value() -> None:
    assert template().resolve({"Fn::If": ["NotProd", "a", "b"]}) == "a"
    prod = template(parameters={"Env": "prod"})
    assert prod.resolve({"Fn::If": ["IsProd", "a", "b"]}) == "a"
    assert template().resolve({"k": {"Fn::If": ["IsProd", "a", {"Ref": "AWS::NoValue"}]}, "j": 1}) == {"j": 1}


# --- unresolvable is an error -------------------------------------------------------------------------


def test_missing_physical_id_is_an_error_naming_the_resource() -> None:
    t = Template(DOCUMENT, {k: v for k, v in PHYSICAL.items() if k != "Key"}, account=ACCOUNT, region=REGION)
    with pytest.raises(TemplateError, match=r"ToolPolicy: .*Ref Key: no physical id"):
        t.role_policies("ToolRole")


def test_unmodelled_attribute_is_an_error_unless_given() -> None:
    with pytest.raises(TemplateError, match=r"Fn::GetAtt \[Api, RootResourceId\].*attributes"):
        template().resolve({"Fn::GetAtt": ["Api", "RootResourceId"]})
    given = template(attributes={"Api.RootResourceId": "root-1"})
    assert given.resolve({"Fn::GetAtt": ["Api", "RootResourceId"]}) == "root-1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Fn::ImportValue": "x"}, "Fn::ImportValue is not supported"),
        ({"Ref": "Nope"}, "no such resource or parameter"),
        ({"Ref": "BootstrapVersion"}, "parameter has no value"),  # an SSM parameter's default is a path
        ({"Ref": "AWS::StackId"}, "AWS::StackId has no value"),
        ({"Fn::Select": [5, ["a"]]}, "out of"),
        ({"Fn::Join": ["", {"Ref": "Reports"}]}, "list of strings"),
        ({"Fn::If": ["Unknown", 1, 2]}, "condition Unknown is not defined"),
    ],
)
def test_unresolvable_intrinsics_are_errors(value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        template().resolve(value)


# --- roles and policies -------------------------------------------------------------------------------


def test_roles_and_their_arns() -> None:
    assert template().roles() == {
        "ToolRole": f"arn:aws:iam::{ACCOUNT}:role/tools/tool-role",
        "OtherRole": f"arn:aws:iam::{ACCOUNT}:role/other-role",
        "ManagedRole": f"arn:aws:iam::{ACCOUNT}:role/managed-role",
        "MachineRole": f"arn:aws:iam::{ACCOUNT}:role/machine-role",
    }


def test_role_policies_gather_attached_and_inline_policies_resolved() -> None:
    policies = template().role_policies("ToolRole")
    assert [p["Id"] for p in policies] == ["ToolPolicy", "Stack-inline"]
    attached, inline = policies
    assert [s["Resource"] for s in attached["Statement"][:4]] == [
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/key-1",
        f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/events-bus",
        PHYSICAL["Topic"],
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:queue-1",
    ]
    assert attached["Statement"][4]["Condition"] == {
        "StringEquals": {
            "aws:RequestTag/literal": "${NotAVariable}",
            "aws:RequestTag/suffix": "amazonaws.com",
            "aws:RequestTag/days": "7",
        }
    }
    assert inline["Statement"][0]["Resource"] == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Audit"


def test_a_policy_whose_condition_is_false_is_not_attached() -> None:
    assert "ProdOnly" not in [p["Id"] for p in template().role_policies("ToolRole")]
    assert "ProdOnly" in [p["Id"] for p in template(parameters={"Env": "prod"}).role_policies("ToolRole")]


def test_a_policy_naming_the_role_by_name_is_attached() -> None:
    assert [p["Id"] for p in template().role_policies("OtherRole")] == ["ByName"]


def test_managed_policies_in_the_template_are_resolved_others_listed() -> None:
    t = template()
    assert [p["Statement"][0]["Action"] for p in t.role_policies("ManagedRole")] == ["sqs:*"]
    assert t.role_managed_policy_arns("ManagedRole") == ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def test_role_lookups_reject_other_types() -> None:
    with pytest.raises(TemplateError, match="not an AWS::IAM::Role"):
        template().role_policies("Tool")


def test_bucket_policy_by_bucket_name() -> None:
    policy = template().bucket_policy("reports-bucket")
    assert policy is not None and policy["Statement"][0]["Resource"] == [
        "arn:aws:s3:::reports-bucket",
        "arn:aws:s3:::reports-bucket/*",
    ]
    assert template().bucket_policy("other-bucket") is None


def test_key_policy_by_arn_or_id_with_cloudformations_default() -> None:
    t = template()
    policy = t.key_policy(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/key-1")
    assert policy is not None and policy["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"
    }
    assert t.key_policy("key-1") == policy
    default = t.key_policy("key-2")  # declared without KeyPolicy
    assert default is not None and default["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{ACCOUNT}:root"
    }
    assert t.key_policy(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/unknown") is None


def test_function_and_state_machine_roles() -> None:
    t = template()
    assert t.function_role("Tool") == "ToolRole"  # by logical id, Role as Fn::GetAtt
    assert t.function_role("tool-fn") == "ToolRole"  # by name
    assert (
        t.function_role(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other-fn") == "OtherRole"
    )  # Role as Fn::Sub
    assert t.state_machine_role("Audit") == "MachineRole"
    assert t.state_machine_role(PHYSICAL["Machine"]) == "MachineRole"
    with pytest.raises(TemplateError, match="no AWS::Lambda::Function"):
        t.function_role("nope")


def test_function_policy_from_lambda_permissions() -> None:
    t = template()
    assert t.function_policy("Tool") == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [
            {
                "Sid": "ToolPermission",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:tool-fn",
                "Condition": {"ArnLike": {"AWS:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/rule-1"}},
            }
        ],
    }
    assert t.function_policy("Other") is None


def test_load_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(DOCUMENT))
    loaded = Template.load(path, PHYSICAL, account=ACCOUNT, region=REGION, parameters={"AWS::StackName": "S"})
    assert loaded.role_arn("OtherRole") == f"arn:aws:iam::{ACCOUNT}:role/other-role"


def test_fake_physical_ids_keep_explicit_names_and_id_forms() -> None:
    ids = fake_physical_ids(DOCUMENT, account=ACCOUNT, region=REGION, stack="S")
    assert ids["OtherRole"] == "other-role"  # RoleName wins: policies may hard-code it
    assert ids["Reports"] == "s-reports"  # bucket names are lower case
    assert ids["Topic"] == f"arn:aws:sns:{REGION}:{ACCOUNT}:S-Topic"
    assert ids["Queue"] == f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/S-Queue"
    assert ids["Machine"] == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:S-Machine"
    assert ids["Key"] != ids["PlainKey"]


# --- the synthesized stack, when a synth left it here -----------------------------------------------------


@pytest.mark.skipif(not REAL_TEMPLATE.exists(), reason="no synthesized template at .localstack/cdk.out")
def test_every_role_of_the_synthesized_stack_resolves() -> None:
    document = json.loads(REAL_TEMPLATE.read_text())
    ids = fake_physical_ids(document, account=ACCOUNT, region=REGION, stack="SecurityAgent")
    t = Template.load(REAL_TEMPLATE, ids, account=ACCOUNT, region=REGION)
    roles = t.roles()
    assert roles, "the stack has IAM roles"
    for logical_id in roles:
        for policy in t.role_policies(logical_id):
            assert "Fn::" not in json.dumps(policy) and '"Ref"' not in json.dumps(policy), logical_id
    resources = document["Resources"]
    for lid, resource in resources.items():
        kind = resource["Type"]
        if kind == "AWS::Lambda::Function":
            assert t.function_role(lid) in roles
            t.function_policy(lid)
        elif kind == "AWS::StepFunctions::StateMachine":
            assert t.state_machine_role(lid) in roles
        elif kind == "AWS::S3::Bucket":
            t.bucket_policy(ids[lid])
        elif kind == "AWS::KMS::Key":
            assert t.key_policy(ids[lid]) is not None
