"""Await Approval: the record keeps the task token, the event never carries it."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from secagent.discovery import discover_bucket
from secagent.models import ApprovalRecord, Plan, ResourceNotFound, ResourceRef
from secagent.workflow.approval import plan_digest, request_approval
from tests.unit.workflow.conftest import BUCKET, REPORTS

TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token=="
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def _request(session: boto3.Session, plans: list[Plan], **kwargs: Any) -> ApprovalRecord:
    args: dict[str, Any] = {
        "audit_id": "audit-1",
        "resource": ResourceRef(id=BUCKET),
        "plans": plans,
        "snapshot": discover_bucket(BUCKET, session),
        "task_token": TOKEN,
        "timeout_seconds": 3600,
        "bucket": REPORTS,
        "session": session,
        "now": NOW,
    }
    return request_approval(**(args | kwargs))


def test_request_approval_writes_pending_record_with_token_encrypted(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # When
    _request(session, list(reversed(plans)))
    # Then
    obj = session.client("s3").get_object(Bucket=REPORTS, Key="approvals/audit-1.json")
    assert obj["ServerSideEncryption"] == "AES256" and obj["ContentType"] == "application/json"
    record = json.loads(obj["Body"].read())
    assert record["status"] == "PENDING" and record["taskToken"] == TOKEN
    assert record["resource"] == {"type": "AWS::S3::Bucket", "id": BUCKET}
    assert record["requestedAt"] == "2025-03-01T12:00:00Z"
    assert record["expiresAt"] == "2025-03-01T13:00:00Z"
    assert [p["order"] for p in record["plans"]] == sorted(p.order for p in plans)
    assert ApprovalRecord.model_validate(record).plans[0] == min(plans, key=lambda p: p.order)


def test_request_approval_puts_event_without_token(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # When
    _request(session, plans)
    # Then
    (entry,) = events
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "secagent",
        "Approval Requested",
        "default",
    )
    assert TOKEN not in json.dumps(entry)
    detail = json.loads(entry["Detail"])
    assert set(detail) == {"auditId", "resource", "plans", "planDigest", "expiresAt", "howToDecide"}
    assert "approve" in detail["howToDecide"] and "http" not in detail["howToDecide"]  # no link that acts
    assert detail["expiresAt"] == "2025-03-01T13:00:00Z"
    assert detail["plans"][0] == {
        "planId": plans[0].plan_id,
        "title": plans[0].title,
        "cliCommand": plans[0].cli_command,
        "risk": plans[0].risk,
    }


def test_request_approval_named_bus_receives_event(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    session.client("events").create_event_bus(Name="secagent-bus")
    _request(session, plans, event_bus="secagent-bus")
    assert [e["EventBusName"] for e in events] == ["secagent-bus"]


def test_request_approval_missing_report_bucket_raises_and_announces_nothing(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # Given no record can be stored, nobody could approve: the event must not go out
    with pytest.raises(ResourceNotFound):
        _request(session, plans, bucket="no-such-report-bucket")
    assert events == []


def test_approval_record_repr_hides_token(session: boto3.Session, plans: list[Plan]) -> None:
    record = _request(session, plans)
    assert TOKEN not in repr(record) and TOKEN not in str(record)


def test_plan_digest_binds_plans_and_configuration(session: boto3.Session, plans: list[Plan]) -> None:
    # Given the plans and the configuration they were computed from
    snapshot = discover_bucket(BUCKET, session)
    digest = plan_digest(plans, snapshot)
    # Then the digest is stable (order-insensitive input) and stored with the record and the event
    assert digest == plan_digest(list(reversed(plans)), snapshot) and len(digest) == 64
    record = _request(session, plans)
    assert record.plan_digest == digest
    # And a different plan set, or a changed configuration, has another digest
    assert plan_digest(plans[1:], snapshot) != digest
    session.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert plan_digest(plans, discover_bucket(BUCKET, session)) != digest
