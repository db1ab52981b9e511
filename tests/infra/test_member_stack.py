"""The member stack (a sweep's read-only role in each member account) and the hub's sweep
settings, checked on the synthesized templates."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from secagent.sweep.accounts import MEMBER_ROLE_NAME, MEMBER_VERSION, MEMBER_VERSION_TAG
from stacks.audit_stack import AuditStack, SweepDeploySettings
from stacks.constructs import permissions
from stacks.member_stack import MemberStack

HUB = "999999999999"
EXTERNAL_ID = "team-external-id"
READS = {
    *permissions.S3_CONFIGURATION_READS,
    *permissions.ACCOUNT_CONFIGURATION_READS,
    *permissions.EC2_CONFIGURATION_READS,
    *permissions.PREFIX_LIST_READS,
    "s3:ListAllMyBuckets",
    "iam:GetRole",
}


def _member(app: cdk.App | None = None) -> MemberStack:
    return MemberStack(
        app or cdk.App(),
        "SecurityAgentMember",
        hub_account=HUB,
        hub_region="eu-west-1",
        external_id=EXTERNAL_ID,
    )


@pytest.fixture(scope="module")
def member() -> dict[str, Any]:
    return Template.from_stack(_member()).to_json()  # type: ignore[no-any-return]


def _of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in template["Resources"].values() if r["Type"] == kind]


def test_the_member_stack_passes_cdk_nag_and_needs_no_bootstrap() -> None:
    app = cdk.App()
    stack = _member(app)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    assembly = app.synth()
    template = assembly.get_stack_by_name(stack.stack_name).template
    assert "CheckBootstrapVersion" not in json.dumps(template.get("Rules", {}))
    assert not assembly.get_stack_by_name(stack.stack_name).assets


def test_only_the_hubs_two_sweep_roles_may_assume_it_and_only_with_the_external_id(
    member: dict[str, Any],
) -> None:
    (role,) = _of_type(member, "AWS::IAM::Role")
    assert role["RoleName"] == MEMBER_ROLE_NAME
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Action"] == "sts:AssumeRole"
    assert json.dumps(statement["Principal"]).count(f":iam::{HUB}:root") == 1
    assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": EXTERNAL_ID}
    principals = json.dumps(statement["Condition"]["ArnEquals"]["aws:PrincipalArn"])
    assert "SecurityAgentSweepLister-eu-west-1" in principals
    assert "SecurityAgentSweepScanner-eu-west-1" in principals
    assert {"Key": MEMBER_VERSION_TAG, "Value": str(MEMBER_VERSION)} in role["Tags"]


def test_it_grants_only_reads(member: dict[str, Any]) -> None:
    granted = {
        action
        for policy in _of_type(member, "AWS::IAM::Policy")
        for statement in policy["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert granted == READS
    verbs = {action.split(":")[1] for action in granted}
    assert all(v.startswith(("Get", "List", "Describe")) for v in verbs), verbs


@pytest.mark.parametrize("external_id", [None, "", "x", "has space"])
def test_a_member_stack_or_a_hub_with_members_needs_a_valid_external_id(external_id: str | None) -> None:
    with pytest.raises(ValueError, match="sweepExternalId"):
        MemberStack(cdk.App(), "M", hub_account=HUB, hub_region="us-east-1", external_id=external_id or "")
    with pytest.raises(ValueError, match="sweepExternalId"):
        SweepDeploySettings(member_accounts=("111111111111",), external_id=external_id)


def test_the_hub_may_assume_exactly_its_members_roles_from_its_two_sweep_readers() -> None:
    settings = SweepDeploySettings(member_accounts=("111111111111", "222222222222"), external_id=EXTERNAL_ID)
    template = Template.from_stack(AuditStack(cdk.App(), "SecurityAgent", sweep=settings)).to_json()
    assumers = set()
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "sts:AssumeRole" in actions:
                assumers.add(logical_id)
                targets = json.dumps(statement["Resource"])
                assert targets.count(f"role/{MEMBER_ROLE_NAME}") == 2
                assert "111111111111" in targets and "222222222222" in targets
    assert len(assumers) == 2 and all("ListResources" in a or "ScanResource" in a for a in assumers)
