"""Handlers: event in, one domain call, camelCase JSON out; typed errors propagate by name."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas import analyze, discover, remediate
from secagent.models import InvalidInput, ResourceNotFound
from tests.unit.lambdas.fakes import FakeLambdaContext

EVENTS = Path(__file__).parents[2] / "events"


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="check-fixture-bucket")
        s3.create_bucket(Bucket=os.environ["REPORT_BUCKET"])  # where checkpoints go
        yield


def test_discover_handler_returns_snapshot_json(aws: None) -> None:
    out = discover.handler(event("discover"), FakeLambdaContext())
    assert out["schemaVersion"] == "1.0" and out["resource"]["id"] == "check-fixture-bucket"
    assert out["config"]["policy"] == {"state": "ok", "value": None, "reason": None}
    json.dumps(out)
    # And its output is checkpointed for a resume
    key = f"checkpoints/{event('discover')['auditId']}/discovery.json"
    saved = boto3.client("s3", region_name="us-east-1").get_object(
        Bucket=os.environ["REPORT_BUCKET"], Key=key
    )
    assert json.loads(saved["Body"].read()) == out


def test_discover_handler_missing_bucket_raises_resource_not_found(aws: None) -> None:
    bad = {**event("discover"), "resource": {"type": "AWS::S3::Bucket", "id": "not-there-bucket"}}
    with pytest.raises(ResourceNotFound):
        discover.handler(bad, FakeLambdaContext())


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"auditId": "a", "resource": {"type": "AWS::EC2::Instance", "id": "i-1"}},
        {"auditId": "a", "resource": {"type": "AWS::S3::Bucket", "id": "Bad_Name"}},
    ],
)
def test_discover_handler_bad_event_raises_invalid_input(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        discover.handler(bad, FakeLambdaContext())


def test_analyze_handler_returns_findings_and_summary(aws: None) -> None:
    out = analyze.handler(event("analyze"), FakeLambdaContext())
    assert out["auditId"] == "audit-0001"
    assert out["summary"]["fail"] == 16  # require_kms off: the SSE-KMS check passes
    finding = out["findings"][0]
    assert {"checkId", "title", "severity", "status", "controls", "evidence", "remediationId"} <= set(finding)
    assert finding["severity"] == "CRITICAL"


def test_analyze_handler_bad_snapshot_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        analyze.handler({"auditId": "a", "snapshot": {"schemaVersion": "1.0"}}, FakeLambdaContext())


def test_remediate_handler_returns_ordered_plans(aws: None) -> None:
    out = remediate.handler(event("remediate"), FakeLambdaContext())
    assert out["auditId"] == "audit-0001"
    assert [p["order"] for p in out["plans"]] == list(range(1, len(out["plans"]) + 1))
    first = out["plans"][0]
    assert first["apiCall"] == {
        "service": "s3",
        "operation": "PutPublicAccessBlock",
        "parameters": {
            "Bucket": "check-fixture-bucket",
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
        "region": "us-east-1",
    }
    assert first["cliCommand"].startswith("aws s3api put-public-access-block --bucket check-fixture-bucket")


def test_remediate_handler_missing_findings_raises_invalid_input() -> None:
    bad = event("remediate")
    del bad["findings"]
    with pytest.raises(InvalidInput):
        remediate.handler(bad, FakeLambdaContext())


def test_handlers_settings_read_from_environment() -> None:
    from secagent.models import AgentSettings

    settings = AgentSettings.from_env(
        {"SECAGENT_REQUIRE_KMS": "true", "SECAGENT_TRUSTED_ACCOUNTS": "444455556666"}
    )
    assert settings.require_kms and settings.trusted_accounts == frozenset({"444455556666"})
    with pytest.raises(ValueError):
        AgentSettings.from_env({"SECAGENT_TRUSTED_ACCOUNTS": "not-an-account"})
