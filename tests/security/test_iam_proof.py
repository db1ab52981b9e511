"""The IAM proof: every role, both ways, without an emulator that enforces IAM (docs/iam.md).

LocalStack's open edition does not enforce IAM, so a green run says nothing about a real account.
This module takes what each principal really did during this test run and evaluates it against
the policies of the synthesized template, as AWS would:

- **recorded calls**: each function of the test deployment (`-c recordAwsCalls=true`) logs every
  AWS call it makes, with its target (secagent/aws.py); they are read from the functions' logs;
- **Step Functions' own calls**: the state machine's role invokes each function its ASL names;
- **what S3 does for them**: a read of the SSE-KMS report bucket needs kms:Decrypt on its key,
  a write kms:GenerateDataKey; a read of a missing record answers NoSuchKey only with
  s3:ListBucket on the bucket (else AccessDenied);
- **what Apply may be asked to do**: every operation a fix or a rollback can emit (the gate's
  FIELD_OF_OPERATION), on any customer bucket or security group, statically;
- **what a security group's discovery may read** (Discover, Recheck, Verify): every EC2 read, a
  prefix list's entries too, statically (a run need not audit a group whose rule names one).

Then: (a) every call is allowed; (b) every action a role grants is used by one of them or carries
a written reason; (c) every fix and rollback operation is granted to Apply; and the suite checks
itself: taking away any one granted action fails (a) or (c), adding one nothing uses fails (b).
tests/infra/test_ec2_iam.py proves the EC2 part offline too, and that no other role may make it.
It runs after the integration and attack tests (tests/security sorts after tests/integration), so
the recording covers the whole run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts.localstack_client import REGION, STACK_NAME
from scripts.members import member_template
from secagent.aws import RECORD_PREFIX
from secagent.fixes.operations import FIELD_OF_OPERATION
from secagent.sweep.accounts import MEMBER_ROLE_NAME
from tests.iam.actions import ArnContext, actions_for, resource_arns
from tests.iam.evaluator import Decision, Request, evaluate
from tests.iam.static_calls import SECURITY_GROUP_READS, fix_calls
from tests.iam.template import Template

pytestmark = pytest.mark.integration

ACCOUNT = "000000000000"
CTX = ArnContext("aws", REGION, ACCOUNT)
# The sweep's member role (stacks/member_stack.py), as deployed in a member account: the calls a
# sweep makes with its credentials are recorded as "as": "SecurityAgentSweepReader" and held to it.
MEMBER_ACCOUNT = "111111111111"
MEMBER_CTX = ArnContext("aws", REGION, MEMBER_ACCOUNT)
MEMBER = "member:"  # a Call.role of the member stack's template: "member:<logical id>"
STATE = Path(os.environ.get("LOCALSTACK_STATE") or Path(__file__).resolve().parents[2] / ".localstack")
# Discovery of a security group runs in these functions (Recheck and Verify read it again).
SECURITY_GROUP_READERS = ("Discover", "Recheck", "Verify", "ScanResource")

# Granted actions no SDK call of ours makes, each with why it is granted.
NOT_SDK_CALLS = {
    "logs:CreateLogStream": "the Lambda runtime writes the function's own log stream",
    "logs:PutLogEvents": "the Lambda runtime writes the function's own log events",
    "xray:PutTraceSegments": "active tracing: the Lambda service's X-Ray daemon sends the segments",
    "xray:PutTelemetryRecords": "active tracing: the X-Ray daemon's telemetry",
    "xray:GetSamplingRules": "Step Functions' X-Ray tracing (CDK grants it with tracing_enabled)",
    "xray:GetSamplingTargets": "Step Functions' X-Ray tracing (CDK grants it with tracing_enabled)",
    "logs:CreateLogDelivery": "Step Functions delivers execution logs to its log group (CDK)",
    "logs:GetLogDelivery": "Step Functions' log delivery (CDK)",
    "logs:UpdateLogDelivery": "Step Functions' log delivery (CDK)",
    "logs:DeleteLogDelivery": "Step Functions' log delivery (CDK)",
    "logs:ListLogDeliveries": "Step Functions' log delivery (CDK)",
    "logs:PutResourcePolicy": "Step Functions' log delivery (CDK)",
    "logs:DescribeResourcePolicies": "Step Functions' log delivery (CDK)",
    "logs:DescribeLogGroups": "Step Functions' log delivery (CDK)",
}


@dataclass(frozen=True)
class Call:
    """One request a principal makes: an IAM action on a resource, and where it came from."""

    role: str  # the role's logical id
    action: str
    resource: str
    source: str  # "recorded <fn> <service>:<operation>", "asl", "implied by ...", "registry"


@dataclass
class Stack:
    template: Template
    outputs: dict[str, str]
    functions: dict[str, str]  # function logical id -> physical name
    report_bucket: str
    report_key_arn: str
    member: Template  # the member stack, as deployed in MEMBER_ACCOUNT
    member_role: str  # its role's logical id
    calls: list[Call] = field(default_factory=list)

    def role_of_function(self, logical_id: str) -> str:
        return self.template.function_role(logical_id)

    def role_arn(self, role: str) -> str:
        if role.startswith(MEMBER):
            return self.member.role_arn(role.removeprefix(MEMBER))
        return self.template.role_arn(role)

    def policies(self, role: str) -> list[dict[str, Any]]:
        if role.startswith(MEMBER):
            return self.member.role_policies(role.removeprefix(MEMBER))
        return self.template.role_policies(role)


def _physical(aws: Any) -> dict[str, str]:
    resources = aws("cloudformation").describe_stack_resources(StackName=STACK_NAME)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def _recorded(name: str) -> Iterable[dict[str, Any]]:
    log = STATE / "logs" / "lambda" / f"{name}.log"
    if not log.exists():
        return []
    records = []
    for line in log.read_text(errors="replace").splitlines():
        if RECORD_PREFIX in line:
            records.append(json.loads(line.split(RECORD_PREFIX, 1)[1]))
    return records


def _requests(
    stack: Stack, role: str, service: str, operation: str, target: dict[str, Any], source: str
) -> list[Call]:
    if role.startswith(MEMBER):  # in a member account: none of the hub's records or keys there
        return [
            Call(role, action, arn, source)
            for action in actions_for(service, operation)
            for arn in resource_arns(action, target, MEMBER_CTX)
        ]
    calls = []
    if service == "stepfunctions" and operation in {"SendTaskSuccess", "SendTaskFailure"}:
        target = {**target, "stateMachineArn": stack.outputs["StateMachineArn"]}
    for action in actions_for(service, operation):
        for arn in resource_arns(action, target, CTX):
            calls.append(Call(role, action, arn, source))
            # S3 encrypts the report bucket's objects with its KMS key, on the caller's behalf.
            if arn.startswith(f"arn:aws:s3:::{stack.report_bucket}/"):
                kms = {"s3:GetObject": "kms:Decrypt", "s3:PutObject": "kms:GenerateDataKey"}.get(action)
                if kms:
                    calls.append(Call(role, kms, stack.report_key_arn, f"implied by {action} ({source})"))
                # Reading a record that is not there yet (load-or-compute) must answer NoSuchKey, not
                # AccessDenied: S3 tells them apart only for a caller with s3:ListBucket.
                if action == "s3:GetObject":
                    bucket_arn = f"arn:aws:s3:::{stack.report_bucket}"
                    calls.append(Call(role, "s3:ListBucket", bucket_arn, f"implied by {action} ({source})"))
    return calls


@pytest.fixture(scope="module")
def stack(aws: Any, outputs: dict[str, str]) -> Stack:
    path = STATE / "cdk.out" / f"{STACK_NAME}.template.json"
    if not path.exists():
        pytest.fail(f"{path} is missing: the IAM proof reads the deployed stack's synthesized template")
    physical = _physical(aws)
    template = Template.load(path, physical, account=ACCOUNT, region=REGION)
    document = json.loads(path.read_text())["Resources"]
    functions = {
        lid: physical[lid]
        for lid, r in document.items()
        if r["Type"] == "AWS::Lambda::Function" and lid in physical
    }
    report_key = next(
        lid for lid, r in document.items() if r["Type"] == "AWS::KMS::Key" and "ReportKey" in lid
    )
    member_document = json.loads(member_template())
    member_role = next(
        lid for lid, r in member_document["Resources"].items() if r["Type"] == "AWS::IAM::Role"
    )
    result = Stack(
        template=template,
        outputs=outputs,
        functions=functions,
        report_bucket=outputs["ReportBucketName"],
        report_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{physical[report_key]}",
        member=Template(
            member_document, {member_role: MEMBER_ROLE_NAME}, account=MEMBER_ACCOUNT, region=REGION
        ),
        member_role=member_role,
    )
    # Recorded: what each function did during this run (with the member role's credentials: its).
    for lid, name in functions.items():
        for record in _recorded(name):
            role = result.role_of_function(lid)
            if record.get("as") == MEMBER_ROLE_NAME:
                role = MEMBER + member_role
            source = f"recorded {lid} {record['service']}:{record['operation']}"
            result.calls += _requests(
                result, role, record["service"], record["operation"], record["target"], source
            )
    if not any(c.source.startswith("recorded") for c in result.calls):
        pytest.fail(
            "no AWS call was recorded: deploy with `-c recordAwsCalls=true` (make test does) and run the "
            "whole suite, so the integration tests exercise the functions first"
        )
    # Step Functions' own calls: each state machine's role invokes each function its ASL names.
    machines = [lid for lid, r in document.items() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    for machine in machines:
        machine_role = template.state_machine_role(machine)
        substitutions = template.resolve(document[machine]["Properties"].get("DefinitionSubstitutions", {}))
        for name, arn in substitutions.items():
            if name.endswith("FunctionArn"):
                result.calls.append(Call(machine_role, "lambda:InvokeFunction", arn, f"asl {name}"))
    result.calls += _distributed_map_calls(result, template, document)
    # The member role: every read a security group's discovery can make there, too; and the
    # HeadBucket of a bucket its listing did not locate (ListBuckets names no BucketRegion).
    member_reads = [("ec2", operation, target) for operation, target in SECURITY_GROUP_READS]
    member_reads.append(("s3", "HeadBucket", {"Bucket": "any-customer-bucket"}))
    for service, operation, target in member_reads:
        result.calls += _requests(
            result, MEMBER + member_role, service, operation, target, f"member discovery {operation}"
        )
    # Apply: every operation a fix or a rollback can emit, on a customer bucket, its account, a group.
    apply_role = result.role_of_function(next(lid for lid in functions if "Apply" in lid))
    for service, operation, target in fix_calls(ACCOUNT):
        result.calls += _requests(
            result, apply_role, service, operation, target, f"registry {service}:{operation}"
        )
    # Every read of a security group's discovery, in each function that runs it.
    for name in SECURITY_GROUP_READERS:
        reader = result.role_of_function(next(lid for lid in functions if f"Tools{name}" in lid))
        for operation, target in SECURITY_GROUP_READS:
            result.calls += _requests(result, reader, "ec2", operation, target, f"discovery ec2:{operation}")
    return result


def _distributed_map_calls(stack: Stack, template: Template, document: dict[str, Any]) -> list[Call]:
    """The sweep's Distributed Map, as Step Functions runs it with the machine's role: it reads the
    items file, starts, describes and stops the child executions, and writes the ResultWriter's
    files (a multipart upload for large ones), each encrypted with the report bucket's key."""
    sweep = next(
        lid
        for lid, r in document.items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and "Sweep" in lid
    )
    role = template.state_machine_role(sweep)
    machine_arn = stack.outputs["SweepStateMachineArn"]
    name = machine_arn.rsplit(":", 1)[1]
    child = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}/map-run-label:child-execution"
    bucket = f"arn:aws:s3:::{stack.report_bucket}"
    source = "asl Distributed Map"
    return [
        Call(role, "states:StartExecution", machine_arn, source),
        Call(role, "states:DescribeExecution", child, source),
        Call(role, "states:StopExecution", child, source),
        Call(role, "s3:GetObject", f"{bucket}/sweep-items/sweep-id/items.json", f"{source} ItemReader"),
        Call(role, "kms:Decrypt", stack.report_key_arn, f"{source} ItemReader"),
        *(
            Call(
                role, action, f"{bucket}/sweep-results/map-run-id/SUCCEEDED_0.json", f"{source} ResultWriter"
            )
            for action in ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
        ),
        Call(role, "kms:GenerateDataKey", stack.report_key_arn, f"{source} ResultWriter"),
    ]


def _decide(stack: Stack, call: Call, identity: list[dict[str, Any]] | None = None) -> Decision:
    if call.role.startswith(MEMBER):
        return evaluate(
            Request(stack.role_arn(call.role), call.action, call.resource, {"aws:SecureTransport": "true"}),
            identity if identity is not None else stack.policies(call.role),
            None,
            account=MEMBER_ACCOUNT,
        )
    template = stack.template
    resource_policy = None
    if call.resource.startswith("arn:aws:s3:::"):
        resource_policy = template.bucket_policy(call.resource.removeprefix("arn:aws:s3:::").split("/", 1)[0])
    key_policy = template.key_policy(call.resource) if call.action.startswith("kms:") else None
    return evaluate(
        Request(stack.role_arn(call.role), call.action, call.resource, {"aws:SecureTransport": "true"}),
        identity if identity is not None else template.role_policies(call.role),
        resource_policy,
        kms_key_policy=key_policy,
        account=ACCOUNT,
    )


def _unique(calls: Iterable[Call]) -> list[Call]:
    seen: dict[tuple[str, str, str], Call] = {}
    for call in calls:
        seen.setdefault((call.role, call.action, call.resource), call)
    return list(seen.values())


def _denied(
    stack: Stack, calls: Iterable[Call], identity: dict[str, list[dict[str, Any]]] | None = None
) -> list[str]:
    out = []
    for call in _unique(calls):
        decision = _decide(stack, call, None if identity is None else identity[call.role])
        if not decision.allowed:
            out.append(f"{call.role}: {call.action} on {call.resource} ({call.source}): {decision.reason}")
    return out


def _granted(policies: list[dict[str, Any]]) -> set[str]:
    granted: set[str] = set()
    for policy in policies:
        for statement in policy.get("Statement", []):
            if statement.get("Effect") == "Allow":
                actions = statement.get("Action", [])
                granted |= {actions} if isinstance(actions, str) else set(actions)
    return granted


def _uses(pattern: str, action: str) -> bool:
    import fnmatch

    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _unused(stack: Stack, role: str, policies: list[dict[str, Any]]) -> list[str]:
    needed = {c.action for c in stack.calls if c.role == role}
    return sorted(
        a for a in _granted(policies) if a not in NOT_SDK_CALLS and not any(_uses(a, n) for n in needed)
    )


def _roles(stack: Stack) -> list[str]:
    return sorted({c.role for c in stack.calls})


# --- (a) every call is allowed ----------------------------------------------------------------------


def test_every_recorded_and_static_call_is_allowed(stack: Stack) -> None:
    denied = _denied(stack, stack.calls)
    assert not denied, "\n".join(denied)


# --- (b) every granted action is used, or says why ----------------------------------------------------


def test_every_granted_action_is_used_or_has_a_written_reason(stack: Stack) -> None:
    unused = {role: found for role in _roles(stack) if (found := _unused(stack, role, stack.policies(role)))}
    assert not unused, unused


# --- (c) every fix and rollback operation is granted to Apply -----------------------------------------


def test_every_operation_a_fix_or_rollback_can_emit_is_granted_to_apply(stack: Stack) -> None:
    registry_calls = [c for c in stack.calls if c.source.startswith("registry")]
    assert {c.source for c in registry_calls} == {f"registry {s}:{o}" for s, o in FIELD_OF_OPERATION}
    denied = _denied(stack, registry_calls)
    assert not denied, "\n".join(denied)


# --- the suite checks itself ----------------------------------------------------------------------------


def _without(policies: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    out = []
    for policy in policies:
        statements = []
        for statement in policy.get("Statement", []):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else list(actions)
            if statement.get("Effect") == "Allow" and action in actions:
                actions = [a for a in actions if a != action]
                if not actions:
                    continue
                statement = {**statement, "Action": actions}
            statements.append(statement)
        out.append({**policy, "Statement": statements})
    return out


def test_taking_away_any_granted_action_denies_some_call(stack: Stack) -> None:
    survivors = []
    for role in _roles(stack):
        policies = stack.policies(role)
        identity = {r: stack.policies(r) for r in _roles(stack)}
        calls = [c for c in stack.calls if c.role == role]
        for action in sorted(_granted(policies) - set(NOT_SDK_CALLS)):
            identity[role] = _without(policies, action)
            if not _denied(stack, calls, identity):
                survivors.append(f"{role}: {action}")
    assert not survivors, f"granted but needed by no call: {survivors}"


def test_adding_an_action_nothing_uses_is_caught(stack: Stack) -> None:
    for role in _roles(stack):
        extra = {"Statement": [{"Effect": "Allow", "Action": "s3:DeleteBucket", "Resource": "*"}]}
        assert _unused(stack, role, [*stack.policies(role), extra]) == ["s3:DeleteBucket"]
