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


def actions_of(statement: dict) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]


def test_apply_role_may_only_run_the_listed_remediation_writes(template: Template):
    allowed = [s for s in statements_of(template, "ToolsApplyRole") if s["Effect"] == "Allow"]
    actions = {action for statement in allowed for action in actions_of(statement)}
    expected = set(
        permissions.S3_REMEDIATION_WRITES
        + permissions.ACCOUNT_REMEDIATION_WRITES
        + permissions.SECURITY_GROUP_REMEDIATION_WRITES
    )
    assert expected <= actions
    # Besides the fixes: its own record, reading what it proves the approval from, its seal check,
    # and reading its execution (it confirms its audit's execution invoked it)
    report_store = {"s3:PutObject", "s3:GetObject", "s3:ListBucket"}
    keys = {"kms:Decrypt", "kms:GenerateDataKey", "kms:VerifyMac"}  # SSE-KMS read and write, seal check
    execution = {"states:DescribeExecution", "states:GetExecutionHistory"}
    others = actions - expected - report_store - keys - execution
    assert not {a for a in others if not a.startswith(("logs:", "xray:"))}, others
    # Its only object write is its own checkpoint
    put_object = [s for s in allowed if s["Action"] == "s3:PutObject"]
    assert len(put_object) == 1 and json.dumps(put_object[0]["Resource"]).endswith(
        '"/checkpoints/*/applied.json"]]}'
    )
    # It may verify a seal, never make one
    assert "kms:GenerateMac" not in actions
    assert not any(
        "*" in action for action in actions - {"xray:PutTraceSegments", "xray:PutTelemetryRecords"} - keys
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


@pytest.mark.parametrize(
    ("source", "event_source", "calls"),
    [
        ("aws.s3", "s3.amazonaws.com", ["CreateBucket"]),
        (
            "aws.ec2",
            "ec2.amazonaws.com",
            [
                "CreateSecurityGroup",
                "AuthorizeSecurityGroupIngress",
                "AuthorizeSecurityGroupEgress",
                "ModifySecurityGroupRules",
            ],
        ),
    ],
)
def test_cloudtrail_rules_match_the_trigger_calls_that_succeeded(
    template: Template, source: str, event_source: str, calls: list[str]
):
    # A refused call (errorCode set: BucketAlreadyExists, AccessDenied, InvalidGroup.Duplicate)
    # created or opened nothing to audit
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": [source],
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {
                    "eventSource": [event_source],
                    "eventName": calls,
                    "errorCode": [{"exists": False}],
                },
            },
            "Targets": [Match.object_like({"DeadLetterConfig": Match.any_value()})],
        },
    )


def test_every_cloudtrail_rule_targets_the_one_trigger_function_with_one_dead_letter_queue(
    template: Template,
):
    rules = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail-type") == ["AWS API Call via CloudTrail"]
    ]
    assert len(rules) == 2
    trigger = logical_id(template, "AWS::Lambda::Function", "ToolsOnCloudTrailEvent")
    assert {json.dumps(r["Targets"][0]["Arn"]) for r in rules} == {
        json.dumps({"Fn::GetAtt": [trigger, "Arn"]})
    }
    assert len({json.dumps(r["Targets"][0]["DeadLetterConfig"]) for r in rules}) == 1


def test_the_trigger_ignores_calls_made_by_applys_role(template: Template):
    # Apply's rollback authorizes revoked rules again: that call must not start an audit revoking them
    (variables,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "lambdas.on_cloudtrail_event.handler"
    ]
    assert variables["TRIGGER_IGNORED_ROLE_ARNS"] == role_arn(template, "Apply")
    assert variables["TRIGGER_MODE"] == "remediate"


def test_api_methods_all_use_iam_authorization(template: Template):
    methods = template.find_resources("AWS::ApiGateway::Method")
    # POST/GET /audits, GET /audits/{id}, GET|POST .../approval, POST .../resume|rollback,
    # POST/GET /exemptions, POST /exemptions/{id}/approve|revoke
    assert len(methods) == 17  # audits 7, exemptions 4, sweeps 6
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


def test_analysis_settings_reach_every_function_that_analyzes_or_plans():
    # Given deploy-time analysis settings
    stack = AuditStack(
        cdk.App(),
        "SecurityAgent",
        analysis_settings={"SECAGENT_DISABLED_CHECKS": "s3_bucket_mfa_delete_disabled"},
    )
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    # Then exactly the functions that judge or (re-)plan see them: the proposal, the pending record,
    # the API's preview and decision, Recheck and Apply must all re-plan to the same digest
    with_setting = {
        function["Properties"]["Handler"]
        for function in functions.values()
        if "SECAGENT_DISABLED_CHECKS" in function["Properties"]["Environment"]["Variables"]
    }
    assert with_setting == {
        f"lambdas.{name}.handler"
        for name in (
            "analyze",
            "remediate",
            "await_approval",
            "recheck",
            "apply",
            "verify",
            "api",
            "scan_resource",
        )
    }


def test_security_group_settings_are_context_keys_of_the_deployment():
    # Given the three security group settings as context (cdk deploy -c ...)
    app = cdk.App(
        context={
            "authorizedPorts": "80,443,8443",
            "narrowIngressCidrIpv4": "203.0.113.0/24",
            "narrowIngressCidrIpv6": "2001:db8::/32",
        }
    )
    # Then they become the tools' environment variables AgentSettings reads
    assert analysis_settings_from_context(app) == {
        "SECAGENT_AUTHORIZED_PORTS": "80,443,8443",
        "SECAGENT_NARROW_INGRESS_CIDR_IPV4": "203.0.113.0/24",
        "SECAGENT_NARROW_INGRESS_CIDR_IPV6": "2001:db8::/32",
    }


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("authorizedPorts", "80,ssh", "authorized ports must be TCP port numbers"),
        ("authorizedPorts", "0", "authorized ports must be TCP port numbers"),
        ("narrowIngressCidrIpv4", "0.0.0.0/0", "narrower than the whole internet"),
        ("narrowIngressCidrIpv4", "2001:db8::/32", "must be an IPv4 CIDR"),
        ("narrowIngressCidrIpv6", "10.0.0.0/8", "must be an IPv6 CIDR"),
        ("narrowIngressCidrIpv6", "not-a-cidr", "not an IPv6 CIDR"),
    ],
)
def test_bad_security_group_settings_fail_the_synth_with_a_clear_message(key: str, value: str, message: str):
    with pytest.raises(ValueError, match=message):
        analysis_settings_from_context(cdk.App(context={key: value}))


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


# --- who may write, read and seal the records the approval gate trusts (docs/security.md) ---------


def logical_id(template: Template, kind: str, prefix: str) -> str:
    (found,) = [k for k in template.find_resources(kind) if re.fullmatch(rf"{prefix}[0-9A-F]{{8}}", k)]
    return found


def role_arn(template: Template, function: str) -> dict:
    return {"Fn::GetAtt": [logical_id(template, "AWS::IAM::Role", f"Tools{function}Role"), "Arn"]}


def reports_objects(template: Template, pattern: str) -> dict:
    bucket = logical_id(template, "AWS::S3::Bucket", "ReportStoreReports")
    return {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{pattern}"]]}


def report_bucket_policy(template: Template) -> list[dict]:
    bucket = logical_id(template, "AWS::S3::Bucket", "ReportStoreReports")
    (policy,) = [
        p
        for p in template.find_resources("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    return policy["Properties"]["PolicyDocument"]["Statement"]


def denied_to_all_but(template: Template, actions: set[str], pattern: str) -> list[dict]:
    """The principals the bucket policy's Deny of ``actions`` on ``pattern`` spares (one statement)."""
    (deny,) = [
        s
        for s in report_bucket_policy(template)
        if s["Effect"] == "Deny"
        and s["Resource"] == reports_objects(template, pattern)
        and actions <= set(actions_of(s))
    ]
    assert deny["Principal"] == {"AWS": "*"}
    return deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]


# Each prefix of the report bucket and the only roles that may put (or delete) objects under it.
WRITERS = {
    "requests/*": ["Api", "OnCloudTrailEvent"],
    "decisions/*": ["Api"],
    "tokens/*": ["AwaitApproval"],
    "approvals/*": ["AwaitApproval", "Api"],
    "reports/*": ["Report"],
    "checkpoints/*/discovery.json": ["Discover"],
    "checkpoints/*/analysis.json": ["Analyze"],
    "checkpoints/*/remediation.json": ["Remediate"],
    "checkpoints/*/applied.json": ["Apply"],
    "checkpoints/*/verification.json": ["Verify"],
    "checkpoints/*/planCheck.json": ["Recheck"],
    "executions/*": ["Api"],
}


@pytest.mark.parametrize("pattern", sorted(WRITERS))
def test_bucket_policy_denies_writes_to_every_principal_but_the_prefix_owner(
    template: Template, pattern: str
):
    spared = denied_to_all_but(template, {"s3:PutObject", "s3:DeleteObject"}, pattern)
    assert spared == [role_arn(template, name) for name in WRITERS[pattern]]


def test_only_the_api_role_may_read_a_task_token(template: Template):
    # The bucket policy denies everyone else, whatever their IAM policies grant
    assert denied_to_all_but(template, {"s3:GetObject"}, "tokens/*") == [role_arn(template, "Api")]
    # and no other role of the stack is granted the read
    tokens = reports_objects(template, "tokens/*")
    readers = {
        role["Ref"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:GetObject" in actions_of(statement)
        and tokens
        in (statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]])
        for role in policy["Properties"]["Roles"]
    }
    assert readers == {role_arn(template, "Api")["Fn::GetAtt"][0]}


@pytest.mark.parametrize(
    ("function", "step"),
    [("Discover", "discovery"), ("Analyze", "analysis"), ("Remediate", "remediation"),
     ("Apply", "applied"), ("Verify", "verification"), ("Recheck", "planCheck")],
)  # fmt: skip
def test_each_tool_may_write_only_its_own_checkpoint(template: Template, function: str, step: str):
    writes = [
        s["Resource"]
        for s in statements_of(template, f"Tools{function}Role")
        if s["Effect"] == "Allow" and "s3:PutObject" in actions_of(s)
    ]
    assert writes == [reports_objects(template, f"checkpoints/*/{step}.json")]


@pytest.mark.parametrize(
    ("function", "reads"),
    [
        ("Analyze", {"discovery", "analysis"}),
        ("Verify", {"discovery", "analysis", "remediation", "applied", "verification"}),
    ],
)
def test_a_tool_reads_only_the_stored_outputs_it_works_on(template: Template, function: str, reads: set[str]):
    # State by reference: each tool reads the outputs of the steps before it, and no other
    granted = {
        json.dumps(resource)
        for s in statements_of(template, f"Tools{function}Role")
        if s["Effect"] == "Allow" and "s3:GetObject" in actions_of(s)
        for resource in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    checkpoints = {json.dumps(reports_objects(template, f"checkpoints/*/{name}.json")) for name in reads}
    assert json.dumps(reports_objects(template, "checkpoints/*")) not in granted
    assert checkpoints <= granted
    others = {"remediation", "applied", "verification", "planCheck", "discovery", "analysis"} - reads
    assert not {json.dumps(reports_objects(template, f"checkpoints/*/{n}.json")) for n in others} & granted


def test_apply_role_never_writes_the_stacks_own_or_cdk_buckets(template: Template):
    # An explicit Deny beats any Allow: even an approved plan cannot reconfigure these buckets
    denies = [s for s in statements_of(template, "ToolsApplyRole") if s["Effect"] == "Deny"]
    own = next(s for s in denies if "Condition" not in s)
    assert set(actions_of(own)) == set(permissions.S3_REMEDIATION_WRITES)
    assert own["Resource"] == [
        {"Fn::GetAtt": [logical_id(template, "AWS::S3::Bucket", "ReportStoreReports"), "Arn"]},
        {"Fn::GetAtt": [logical_id(template, "AWS::S3::Bucket", "ReportStoreAccessLogs"), "Arn"]},
        {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::cdk-*"]]},
    ]


def test_apply_role_never_writes_a_bucket_of_another_account(template: Template):
    denies = [s for s in statements_of(template, "ToolsApplyRole") if s["Effect"] == "Deny"]
    other_account = next(s for s in denies if "Condition" in s)
    assert set(actions_of(other_account)) == set(permissions.S3_REMEDIATION_WRITES)
    assert other_account["Condition"] == {
        "StringNotEquals": {"aws:ResourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert other_account["Resource"] == {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::*"]]}


def test_only_the_api_and_the_cloudtrail_trigger_may_seal(template: Template):
    seal_key = logical_id(template, "AWS::KMS::Key", "SealKey")
    key = template.find_resources("AWS::KMS::Key")[seal_key]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == ("HMAC_256", "GENERATE_VERIFY_MAC")
    # IAM: GenerateMac is granted to those two roles, on the seal key only
    sealers = {
        role["Ref"]: statement["Resource"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "kms:GenerateMac" in actions_of(statement)
        for role in policy["Properties"]["Roles"]
    }
    assert sealers == {
        role_arn(template, name)["Fn::GetAtt"][0]: {"Fn::GetAtt": [seal_key, "Arn"]}
        for name in ("Api", "OnCloudTrailEvent")
    }
    # Key policy: whatever IAM grants, every other principal is denied a seal
    (deny,) = [s for s in key["KeyPolicy"]["Statement"] if s["Effect"] == "Deny"]
    assert (deny["Principal"], actions_of(deny)) == ({"AWS": "*"}, ["kms:GenerateMac"])
    assert deny["Condition"] == {
        "ArnNotEquals": {
            "aws:PrincipalArn": [role_arn(template, "Api"), role_arn(template, "OnCloudTrailEvent")]
        }
    }


@pytest.mark.parametrize("function", ["Discover", "Remediate", "AwaitApproval", "Recheck", "Apply", "Report"])
def test_the_tools_that_read_sealed_records_may_verify_a_seal(template: Template, function: str):
    verify = [s for s in statements_of(template, f"Tools{function}Role") if "kms:VerifyMac" in actions_of(s)]
    assert [s["Resource"] for s in verify] == [
        {"Fn::GetAtt": [logical_id(template, "AWS::KMS::Key", "SealKey"), "Arn"]}
    ]


def test_events_go_to_the_products_own_bus(template: Template):
    bus = logical_id(template, "AWS::Events::EventBus", "Events")
    assert (
        template.find_resources("AWS::Events::EventBus")[bus]["Properties"]["Name"] == "SecurityAgentEvents"
    )
    # The publishers are told that bus, and may put events on it alone
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": bus}
    for publisher in ("AwaitApproval", "Report"):
        puts = [
            s for s in statements_of(template, f"Tools{publisher}Role") if "events:PutEvents" in actions_of(s)
        ]
        assert [s["Resource"] for s in puts] == [{"Fn::GetAtt": [bus, "Arn"]}], publisher
    # and the approval notifications listen there
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": bus},
            "EventPattern": {"source": ["secagent"], "detail-type": ["Approval Requested"]},
        },
    )


TOOLS = ["Discover", "Analyze", "Remediate", "AwaitApproval", "Recheck", "Apply", "Verify", "Report"]


@pytest.mark.parametrize("function", TOOLS)
def test_each_tool_may_read_the_audit_executions_only(template: Template, function: str):
    # Each tool confirms its audit's running execution invoked it: it reads executions of the audit
    # state machine, and nothing of another state machine (an execution of one's own is refused)
    reads = [
        s
        for s in statements_of(template, f"Tools{function}Role")
        if s["Effect"] == "Allow"
        and {"states:DescribeExecution", "states:GetExecutionHistory"} & set(actions_of(s))
    ]
    assert [set(actions_of(s)) for s in reads] == [{"states:DescribeExecution", "states:GetExecutionHistory"}]
    assert json.dumps(reads[0]["Resource"]).endswith(':execution:SecurityAgentAudit:*"]]}')
    # and it may not start, stop or answer one (Await Approval aside: it wakes a resume itself)
    started = {a for s in statements_of(template, f"Tools{function}Role") for a in actions_of(s)}
    assert not {"states:StartExecution", "states:StopExecution", "states:SendTaskFailure"} & started
    assert ("states:SendTaskSuccess" in started) is (function == "AwaitApproval")


@pytest.mark.parametrize("function", ["Recheck", "Apply"])
def test_recheck_and_apply_are_told_the_buckets_no_audit_may_remediate(function: str):
    # Given a deployment with a remediation scope
    stack = AuditStack(cdk.App(), "SecurityAgent", remediation_prefixes="sandbox-")
    template = Template.from_stack(stack)
    (variables,) = [
        f["Properties"]["Environment"]["Variables"]
        for f in template.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == f"lambdas.{function.lower()}.handler"
    ]
    # Then Apply's gate refuses the stack's own buckets and those outside the scope again
    reports = logical_id(template, "AWS::S3::Bucket", "ReportStoreReports")
    assert {"Ref": reports} in variables["PROTECTED_BUCKETS"]["Fn::Join"][1]
    assert variables["REMEDIATION_PREFIXES"] == "sandbox-"


def test_with_a_remediation_scope_applys_role_may_write_only_buckets_inside_it():
    # Given a deployment scoped to two name prefixes
    stack = AuditStack(cdk.App(), "SecurityAgent", remediation_prefixes="sandbox-, team-a-")
    template = Template.from_stack(stack)
    # Then the bucket writes Apply's role is allowed name exactly those prefixes, not every bucket
    writes = [
        s
        for s in statements_of(template, "ToolsApplyRole")
        if s["Effect"] == "Allow" and "s3:PutBucketPolicy" in actions_of(s)
    ]
    (statement,) = writes
    resources = json.dumps(statement["Resource"])
    assert ":s3:::sandbox-*" in resources and ":s3:::team-a-*" in resources
    assert not resources.endswith(':s3:::*"]}') and ':s3:::*"' not in resources
