"""The CloudTrail trigger on the deployed stack: CreateSecurityGroup and AuthorizeSecurityGroupIngress
events start one audit of the group, once per event (CreateBucket: tests/integration/test_audit_workflow.py).

LocalStack emits no CloudTrail events: the tests deliver the event CloudTrail would, with PutEvents
(through the rule) or by invoking the trigger function (a redelivery, an event the rule would not
match). The events are the recorded samples in tests/events/, naming a group that exists here.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from secagent.api.triggers import audit_id_for_event
from tests.integration.conftest import wait_for

EVENTS = Path(__file__).resolve().parents[1] / "events"


@pytest.fixture()
def group(aws: Callable[..., Any]) -> str:
    """A new security group in the default VPC, open to SSH from anywhere."""
    ec2 = aws("ec2")
    group_id = ec2.create_security_group(
        GroupName=f"trigger-{uuid.uuid4().hex[:10]}", Description="trigger test"
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    return str(group_id)


def event_for(name: str, group_id: str, outputs: dict[str, str]) -> dict[str, Any]:
    """The sample CloudTrail event of `name`, about `group_id`, with a fresh event id, of the
    deployment's account and region (the trigger skips any other's)."""
    event: dict[str, Any] = json.loads((EVENTS / f"cloudtrail_{name}.json").read_text())
    event["id"] = str(uuid.uuid4())
    _, _, _, region, account, *_ = outputs["StateMachineArn"].split(":")
    event["account"], event["region"] = account, region
    detail = event["detail"]
    detail["awsRegion"] = region
    if name == "create_security_group":
        detail["responseElements"]["groupId"] = group_id
    else:
        detail["requestParameters"]["groupId"] = group_id
    return event


def started_audit(aws: Callable[..., Any], outputs: dict[str, str], audit_id: str) -> dict[str, Any] | None:
    """The execution input of the audit named `audit_id`, once it exists."""
    arn = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{audit_id}"
    sfn = aws("stepfunctions")
    try:
        described = sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        return None
    found: dict[str, Any] = json.loads(described["input"])
    return found


def invoke(aws: Callable[..., Any], outputs: dict[str, str], event: dict[str, Any]) -> dict[str, Any]:
    answer = aws("lambda").invoke(FunctionName=outputs["TriggerFunctionName"], Payload=json.dumps(event))
    result: dict[str, Any] = json.loads(answer["Payload"].read())
    return result


@pytest.mark.parametrize("name", ["create_security_group", "authorize_security_group_ingress"])
def test_a_cloudtrail_event_on_the_bus_starts_one_audit_of_the_group(aws, outputs, group, name):
    # Given the event CloudTrail delivers for the call, put on the default bus as EventBridge would
    event = event_for(name, group, outputs)
    entry = {
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
    }
    put = aws("events").put_events(Entries=[entry])
    assert put["FailedEntryCount"] == 0
    # Then the rule's function starts the audit of that group, named after the event
    audit_id = audit_id_for_event(put["Entries"][0]["EventId"])
    started = wait_for(lambda: started_audit(aws, outputs, audit_id), timeout=30, interval=0.5)
    assert started is not None, f"no audit {audit_id} of {group}"
    assert started["resource"] == {"type": "AWS::EC2::SecurityGroup", "id": group}
    assert started["mode"] == "remediate"


def test_the_same_event_delivered_twice_starts_one_audit(aws, outputs, group):
    event = event_for("authorize_security_group_ingress", group, outputs)
    answers = [invoke(aws, outputs, event) for _ in range(2)]
    assert [a["outcome"] for a in answers] == ["started", "duplicate"]
    assert answers[0]["auditId"] == answers[1]["auditId"] == audit_id_for_event(event["id"])


def test_a_failed_call_and_the_agents_own_rollback_start_nothing(aws, outputs, group):
    failed = event_for("create_security_group", group, outputs)
    failed["detail"]["errorCode"] = "Client.InvalidGroup.Duplicate"
    assert invoke(aws, outputs, failed)["outcome"] == "skipped"
    # A rule authorized again by Apply's role (a rollback): no audit proposes to revoke it again
    rollback = event_for("authorize_security_group_ingress", group, outputs)
    apply_role = aws("lambda").get_function_configuration(FunctionName=outputs["ApplyFunctionName"])["Role"]
    issuer = copy.deepcopy(rollback["detail"]["userIdentity"])
    issuer["sessionContext"]["sessionIssuer"]["arn"] = apply_role
    rollback["detail"]["userIdentity"] = issuer
    answer = invoke(aws, outputs, rollback)
    assert answer["outcome"] == "skipped" and apply_role in answer["reason"]
    for event in (failed, rollback):
        assert started_audit(aws, outputs, audit_id_for_event(event["id"])) is None
