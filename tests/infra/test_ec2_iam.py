"""Every EC2 call a security group audit makes is granted to exactly the roles that make it.

Offline, from the synthesized template, with AWS's own evaluation logic (tests/iam): the calls are
the real ones, recorded as discovery (secagent/discovery/ec2.py) and the API's preflight make them
on moto, and each fix or rollback operation Apply's gate accepts (secagent/fixes/operations.py).
Each is allowed for the roles that make it and denied to every other role of the stack; no role is
granted an EC2 action none of its calls needs. (The deployed proof, tests/security/test_iam_proof.py,
checks the same both ways from what the functions really did on LocalStack.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
from aws_cdk.assertions import Template as CdkTemplate
from moto import mock_aws

from secagent.api.preflight import confirm_security_group
from secagent.discovery.ec2 import discover_security_group
from stacks.audit_stack import AuditStack
from tests.iam.actions import ArnContext, actions_for, resource_arns
from tests.iam.evaluator import Request, evaluate
from tests.iam.static_calls import SECURITY_GROUP_READS
from tests.iam.static_calls import fix_calls as every_fix_call
from tests.iam.template import Template, fake_physical_ids

ACCOUNT, REGION = "111122223333", "eu-west-1"
CTX = ArnContext("aws", REGION, ACCOUNT)


@dataclass(frozen=True)
class Call:
    action: str
    resource: str
    source: str  # what made it: "discovery ec2:DescribeSecurityGroups", "fix ec2:Revoke..."


def calls_of(service: str, operation: str, parameters: dict[str, Any], source: str) -> list[Call]:
    return [
        Call(action, arn, f"{source} {service}:{operation}")
        for action in actions_for(service, operation)
        for arn in resource_arns(action, parameters, CTX)
    ]


@pytest.fixture(scope="module")
def aws_calls() -> Iterator[dict[str, list[Call]]]:
    """The EC2 calls (as IAM requests) of a discovery and of a preflight of a group that uses every
    kind of rule source, made on moto: keyed by who makes them."""
    recorded: dict[str, list[Call]] = {"discovery": [], "preflight": []}
    making = ["discovery"]

    def clients(service: str, region: str | None) -> Any:
        client = boto3.client(service, region_name=REGION)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            service_name = model.service_model.service_name
            recorded[making[0]].extend(calls_of(service_name, model.name, params, making[0]))

        client.meta.events.register("before-parameter-build", record)
        return client

    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for key, value in env.items():
            patch.setenv(key, value)
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
        other = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc)["GroupId"]
        office = ec2.create_managed_prefix_list(
            PrefixListName="office", MaxEntries=2, AddressFamily="IPv4", Entries=[{"Cidr": "203.0.113.0/24"}]
        )["PrefixList"]["PrefixListId"]
        ec2.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "UserIdGroupPairs": [{"GroupId": other}],
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "PrefixListIds": [{"PrefixListId": office}],
                },
            ],
        )
        ec2.authorize_security_group_ingress(
            GroupId=other,
            IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": group}]}
            ],
        )
        ec2.create_network_interface(SubnetId=subnet, Groups=[group])
        snapshot = discover_security_group(group, boto3.Session(region_name=REGION), clients=clients)
        assert snapshot.unknown_fields() == [], "every read worked: every kind of call was made"
        making[0] = "preflight"
        confirm_security_group(group, clients("ec2", None))
    yield recorded


@pytest.fixture(scope="module")
def fix_calls() -> list[Call]:
    """Every operation a fix or rollback of a security group can emit (Apply's EC2 calls)."""
    return [
        call
        for service, operation, target in every_fix_call(ACCOUNT)
        if service == "ec2"
        for call in calls_of(service, operation, target, "fix")
    ]


def synthesized(**options: Any) -> tuple[Template, dict[str, str]]:
    """The stack's resolved template and its function roles: handler module -> role logical id."""
    document = CdkTemplate.from_stack(AuditStack(cdk.App(), "SecurityAgent", **options)).to_json()
    ids = fake_physical_ids(document, account=ACCOUNT, region=REGION, stack="SecurityAgent")
    template = Template(document, ids, account=ACCOUNT, region=REGION)
    roles = {
        resource["Properties"]["Handler"].split(".")[1]: template.function_role(lid)
        for lid, resource in document["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
        and "Handler" in resource["Properties"]
        and resource["Properties"]["Handler"].startswith("lambdas.")
    }
    return template, roles


@pytest.fixture(scope="module")
def stack() -> tuple[Template, dict[str, str]]:
    return synthesized()


def allowed(template: Template, role: str, call: Call) -> bool:
    request = Request(template.role_arn(role), call.action, call.resource)
    return evaluate(request, template.role_policies(role), None, account=ACCOUNT).allowed


def granted_ec2_actions(template: Template, role: str) -> set[str]:
    return {
        action
        for policy in template.role_policies(role)
        for statement in policy["Statement"]
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("ec2:")
    }


# Who makes which calls: Recheck and Verify read the group again with the same discovery, and the
# sweep's Scan Resource reads each group with it; the sweep's listing is the preflight's one call.
CALLERS = {
    "discovery": {"discover", "recheck", "verify", "scan_resource"},
    "preflight": {"api", "list_resources"},
    "fix": {"apply"},
}


def expected_calls(aws_calls: dict[str, list[Call]], fix_calls: list[Call]) -> dict[str, list[Call]]:
    return {**aws_calls, "fix": fix_calls}


def test_the_reads_the_deployed_proof_assumes_are_the_ones_discovery_makes(
    aws_calls: dict[str, list[Call]],
) -> None:
    # tests/security/test_iam_proof.py grants-checks these reads even when no run made them
    assumed = {f"ec2:{operation}" for operation, _ in SECURITY_GROUP_READS}
    assert {c.action for c in aws_calls["discovery"] if c.action.startswith("ec2:")} == assumed
    assert {c.action for c in aws_calls["preflight"]} == {"ec2:DescribeSecurityGroups"}


def test_each_ec2_call_is_allowed_to_the_roles_that_make_it_and_denied_to_every_other(
    stack: tuple[Template, dict[str, str]], aws_calls: dict[str, list[Call]], fix_calls: list[Call]
) -> None:
    template, roles = stack
    makers: dict[tuple[str, str], set[str]] = {}  # (action, resource) -> the functions making it
    sources: dict[tuple[str, str], str] = {}
    for who, calls in expected_calls(aws_calls, fix_calls).items():
        for call in calls:
            makers.setdefault((call.action, call.resource), set()).update(CALLERS[who])
            sources.setdefault((call.action, call.resource), call.source)
    wrong = [
        f"{function}: {action} on {resource} ({sources[action, resource]}) "
        f"{'denied' if function in functions else 'allowed'}"
        for (action, resource), functions in sorted(makers.items())
        for function, role in sorted(roles.items())
        if allowed(template, role, Call(action, resource, "")) != (function in functions)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_role_is_granted_an_ec2_action_its_calls_do_not_need(
    stack: tuple[Template, dict[str, str]], aws_calls: dict[str, list[Call]], fix_calls: list[Call]
) -> None:
    template, roles = stack
    needed: dict[str, set[str]] = {function: set() for function in roles}
    for who, calls in expected_calls(aws_calls, fix_calls).items():
        for function in CALLERS[who]:
            needed[function] |= {c.action for c in calls}
    granted = {function: granted_ec2_actions(template, role) for function, role in roles.items()}
    assert granted == needed


def test_a_prefix_list_of_aws_or_another_account_may_be_read_one_of_another_region_not(
    stack: tuple[Template, dict[str, str]],
) -> None:
    template, roles = stack
    read = "ec2:GetManagedPrefixListEntries"
    aws_managed = Call(read, f"arn:aws:ec2:{REGION}:aws:prefix-list/pl-6da54004", "AWS-managed (S3)")
    shared = Call(read, f"arn:aws:ec2:{REGION}:444455556666:prefix-list/pl-0123abcd", "shared by RAM")
    elsewhere = Call(read, f"arn:aws:ec2:us-east-1:{ACCOUNT}:prefix-list/pl-0123abcd", "another region")
    for function in ("discover", "recheck", "verify", "scan_resource"):
        assert allowed(template, roles[function], aws_managed) and allowed(template, roles[function], shared)
        assert not allowed(template, roles[function], elsewhere)


@pytest.mark.parametrize(
    "group_arn",
    [
        "arn:aws:ec2:eu-west-1:444455556666:security-group/sg-0123abcd",  # another account
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/sg-0123abcd",  # another region
    ],
)
def test_apply_may_change_only_groups_of_its_own_account_and_region(
    stack: tuple[Template, dict[str, str]], group_arn: str
) -> None:
    template, roles = stack
    for action in ("ec2:RevokeSecurityGroupIngress", "ec2:ModifySecurityGroupRules"):
        assert not allowed(template, roles["apply"], Call(action, group_arn, "elsewhere"))


def test_with_a_remediation_scope_no_role_may_change_a_security_group(fix_calls: list[Call]) -> None:
    # A scope names buckets: the API and Apply's gate refuse to remediate a group, and so does IAM
    template, roles = synthesized(remediation_prefixes="sandbox-")
    assert not any(allowed(template, role, call) for role in roles.values() for call in fix_calls)
    assert granted_ec2_actions(template, roles["apply"]) == set()


@pytest.fixture(autouse=True, scope="module")
def _no_real_credentials() -> Iterator[None]:
    """moto intercepts every call; no profile or endpoint of the machine may leak in."""
    saved = {k: os.environ.pop(k) for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL") if k in os.environ}
    yield
    os.environ.update(saved)
