"""The synthesized template and the ASL files, checked without deploying."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks

from stacks.audit_stack import AuditStack
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


def test_stack_outputs_state_machine_arn(template: Template):
    template.has_output("StateMachineArn", {"Value": Match.any_value()})


@pytest.mark.parametrize("asl_file", sorted(STATEMACHINE_DIR.glob("*.asl.json")), ids=lambda p: p.name)
def test_asl_every_task_has_timeout_and_retry(asl_file: Path):
    definition = json.loads(asl_file.read_text())
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    assert tasks
    for name, state in tasks.items():
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        assert state.get("Retry"), name


def test_asl_placeholders_match_the_stack_substitutions():
    # Given every workflow construct of the stack
    stack = AuditStack(cdk.App(), "SecurityAgent")
    workflows = [c for c in stack.node.find_all() if isinstance(c, AuditWorkflow)]
    assert workflows
    for workflow in workflows:
        # Then each ${X} of its ASL file is substituted, and nothing else is
        placeholders = set(re.findall(r"\$\{(\w+)\}", workflow.definition_path.read_text()))
        assert placeholders == set(workflow.substitution_names), workflow.definition_path.name
