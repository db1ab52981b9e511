"""The synthesized template and the ASL files, checked without deploying."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from stacks.audit_stack import AuditStack, analysis_settings_from_context
from stacks.constructs import permissions
from stacks.constructs.audit_workflow import AuditWorkflow

STATEMACHINE_DIR = Path(__file__).resolve().parents[2] / "statemachine"


@pytest.fixture(scope="module")
def template() -> Template:
    app = cdk.App()
    return Template.from_stack(AuditStack(app, "SecurityAgent"))


def test_stack_passes_cdk_nag_awssolutions():
    # Given the app with the AwsSolutions pack as a validation plugin, When it synthesizes,
    # Then no unacknowledged finding fails it (an unacknowledged one raises ValidationFailed)
    app = cdk.App()
    AuditStack(app, "SecurityAgent")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()


def test_stack_functions_run_python313_with_own_role_and_layer(template: Template):
    functions = template.find_resources("AWS::Lambda::Function")
    assert functions
    roles = {json.dumps(f["Properties"]["Role"]) for f in functions.values()}
    assert len(roles) == len(functions), "each function has a role of its own"
    for function in functions.values():
        assert function["Properties"]["Runtime"] == "python3.13"
        assert len(function["Properties"]["Layers"]) == 1
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}


def test_stack_state_machine_is_standard_and_may_only_invoke_its_functions(template: Template):
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {"StateMachineType": "STANDARD"})
    policies = template.find_resources("AWS::IAM::Policy")
    invoke_statements = [
        statement
        for policy in policies.values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in json.dumps(statement["Action"])
    ]
    assert invoke_statements
    for statement in invoke_statements:
        assert "*" not in json.dumps(statement["Resource"]), "invoke is granted on named functions only"


@pytest.mark.parametrize("name", ["ApiId", "ApiStage", "ApiUrl", "StateMachineArn", "ReportBucketName"])
def test_stack_outputs_what_clients_need(template: Template, name: str):
    template.has_output(name, {"Value": Match.any_value()})


def statements_of(template: Template, role_prefix: str) -> list[dict]:
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if any(role["Ref"].startswith(role_prefix) for role in policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_apply_role_may_only_run_the_listed_remediation_writes(template: Template):
    actions = {
        action
        for statement in statements_of(template, "ToolsApplyRole")
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    expected = set(permissions.S3_REMEDIATION_WRITES + permissions.ACCOUNT_REMEDIATION_WRITES)
    assert expected <= actions
    assert not {a for a in actions - expected - {"s3:PutObject"} if not a.startswith(("logs:", "xray:"))}
    # Its only object write is its own checkpoint
    put_object = [s for s in statements_of(template, "ToolsApplyRole") if s["Action"] == "s3:PutObject"]
    assert len(put_object) == 1 and "/checkpoints/*" in json.dumps(put_object[0]["Resource"])
    assert not any(
        "*" in action for action in actions - {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    )


def test_no_role_has_a_wildcard_action(template: Template):
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            assert not any(a == "*" or a.endswith(":*") for a in actions), statement


def test_report_bucket_is_private_encrypted_versioned_tls_only(template: Template):
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": Match.object_like({"ServerSideEncryptionConfiguration": Match.any_value()}),
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": Match.any_value(),
            "LoggingConfiguration": Match.any_value(),
        },
    )
    tls_denies = [
        statement
        for policy in template.find_resources("AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(tls_denies) == 2  # the report bucket and its access-log bucket


def test_bucket_created_rule_matches_cloudtrail_create_bucket(template: Template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventSource": ["s3.amazonaws.com"], "eventName": ["CreateBucket"]},
            },
            "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value()})],
        },
    )


def test_api_methods_all_use_iam_authorization(template: Template):
    methods = template.find_resources("AWS::ApiGateway::Method")
    assert len(methods) == 6  # POST/GET /audits, GET /audits/{id}, POST .../approval|resume|rollback
    assert all(m["Properties"]["AuthorizationType"] == "AWS_IAM" for m in methods.values())


def test_fault_injection_is_off_in_the_default_deployment(template: Template):
    for function in template.find_resources("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert "SECAGENT_FAULT_INJECTION" not in variables


def test_asl_placeholders_match_the_stack_substitutions():
    # Given every workflow construct of the stack
    stack = AuditStack(cdk.App(), "SecurityAgent")
    workflows = [c for c in stack.node.find_all() if isinstance(c, AuditWorkflow)]
    assert workflows
    for workflow in workflows:
        # Then each ${X} of its ASL file is substituted, and nothing else is
        placeholders = set(re.findall(r"\$\{(\w+)\}", workflow.definition_path.read_text()))
        assert placeholders == set(workflow.substitution_names), workflow.definition_path.name


def test_analysis_settings_reach_analyze_remediate_and_verify_only():
    # Given deploy-time analysis settings
    stack = AuditStack(
        cdk.App(),
        "SecurityAgent",
        analysis_settings={"SECAGENT_DISABLED_CHECKS": "s3_bucket_mfa_delete_disabled"},
    )
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    # Then exactly the functions that judge or plan see them
    with_setting = {
        function["Properties"]["Handler"]
        for function in functions.values()
        if "SECAGENT_DISABLED_CHECKS" in function["Properties"]["Environment"]["Variables"]
    }
    assert with_setting == {"lambdas.analyze.handler", "lambdas.remediate.handler", "lambdas.verify.handler"}


def test_unknown_disabled_check_fails_the_synth_with_its_name():
    app = cdk.App(context={"disabledChecks": "s3_bucket_mfa_delete_disabled,s3_no_such_check"})
    with pytest.raises(ValueError, match="s3_no_such_check"):
        analysis_settings_from_context(app)


@pytest.mark.parametrize(
    ("exemptions", "message"),
    [
        ('[{"bucket": "site", "checks": "all"}]', r"exemptions\.0\.reason"),  # no reason
        ('[{"bucket": "site", "checks": ["s3_no_such_check"], "reason": "r"}]', "s3_no_such_check"),
        ("site:all", "JSON list"),
    ],
)
def test_bad_exemptions_fail_the_synth_with_a_clear_message(exemptions: str, message: str):
    app = cdk.App(context={"exemptions": exemptions})
    with pytest.raises(ValueError, match=message):
        analysis_settings_from_context(app)
