"""API domain fixtures: settings, a moto report bucket, the in-memory Step Functions fake."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.api import ApiSettings
from tests.unit.api.fakes import FakeStepFunctions

STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:SecAgentAudit"
REPORT_BUCKET = "secagent-reports-test"
AUDIT_ID = "6f1c2b0e-3d4a-4b5c-9d8e-7f6a5b4c3d2e"
EXECUTION_ARN = f"arn:aws:states:us-east-1:123456789012:execution:SecAgentAudit:{AUDIT_ID}"
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-SECRET"
DIGEST = "ab" * 32
INPUT = {
    "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
    "mode": "remediate",
    "approvalTimeoutSeconds": 3600,
    "requestedBy": "arn:aws:iam::123456789012:user/alice",
}
PLANS = [
    {
        "planId": "p1",
        "remediationId": "s3_block_public_access",
        "order": 1,
        "title": "Block public access",
        "cliCommand": "aws s3api ...",
        "risk": "low",
    }
]


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(state_machine_arn=STATE_MACHINE_ARN, report_bucket=REPORT_BUCKET)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORT_BUCKET)
        yield client


@pytest.fixture
def sfn() -> FakeStepFunctions:
    return FakeStepFunctions()


def put_json(s3: Any, key: str, data: dict[str, Any]) -> None:
    s3.put_object(Bucket=REPORT_BUCKET, Key=key, Body=json.dumps(data).encode())


def get_json(s3: Any, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=REPORT_BUCKET, Key=key)["Body"].read())


def pending_record(**overrides: Any) -> dict[str, Any]:
    return {
        "auditId": AUDIT_ID,
        "status": "PENDING",
        "taskToken": TOKEN,
        "resource": INPUT["resource"],
        "plans": PLANS,
        "planDigest": DIGEST,
        "requestedBy": "arn:aws:iam::123456789012:user/alice",
        "requestedAt": "2025-03-01T12:00:05Z",
        "expiresAt": "2099-01-01T00:00:00Z",
        **overrides,
    }
