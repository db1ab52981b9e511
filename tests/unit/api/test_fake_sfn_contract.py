"""The fake answers like moto (and so like botocore's model) where both implement a call."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.unit.api.fakes import FakeStepFunctions

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})


@pytest.fixture(params=["moto", "fake"])
def client_and_arn(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    if request.param == "fake":
        yield FakeStepFunctions(), "arn:aws:states:us-east-1:123456789012:stateMachine:sm"
        return
    with mock_aws():
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="sm", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        yield client, arn


def test_sfn_start_then_describe_returns_running_execution_with_input(
    client_and_arn: tuple[Any, str],
) -> None:
    client, sm_arn = client_and_arn
    started = client.start_execution(stateMachineArn=sm_arn, name="audit-1", input='{"mode": "plan"}')
    described = client.describe_execution(executionArn=started["executionArn"])
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:sm:audit-1"
    assert (described["status"], described["name"], json.loads(described["input"])) == (
        "RUNNING",
        "audit-1",
        {"mode": "plan"},
    )
    assert described["stateMachineArn"] == sm_arn and "stopDate" not in described


def test_sfn_describe_unknown_execution_raises_execution_does_not_exist(
    client_and_arn: tuple[Any, str],
) -> None:
    client, _ = client_and_arn
    with pytest.raises(ClientError) as caught:
        client.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:sm:nope")
    assert caught.value.response["Error"]["Code"] == "ExecutionDoesNotExist"
