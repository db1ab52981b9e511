"""start_audit on moto's Step Functions: one execution named by the audit id, input per the contract."""

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.api import ApiSettings, StartAuditRequest, start_audit

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})


@pytest.fixture
def moto_sfn() -> Iterator[tuple[Any, ApiSettings]]:
    with mock_aws():
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = client.create_state_machine(
            name="SecAgentAudit", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        yield client, ApiSettings(state_machine_arn=arn, report_bucket="reports-bucket")


def test_start_audit_valid_request_starts_execution_named_by_audit_id(
    moto_sfn: tuple[Any, ApiSettings],
) -> None:
    # Given a valid request
    sfn, settings = moto_sfn
    request = StartAuditRequest.parse(
        {"resource": {"type": "AWS::S3::Bucket", "id": "customer-data"}, "mode": "remediate"}, settings
    )
    # When the audit is started
    response = start_audit(request, "arn:aws:iam::123456789012:user/alice", sfn, settings)
    # Then the answer is the audit id (a UUID4) with links
    body = response.to_json_dict()
    audit_id = body["auditId"]
    assert uuid.UUID(audit_id).version == 4
    assert body == {
        "auditId": audit_id,
        "status": "RUNNING",
        "links": {"self": f"/audits/{audit_id}", "approval": f"/audits/{audit_id}/approval"},
    }
    # And the execution of that name runs with the contract's input
    execution = sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
    assert execution["name"] == audit_id and execution["status"] == "RUNNING"
    assert json.loads(execution["input"]) == {
        "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
        "mode": "remediate",
        "approvalTimeoutSeconds": 3600,
        "requestedBy": "arn:aws:iam::123456789012:user/alice",
    }


def test_start_audit_twice_gives_two_audits(moto_sfn: tuple[Any, ApiSettings]) -> None:
    sfn, settings = moto_sfn
    request = StartAuditRequest.parse(
        {"resource": {"type": "AWS::S3::Bucket", "id": "customer-data"}}, settings
    )
    first = start_audit(request, "unknown", sfn, settings).audit_id
    second = start_audit(request, "unknown", sfn, settings).audit_id
    assert first != second
    arns = {e["name"] for e in sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"]}
    assert arns == {first, second}
