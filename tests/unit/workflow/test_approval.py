"""Await Approval: the token goes to tokens/ alone; the pending plans and the event never carry it."""

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from secagent.aws import client_factory
from secagent.discovery import discover_bucket
from secagent.models import ApprovalRecord, Plan, ResourceRef
from secagent.models.errors import StoreUnavailable
from secagent.models.records import Decision
from secagent.workflow.approval import approval_key, decision_output, plan_digest, request_approval
from secagent.workflow.gate import default_remediation_ids
from secagent.workflow.store import token_key
from tests.unit.workflow.conftest import APPROVER, AUDIT, BUCKET, DECIDED_AT, REPORTS, REQUESTER

TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token=="
EXECUTION = AUDIT  # the audit's first execution (a resume is <auditId>_r<n>)
NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def _record(session: boto3.Session, plans: list[Plan]) -> ApprovalRecord:
    snapshot = discover_bucket(BUCKET, session)
    default = default_remediation_ids(plans)
    return ApprovalRecord(
        audit_id=AUDIT,
        status="PENDING",
        resource=ResourceRef(id=BUCKET),
        plans=sorted(plans, key=lambda p: p.order),
        default_remediation_ids=default,
        plan_digest=plan_digest([p for p in plans if p.remediation_id in default], snapshot),
        requested_by=REQUESTER,
        requested_at=NOW,
        expires_at=NOW,
    )


def _request(session: boto3.Session, plans: list[Plan], **kwargs: Any) -> ApprovalRecord:
    args: dict[str, Any] = {
        "record": _record(session, plans),
        "task_token": TOKEN,
        "execution_name": EXECUTION,
        "timeout_seconds": 3600,
        "bucket": REPORTS,
        "clients": client_factory(session),
        "now": NOW,
    }
    return request_approval(**(args | kwargs))


def _object(session: boto3.Session, key: str) -> dict[str, Any]:
    return session.client("s3").get_object(Bucket=REPORTS, Key=key)


def test_request_approval_writes_the_token_apart_from_the_pending_plans(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # When
    _request(session, plans)
    # Then the token is in tokens/ (only the API's role may read it) and nowhere in approvals/
    token = _object(session, token_key(AUDIT, EXECUTION))
    assert json.loads(token["Body"].read()) == {"auditId": AUDIT, "execution": EXECUTION, "taskToken": TOKEN}
    obj = _object(session, approval_key(AUDIT))
    assert obj["ContentType"] == "application/json"
    body = obj["Body"].read().decode()
    assert TOKEN not in body
    record = json.loads(body)
    assert record["status"] == "PENDING" and record["resource"] == {"type": "AWS::S3::Bucket", "id": BUCKET}
    assert (record["requestedAt"], record["expiresAt"]) == ("2025-03-01T12:00:00Z", "2025-03-01T13:00:00Z")
    assert [p["order"] for p in record["plans"]] == sorted(p.order for p in plans)
    assert ApprovalRecord.model_validate(record).plans[0] == min(plans, key=lambda p: p.order)


def test_request_approval_puts_event_without_token(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # When
    record = _request(session, plans)
    # Then
    (entry,) = events
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "secagent",
        "Approval Requested",
        "default",
    )
    assert TOKEN not in json.dumps(entry)
    detail = json.loads(entry["Detail"])
    assert set(detail) == {
        "auditId",
        "resource",
        "plans",
        "planDigest",
        "defaultRemediationIds",
        "expiresAt",
        "howToDecide",
    }
    assert "approve" in detail["howToDecide"] and "http" not in detail["howToDecide"]  # no link that acts
    assert detail["expiresAt"] == "2025-03-01T13:00:00Z"
    assert (detail["planDigest"], detail["defaultRemediationIds"]) == (
        record.plan_digest,
        record.default_remediation_ids,
    )
    first = min(plans, key=lambda p: p.order)
    assert detail["plans"][0] == {
        "planId": first.plan_id,
        "title": first.title,
        "cliCommand": first.cli_command,
        "risk": first.risk,
    }


def test_request_approval_named_bus_receives_event(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    session.client("events").create_event_bus(Name="SecurityAgentEvents")
    _request(session, plans, event_bus="SecurityAgentEvents")
    assert [e["EventBusName"] for e in events] == ["SecurityAgentEvents"]


def test_request_approval_missing_report_bucket_raises_and_announces_nothing(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # Given no record can be stored, nobody could approve: the event must not go out
    with pytest.raises(StoreUnavailable):
        _request(session, plans, bucket="no-such-report-bucket")
    assert events == []


def test_request_approval_token_not_stored_shows_no_plans_and_announces_nothing(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # Given the token cannot be stored: an approval could never wake the execution
    def refuse_tokens(params: dict[str, Any], **_: Any) -> None:
        if params["Key"].startswith("tokens/"):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject")

    session.events.register("before-parameter-build.s3.PutObject", refuse_tokens)
    # When / Then
    with pytest.raises(StoreUnavailable):
        _request(session, plans)
    assert "Contents" not in session.client("s3").list_objects_v2(Bucket=REPORTS, Prefix="approvals/")
    assert events == []


def test_request_approval_twice_for_one_execution_keeps_the_first_token(
    session: boto3.Session, plans: list[Plan], events: list[dict[str, Any]]
) -> None:
    # Given an execution waits with its token stored
    _request(session, plans)
    # When a second request for the same execution comes with another token
    with pytest.raises(ClientError) as err:
        _request(session, plans, task_token="AQCEAAAAKgAAAAMAAAAAAAAAAanother-token==")
    # Then S3 refuses it (a write-once key), the first token stands and nothing more is announced
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    stored = json.loads(_object(session, token_key(AUDIT, EXECUTION))["Body"].read())
    assert stored["taskToken"] == TOKEN
    assert len(events) == 1


def test_request_approval_of_a_resume_stores_its_own_token(session: boto3.Session, plans: list[Plan]) -> None:
    # Given the first execution's token is stored, and the audit was resumed (a new execution waits)
    _request(session, plans)
    # When the resume requests approval with its own token
    _request(session, plans, task_token="AQCEAAAAKgAAAAMAAAAAAAAAAresumed==", execution_name=f"{AUDIT}_r1")
    # Then each execution has its own token
    resumed = json.loads(_object(session, token_key(AUDIT, f"{AUDIT}_r1"))["Body"].read())
    first = json.loads(_object(session, token_key(AUDIT, EXECUTION))["Body"].read())
    assert (first["taskToken"], resumed["taskToken"]) == (TOKEN, "AQCEAAAAKgAAAAMAAAAAAAAAAresumed==")


def test_approval_record_has_no_place_for_a_token(session: boto3.Session, plans: list[Plan]) -> None:
    record = _request(session, plans)
    assert "taskToken" not in record.to_json_dict() and TOKEN not in repr(record)
    assert "task_token" not in ApprovalRecord.model_fields


def test_decision_output_routes_the_execution_and_carries_nothing_else() -> None:
    decision = Decision(
        audit_id=AUDIT,
        resource=ResourceRef(id=BUCKET),
        mode="remediate",
        decision="approve",
        remediation_ids=["s3.put_default_encryption"],
        plan_digest="d" * 64,
        approver=APPROVER,
        requested_by=REQUESTER,
        comment="ok",
        decided_at=DECIDED_AT,
    )
    assert json.loads(decision_output(decision)) == {
        "decision": "approve",
        "approver": APPROVER,
        "planDigest": "d" * 64,
        "remediationIds": ["s3.put_default_encryption"],
    }


def test_plan_digest_binds_plans_and_configuration(session: boto3.Session, plans: list[Plan]) -> None:
    # Given the plans and the configuration they were computed from
    snapshot = discover_bucket(BUCKET, session)
    digest = plan_digest(plans, snapshot)
    # Then the digest is stable (order-insensitive input)
    assert digest == plan_digest(list(reversed(plans)), snapshot) and len(digest) == 64
    # And a different plan set, an edited plan, or a changed configuration has another digest
    assert plan_digest(plans[1:], snapshot) != digest
    edited = plans[0].model_copy(update={"title": "something else"})
    assert plan_digest([edited, *plans[1:]], snapshot) != digest
    session.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    assert plan_digest(plans, discover_bucket(BUCKET, session)) != digest
    # but not the time of the read
    assert plan_digest(plans, snapshot.model_copy(update={"read_at": NOW})) == digest
