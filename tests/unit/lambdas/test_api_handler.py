"""API handler: proxy events in, JSON answers out; bad input is a 400 and nothing starts."""

import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas import api as api_handler
from lambdas.observability import logger
from secagent.api import ApiSettings, Deps
from tests.unit.api.conftest import (
    AUDIT_ID,
    EXECUTION_ARN,
    INPUT,
    REPORT_BUCKET,
    STATE_MACHINE_ARN,
    TOKEN,
    get_json,
    pending_record,
    put_json,
)
from tests.unit.api.fakes import FakeStepFunctions
from tests.unit.lambdas.fakes import FakeLambdaContext

EVENTS = Path(__file__).parents[2] / "events"
GOOD = {"resource": {"type": "AWS::S3::Bucket", "id": "customer-data"}}
ALICE = "arn:aws:iam::123456789012:user/alice"


def event(name: str, body: str | object | None = ..., **changes: Any) -> dict[str, Any]:
    loaded = json.loads((EVENTS / f"api_{name}.json").read_text())
    if body is not ...:
        loaded["body"] = body
    return loaded | changes


def call(evt: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = api_handler.handler(evt, FakeLambdaContext())
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes during the test."""
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture
def sfn() -> FakeStepFunctions:
    return FakeStepFunctions()


@pytest.fixture
def s3(sfn: FakeStepFunctions, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto S3 for the report bucket, the fake for Step Functions, wired in as the handler's deps."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORT_BUCKET)
        settings = ApiSettings(state_machine_arn=STATE_MACHINE_ARN, report_bucket=REPORT_BUCKET)
        monkeypatch.setattr(api_handler, "deps", lambda: Deps(settings, sfn, client))
        yield client


def awaiting(sfn: FakeStepFunctions, s3: Any) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    sfn.open_task(TOKEN, EXECUTION_ARN)
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())


# -- POST /audits --------------------------------------------------------------------------------


def test_post_audits_valid_body_starts_execution_and_answers_202(
    sfn: FakeStepFunctions, s3: Any, logs: io.StringIO
) -> None:
    # Given a signed request to audit a bucket
    # When it reaches the handler
    status, body = call(event("start_audit"))
    # Then 202 with the audit id and links
    assert status == 202
    audit_id = body["auditId"]
    assert body == {
        "auditId": audit_id,
        "status": "RUNNING",
        "links": {"self": f"/audits/{audit_id}", "approval": f"/audits/{audit_id}/approval"},
    }
    # And one execution named by it runs with the caller as requester
    [started] = sfn.called("StartExecution")
    assert (started["stateMachineArn"], started["name"]) == (STATE_MACHINE_ARN, audit_id)
    assert json.loads(started["input"]) == {
        "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
        "mode": "remediate",
        "approvalTimeoutSeconds": 900,
        "requestedBy": ALICE,
    }
    # And the log line carries the API Gateway request id as correlation id
    started_log = next(json.loads(line) for line in logs.getvalue().splitlines() if "audit started" in line)
    assert started_log["correlation_id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert started_log["auditId"] == audit_id


@pytest.mark.parametrize(
    ("identity", "requested_by"),
    [
        ({"caller": "AIDAEXAMPLE:session", "userArn": None}, "AIDAEXAMPLE:session"),
        ({}, "unknown (no IAM identity in request context)"),
        (None, "unknown (no IAM identity in request context)"),
    ],
)
def test_post_audits_without_user_arn_falls_back(
    sfn: FakeStepFunctions, s3: Any, identity: dict[str, Any] | None, requested_by: str
) -> None:
    # Given a request context like LocalStack's (no IAM identity) or with only the caller id
    evt = event("start_audit", json.dumps(GOOD))
    evt["requestContext"]["identity"] = identity
    # When it is handled
    status, _ = call(evt)
    # Then the audit starts, requested by the fallback
    assert status == 202
    assert json.loads(sfn.called("StartExecution")[0]["input"])["requestedBy"] == requested_by


def test_post_audits_base64_body_is_decoded(sfn: FakeStepFunctions, s3: Any) -> None:
    evt = event("start_audit", base64.b64encode(json.dumps(GOOD).encode()).decode(), isBase64Encoded=True)
    assert call(evt)[0] == 202


def _oversized() -> str:
    body = json.dumps({**GOOD, "pad": ""})
    return body.replace('"pad": ""', '"pad": "' + "x" * (16 * 1024 + 1 - len(body)) + '"')


def _with(**changes: Any) -> str:
    return json.dumps({**GOOD, **changes})


def _bucket(name: str) -> str:
    return json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": name}})


BAD_START_BODIES = [
    # (case id, body, field or None, text the message must contain)
    ("missing resource", json.dumps({"mode": "plan"}), "resource", "resource: is required"),
    ("resource not an object", json.dumps({"resource": "customer-data"}), "resource", "must be an object"),
    (
        "missing resource.id",
        json.dumps({"resource": {"type": "AWS::S3::Bucket"}}),
        "resource.id",
        "resource.id: is required",
    ),
    (
        "unknown resource type",
        json.dumps({"resource": {"type": "AWS::EC2::Instance", "id": "i-1"}}),
        "resource.type",
        "must be one of AWS::S3::Bucket",
    ),
    ("uppercase bucket", _bucket("My_Bucket"), "resource.id", '"My_Bucket" is not a valid S3 bucket name'),
    ("bucket too short", _bucket("ab"), "resource.id", "must be 3 to 63 characters long"),
    ("bucket too long", _bucket("a" * 64), "resource.id", "must be 3 to 63 characters long"),
    ("bucket like an IP", _bucket("10.0.0.1"), "resource.id", "must not be formatted as an IP address"),
    ("bucket xn-- prefix", _bucket("xn--data"), "resource.id", "must not start with any of xn--"),
    ("bucket double dots", _bucket("my..bucket"), "resource.id", "must not contain two adjacent periods"),
    ("bad mode", _with(mode="apply"), "mode", 'mode: must be one of plan, remediate, got a string "apply"'),
    (
        "timeout below min",
        _with(approvalTimeoutSeconds=59),
        "approvalTimeoutSeconds",
        "must be between 60 and 604800",
    ),
    (
        "timeout above max",
        _with(approvalTimeoutSeconds=604801),
        "approvalTimeoutSeconds",
        "must be between 60 and 604800",
    ),
    ("timeout as string", _with(approvalTimeoutSeconds="60"), "approvalTimeoutSeconds", "must be an integer"),
    ("timeout as float", _with(approvalTimeoutSeconds=1.5), "approvalTimeoutSeconds", "must be an integer"),
    ("unknown field", _with(mdoe="remediate"), "mdoe", 'unexpected field "mdoe"'),
    (
        "faults not accepted",
        _with(faults={"discover": {"kind": "error"}}),
        "faults",
        'unexpected field "faults"',
    ),
    ("malformed JSON", '{"resource": {"type": "AWS::S3::Bucket", "id": "x"', None, "body is not valid JSON"),
    ("empty body", "", None, "body is empty"),
    ("no body", None, None, "body is empty"),
    ("oversized body", _oversized(), None, "larger than the limit of 16384 bytes (16 KiB)"),
    ("body a JSON array", json.dumps([GOOD]), None, "must be a JSON object, not an array"),
]


@pytest.mark.parametrize(
    ("body", "field", "text"),
    [case[1:] for case in BAD_START_BODIES],
    ids=[case[0] for case in BAD_START_BODIES],
)
def test_post_audits_bad_input_is_400_and_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, body: str | None, field: str | None, text: str
) -> None:
    # Given a request whose body is wrong in one way
    # When it is handled
    status, answer = call(event("start_audit", body))
    # Then 400 names the problem (and the field when there is one)
    assert status == 400
    assert answer["error"] == "InvalidRequest"
    assert text in answer["message"]
    assert answer.get("field") == field
    assert set(answer) <= {"error", "message", "field"}
    # And no execution was started
    assert sfn.called("StartExecution") == []


# -- GET /audits/{auditId} ---------------------------------------------------------------------


def test_get_audit_awaiting_approval_answers_plans_without_token(
    sfn: FakeStepFunctions, s3: Any, logs: io.StringIO
) -> None:
    awaiting(sfn, s3)
    status, body = call(event("get_audit"))
    assert status == 200
    assert (body["auditId"], body["status"], body["mode"]) == (AUDIT_ID, "AWAITING_APPROVAL", "remediate")
    assert body["pendingPlans"][0]["planId"] == "p1"
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


def test_get_audit_unknown_is_404(sfn: FakeStepFunctions, s3: Any) -> None:
    status, body = call(event("get_audit"))
    assert (status, body) == (
        404,
        {"error": "NotFound", "message": f'There is no audit with id "{AUDIT_ID}".'},
    )


# -- POST /audits/{auditId}/approval ---------------------------------------------------------


def test_post_approval_pending_decides_once_and_never_shows_token(
    sfn: FakeStepFunctions, s3: Any, logs: io.StringIO
) -> None:
    # Given an audit awaiting approval
    awaiting(sfn, s3)
    # When alice approves
    status, body = call(event("approval"))
    # Then 200 with the decision, one SendTaskSuccess, and the record retired
    assert (status, body) == (200, {"auditId": AUDIT_ID, "decision": "approve"})
    [sent] = sfn.called("SendTaskSuccess")
    output = json.loads(sent["output"])
    assert (output["decision"], output["comment"], output["approver"]) == ("approve", "plans reviewed", ALICE)
    record = get_json(s3, f"approvals/{AUDIT_ID}.json")
    assert (record["status"], record["decision"], record["approver"]) == ("DECIDED", "approve", ALICE)
    assert "taskToken" not in record
    # And the token is in no answer and no log line
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


def test_post_approval_unknown_audit_is_404(sfn: FakeStepFunctions, s3: Any) -> None:
    status, body = call(event("approval"))
    assert (status, body["error"]) == (404, "NotFound")


def test_post_approval_nothing_pending_is_409(sfn: FakeStepFunctions, s3: Any) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    status, body = call(event("approval"))
    assert (status, body["error"]) == (409, "Conflict")
    assert sfn.called("SendTaskSuccess") == []


def test_post_approval_second_decision_is_409_and_token_stays_hidden(
    sfn: FakeStepFunctions, s3: Any, logs: io.StringIO
) -> None:
    # Given a first decision already sent, while the record still says PENDING (a race)
    awaiting(sfn, s3)
    assert call(event("approval"))[0] == 200
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    # When a second decision comes, Step Functions answers InvalidToken (quoting the token)
    status, body = call(event("approval", json.dumps({"decision": "reject"})))
    # Then 409; the task was resumed once; the token is in no answer or log
    assert (status, body["error"]) == (409, "Conflict")
    assert "InvalidToken" in body["message"]
    assert len(sfn.called("SendTaskSuccess")) == 2  # the second was refused by Step Functions
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (json.dumps({"decision": "maybe"}), "decision"),
        (json.dumps({"decision": "approve", "comment": "x" * 1001}), "comment"),
        (json.dumps({"decision": "approve", "approver": "root"}), "approver"),
        ("not json", None),
        (None, None),
    ],
)
def test_post_approval_bad_body_is_400_and_sends_nothing(
    sfn: FakeStepFunctions, s3: Any, body: str | None, field: str | None
) -> None:
    awaiting(sfn, s3)
    status, answer = call(event("approval", body))
    assert (status, answer["error"], answer.get("field")) == (400, "InvalidRequest", field)
    assert sfn.called("SendTaskSuccess") == []


# -- edges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/audits"), ("GET", "/reports"), ("PUT", "/audits/x")]
)
def test_unknown_route_is_404_in_api_error_shape(method: str, path: str) -> None:
    status, body = call(event("get_audit", httpMethod=method, path=path, resource=path))
    assert status == 404
    assert body == {"error": "NotFound", "message": f"There is no route {method} {path}."}


def test_unexpected_error_is_500_with_request_id_and_logged_without_token(
    sfn: FakeStepFunctions, s3: Any, logs: io.StringIO
) -> None:
    # Given Step Functions throttles SendTaskSuccess with a message that quotes the token
    awaiting(sfn, s3)
    sfn.fail("SendTaskSuccess", "ThrottlingException", f"Rate exceeded for '{TOKEN}'")
    # When alice approves
    status, body = call(event("approval"))
    # Then a bare 500 with the request id, no stack trace
    assert status == 500
    assert body == {
        "error": "InternalError",
        "message": "The request failed unexpectedly; quote the requestId when reporting it.",
        "requestId": "c0ffee00-0000-4000-8000-000000000003",
    }
    # And the log has the failure with its traceback, but not the token
    failure = next(json.loads(line) for line in logs.getvalue().splitlines() if "request failed" in line)
    assert "SendTaskSuccess failed: ThrottlingException" in failure["exception"]
    assert TOKEN not in logs.getvalue()


def test_deps_built_lazily_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the environment the stack sets, and moto behind boto3
    monkeypatch.setenv("STATE_MACHINE_ARN", STATE_MACHINE_ARN)
    monkeypatch.setenv("REPORT_BUCKET", REPORT_BUCKET)
    monkeypatch.setenv("MAX_APPROVAL_TIMEOUT_SECONDS", "7200")
    api_handler.deps.cache_clear()
    try:
        with mock_aws():
            # When a request arrives (the first one builds settings and clients)
            status, body = call(event("start_audit", _with(approvalTimeoutSeconds=7201)))
            first = api_handler.deps()
            # Then the settings came from the environment, and the clients are reused
            assert (status, body["field"]) == (400, "approvalTimeoutSeconds")
            assert "must be between 60 and 7200" in body["message"]
            assert first is api_handler.deps()
            assert first.sfn.meta.service_model.service_name == "stepfunctions"
            assert call(event("get_audit"))[0] == 404  # moto: no such execution
    finally:
        api_handler.deps.cache_clear()


def test_missing_environment_is_500_not_a_crash(monkeypatch: pytest.MonkeyPatch, logs: io.StringIO) -> None:
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)
    api_handler.deps.cache_clear()
    try:
        status, body = call(event("get_audit"))
    finally:
        api_handler.deps.cache_clear()
    assert (status, body["error"]) == (500, "InternalError")
    assert "state_machine_arn" in logs.getvalue()
