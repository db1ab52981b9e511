"""API handler: proxy events in, JSON answers out; bad input is a 400 and nothing starts."""

import base64
import dataclasses
import functools
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
from secagent.api import ApiSettings, Deps, Forbidden, RecordStore
from secagent.api.identity import Caller, caller_of
from secagent.aws import client_factory
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings
from secagent.models.settings import TargetScope
from secagent.workflow.store import KmsSealer
from tests.unit.api.conftest import (
    AUDIT_ID,
    EXECUTION_ARN,
    INPUT,
    REPORT_BUCKET,
    REQUESTER,
    REQUESTER_ARN,
    STATE_MACHINE_ARN,
    TOKEN,
    Seeded,
    get_json,
    make_public,
    put_json,
    seal_key,
    seed_audit,
)
from tests.unit.api.fakes import FakeStepFunctions
from tests.unit.lambdas.fakes import FakeLambdaContext

EVENTS = Path(__file__).parents[2] / "events"
GOOD = {"resource": {"type": "AWS::S3::Bucket", "id": "customer-data"}}
ALICE = "arn:aws:iam::123456789012:user/alice"  # the caller in the recorded events (an IAM user)
PROTECTED = "secagent-stack-reports"


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


class ContextIdentity:
    """A fake STS that confirms whoever the request context names (the real check, StsIdentity, is
    tested in tests/unit/api/test_identity_proof.py)."""

    def caller(self, request_context: Any, headers: Any, method: str, path: str, body: bytes) -> Caller:
        return caller_of(request_context)


@pytest.fixture
def deps(sfn: FakeStepFunctions, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deps]:
    """moto S3 and KMS (the report bucket, the seal key), the fake for Step Functions, wired in as
    the handler's deps."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORT_BUCKET)
        client.create_bucket(Bucket="customer-data")  # the audited bucket: POST /audits confirms it exists
        make = functools.cache(client_factory())
        records = RecordStore(REPORT_BUCKET, make, KmsSealer(seal_key(make), make), AgentSettings())
        settings = ApiSettings(
            state_machine_arn=STATE_MACHINE_ARN,
            report_bucket=REPORT_BUCKET,
            scope=TargetScope(protected_buckets=frozenset({PROTECTED})),
        )
        wired = Deps(settings, sfn, client, records, ContextIdentity())  # type: ignore[arg-type]
        monkeypatch.setattr(api_handler, "deps", lambda: wired)
        yield wired


@pytest.fixture
def s3(deps: Deps) -> Any:
    return deps.s3


def awaiting(sfn: FakeStepFunctions, deps: Deps) -> Seeded:
    """An audit of a public bucket, requested by REQUESTER (a role session), awaiting approval."""
    make_public(deps.records.clients)
    snapshot = discover_bucket("customer-data", clients=deps.records.clients)
    return seed_audit(sfn, deps.records, snapshot)


def with_identity(evt: dict[str, Any], arn: str | None) -> dict[str, Any]:
    evt["requestContext"]["identity"] = {**evt["requestContext"]["identity"], "userArn": arn}
    return evt


def approval(seeded: Seeded, **body: Any) -> str:
    return json.dumps({"decision": "approve", "planDigest": seeded.default_digest, **body})


# -- POST /audits --------------------------------------------------------------------------------


def test_post_audits_valid_body_seals_the_request_starts_execution_and_answers_202(
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
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
    # And one execution named by it runs with routing input only
    [started] = sfn.called("StartExecution")
    assert (started["stateMachineArn"], started["name"]) == (STATE_MACHINE_ARN, audit_id)
    assert json.loads(started["input"]) == {
        "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
        "mode": "remediate",
        "approvalTimeoutSeconds": 900,
    }
    # And the sealed request record names the caller API Gateway authenticated
    request = deps.records.request(audit_id)
    assert request is not None and (request.requested_by, request.requested_by_arn) == (ALICE, ALICE)
    # And the log line carries the API Gateway request id as correlation id
    started_log = next(json.loads(line) for line in logs.getvalue().splitlines() if "audit started" in line)
    assert started_log["correlation_id"] == "c0ffee00-0000-4000-8000-000000000001"
    assert started_log["auditId"] == audit_id


@pytest.mark.parametrize(
    ("identity", "requested_by", "requested_by_arn"),
    [
        pytest.param(
            {"userArn": REQUESTER_ARN}, REQUESTER.principal, REQUESTER_ARN, id="a role session is its role"
        ),
        pytest.param(
            {"caller": "AIDAEXAMPLE:session", "userArn": None},
            "unknown (no IAM identity in request context)",
            None,
            id="caller id only",
        ),
        pytest.param({}, "unknown (no IAM identity in request context)", None, id="empty identity"),
        pytest.param(None, "unknown (no IAM identity in request context)", None, id="no identity"),
    ],
)
def test_post_audits_records_the_callers_principal(
    sfn: FakeStepFunctions,
    deps: Deps,
    identity: dict[str, Any] | None,
    requested_by: str,
    requested_by_arn: str | None,
) -> None:
    # Given a request context with an assumed-role session, or without an IAM identity (LocalStack)
    evt = event("start_audit", json.dumps(GOOD))
    evt["requestContext"]["identity"] = identity
    # When it is handled
    status, body = call(evt)
    # Then the audit starts, and its request record names the principal (or says it is unknown)
    assert status == 202
    request = deps.records.request(body["auditId"])
    assert request is not None and (request.requested_by, request.requested_by_arn) == (
        requested_by,
        requested_by_arn,
    )


def test_post_audits_base64_body_is_decoded(sfn: FakeStepFunctions, s3: Any) -> None:
    evt = event("start_audit", base64.b64encode(json.dumps(GOOD).encode()).decode(), isBase64Encoded=True)
    assert call(evt)[0] == 202


@pytest.mark.parametrize("bucket", [PROTECTED, "cdk-hnb659fds-assets-123456789012-us-east-1"])
def test_post_audits_of_a_protected_bucket_is_403_and_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, bucket: str
) -> None:
    # Given a request to audit the stack's own bucket (or a CDK bootstrap bucket)
    # When it is handled
    status, body = call(
        event("start_audit", json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": bucket}}))
    )
    # Then 403 names the field; no execution, lock or request record
    assert (status, body["error"], body["field"]) == (403, "Forbidden", "resource.id")
    assert "is protected" in body["message"]
    assert sfn.called("StartExecution") == []
    assert s3.list_objects_v2(Bucket=REPORT_BUCKET).get("KeyCount") == 0


def test_post_audits_of_a_missing_bucket_is_404_and_starts_nothing(sfn: FakeStepFunctions, s3: Any) -> None:
    # Given a request to audit a bucket that does not exist
    body = json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": "no-such-bucket-here"}})
    # When it is handled
    status, answer = call(event("start_audit", body))
    # Then 404 names the bucket and the field, in a sentence; no execution, lock or record
    assert (status, answer["error"], answer["field"]) == (404, "NotFound", "resource.id")
    assert answer["message"] == (
        'Bucket "no-such-bucket-here" does not exist (S3 answered NoSuchBucket); no audit was started.'
    )
    assert sfn.called("StartExecution") == []
    assert s3.list_objects_v2(Bucket=REPORT_BUCKET).get("KeyCount") == 0


def test_post_audits_proves_the_caller_before_it_tells_anything_of_the_bucket(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence: an unproven caller (a direct invoker without a proof) learns nothing, not even
    whether a bucket exists: the proof is checked before the bucket is looked up."""

    class Unproven:
        def caller(self, *args: Any) -> Caller:
            raise Forbidden("prove who you are")

    monkeypatch.setattr(api_handler, "deps", lambda: dataclasses.replace(deps, identity=Unproven()))
    body = json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": "no-such-bucket-here"}})
    status, answer = call(event("start_audit", body))
    assert (status, answer["message"]) == (403, "prove who you are")


def test_post_audits_of_a_protected_bucket_by_an_unproven_caller_says_only_to_prove_it(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deployment's own buckets are not named to a caller who has not proven who they are."""

    class Unproven:
        def caller(self, *args: Any) -> Caller:
            raise Forbidden("prove who you are")

    monkeypatch.setattr(api_handler, "deps", lambda: dataclasses.replace(deps, identity=Unproven()))
    body = json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": PROTECTED}})
    assert call(event("start_audit", body)) == (403, {"error": "Forbidden", "message": "prove who you are"})


def test_post_audits_idempotency_key_replays_the_same_body_and_refuses_another(
    sfn: FakeStepFunctions, s3: Any
) -> None:
    # Given an audit started with an Idempotency-Key header
    def start(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        evt = event("start_audit", json.dumps(body))
        evt["headers"] = {**evt["headers"], "Idempotency-Key": "retry-1"}
        return call(evt)

    first = start(GOOD)
    # When the client retries the same request
    again = start(GOOD)
    # Then it gets the same answer, and one execution runs
    assert first[0] == again[0] == 202 and first[1] == again[1]
    assert len(sfn.called("StartExecution")) == 1
    # When it reuses the key for another request
    status, body = start({**GOOD, "mode": "remediate"})
    # Then 422 on the header, and nothing more starts
    assert (status, body["error"], body["field"]) == (422, "Unprocessable", "Idempotency-Key")
    assert len(sfn.called("StartExecution")) == 1


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
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
) -> None:
    seeded = awaiting(sfn, deps)
    status, body = call(event("get_audit"))
    assert status == 200
    assert (body["auditId"], body["status"], body["mode"]) == (AUDIT_ID, "AWAITING_APPROVAL", "remediate")
    assert [p["planId"] for p in body["pendingPlans"]] == [p.plan_id for p in seeded.plans]
    assert (body["planDigest"], body["defaultRemediationIds"]) == (
        seeded.default_digest,
        seeded.default_ids,
    )
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


def test_get_audit_of_a_finished_audit_is_read_once_per_container(sfn: FakeStepFunctions, s3: Any) -> None:
    # Given a finished audit
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="SUCCEEDED", output="{}")
    put_json(s3, f"reports/{AUDIT_ID}.json", {"auditId": AUDIT_ID, "outcome": "COMPLIANT"})
    # When it is read twice
    first = call(event("get_audit"))
    calls = len(sfn.calls)
    # Then the second answer is the first, and nothing was read for it: a success never changes
    assert call(event("get_audit")) == first and first[1]["status"] == "SUCCEEDED"
    assert len(sfn.calls) == calls


def test_get_audit_unknown_is_404(sfn: FakeStepFunctions, s3: Any) -> None:
    status, body = call(event("get_audit"))
    assert (status, body) == (
        404,
        {"error": "NotFound", "message": f'There is no audit with id "{AUDIT_ID}".'},
    )


# -- GET /audits/{auditId}/approval (preview) --------------------------------------------------


def preview_event(remediation_ids: str | None) -> dict[str, Any]:
    path = f"/audits/{AUDIT_ID}/approval"
    query = None if remediation_ids is None else {"remediationIds": remediation_ids}
    evt = event("get_audit", path=path, resource="/audits/{auditId}/approval", queryStringParameters=query)
    evt["multiValueQueryStringParameters"] = None if query is None else {k: [v] for k, v in query.items()}
    return evt


def test_preview_then_approve_a_subset_and_the_token_is_in_no_answer_or_log_line(
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
) -> None:
    # Given an audit awaiting approval
    seeded = awaiting(sfn, deps)
    answers = [call(event("get_audit"))[1]]
    # When a person asks what approving only the TLS fix would apply
    status, shown = call(preview_event("s3.add_deny_insecure_transport"))
    answers.append(shown)
    # Then 200 with that plan re-planned alone, and the digest to quote
    assert status == 200
    assert (shown["auditId"], shown["selection"], shown["remediationIds"]) == (
        AUDIT_ID,
        "named",
        ["s3.add_deny_insecure_transport"],
    )
    [plan] = shown["plans"]
    policy = json.loads(plan["apiCall"]["parameters"]["Policy"])
    assert "aws:PrincipalAccount" not in json.dumps(policy)  # the other policy edit is not in it
    assert shown["planDigest"] != seeded.default_digest and len(shown["planDigest"]) == 64
    assert {o["remediationId"] for o in shown["leftOut"]} == set(seeded.all_ids) - {plan["remediationId"]}
    # When another person approves that selection with that digest
    body = json.dumps(
        {
            "decision": "approve",
            "planDigest": shown["planDigest"],
            "remediationIds": ["s3.add_deny_insecure_transport"],
        }
    )
    status, decided = call(event("approval", body))
    answers.append(decided)
    # Then it is approved, and the waiting task is woken once with the token
    assert (status, decided["remediationIds"], decided["planDigest"]) == (
        200,
        ["s3.add_deny_insecure_transport"],
        shown["planDigest"],
    )
    assert [s["taskToken"] for s in sfn.called("SendTaskSuccess")] == [TOKEN]
    answers.append(call(event("get_audit"))[1])
    # And the token is in no answer and no log line
    assert all(TOKEN not in json.dumps(answer) for answer in answers)
    assert TOKEN not in logs.getvalue()


def test_preview_without_remediation_ids_is_the_default_selection(sfn: FakeStepFunctions, deps: Deps) -> None:
    seeded = awaiting(sfn, deps)
    status, shown = call(preview_event(None))
    assert (status, shown["selection"], shown["remediationIds"]) == (200, "default", seeded.default_ids)
    assert shown["planDigest"] == seeded.default_digest
    assert sfn.called("SendTaskSuccess") == []


def test_preview_of_an_unknown_remediation_is_400(sfn: FakeStepFunctions, deps: Deps) -> None:
    awaiting(sfn, deps)
    status, body = call(preview_event("s3.no_such_fix"))
    assert (status, body["error"], body["field"]) == (400, "InvalidRequest", "remediationIds")


# -- POST /audits/{auditId}/approval ---------------------------------------------------------


def test_post_approval_pending_decides_once_and_never_shows_token(
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
) -> None:
    # Given an audit that alice's Auditor role requested, awaiting approval
    seeded = awaiting(sfn, deps)
    # When alice, as the IAM user alice (another principal), approves the default selection
    status, body = call(event("approval", approval(seeded, comment="plans reviewed")))
    # Then 200 with the decision, one SendTaskSuccess, and the record DECIDED
    assert (status, body) == (
        200,
        {
            "auditId": AUDIT_ID,
            "decision": "approve",
            "remediationIds": seeded.default_ids,
            "planDigest": seeded.default_digest,
        },
    )
    [sent] = sfn.called("SendTaskSuccess")
    output = json.loads(sent["output"])
    assert (output["decision"], output["approver"]) == ("approve", ALICE)
    record = get_json(deps.s3, f"approvals/{AUDIT_ID}.json")
    assert (record["status"], record["decision"], record["approver"]) == ("DECIDED", "approve", ALICE)
    # And the token is in no answer and no log line
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


@pytest.mark.parametrize(
    "approver",
    [
        pytest.param("arn:aws:sts::123456789012:assumed-role/Auditor/another-session", id="requester's role"),
        pytest.param(None, id="no IAM identity"),
    ],
)
def test_post_approval_by_the_requester_or_nobody_is_403_and_sends_nothing(
    sfn: FakeStepFunctions, deps: Deps, approver: str | None
) -> None:
    seeded = awaiting(sfn, deps)
    status, body = call(with_identity(event("approval", approval(seeded)), approver))
    assert (status, body["error"]) == (403, "Forbidden")
    assert sfn.called("SendTaskSuccess") == []
    assert get_json(deps.s3, f"approvals/{AUDIT_ID}.json")["status"] == "PENDING"


def test_post_approval_unknown_audit_is_404(sfn: FakeStepFunctions, s3: Any) -> None:
    status, body = call(event("approval"))
    assert (status, body["error"]) == (404, "NotFound")


def test_post_approval_nothing_pending_is_409(sfn: FakeStepFunctions, s3: Any) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    status, body = call(event("approval"))
    assert (status, body["error"]) == (409, "Conflict")
    assert sfn.called("SendTaskSuccess") == []


def test_post_approval_without_a_request_record_is_409(sfn: FakeStepFunctions, deps: Deps) -> None:
    # Given an execution started directly, not by POST /audits
    make_public(deps.records.clients)
    snapshot = discover_bucket("customer-data", clients=deps.records.clients)
    seeded = seed_audit(sfn, deps.records, snapshot, sealed=False)
    status, body = call(event("approval", approval(seeded)))
    assert (status, body["error"]) == (409, "Conflict") and "no request record" in body["message"]
    assert sfn.called("SendTaskSuccess") == []


def test_post_approval_second_decision_is_409_and_token_stays_hidden(
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
) -> None:
    # Given a first decision already taken, while the approvals record still says PENDING (a race)
    seeded = awaiting(sfn, deps)
    assert call(event("approval", approval(seeded)))[0] == 200
    put_json(deps.s3, f"approvals/{AUDIT_ID}.json", seeded.record.to_json_dict())
    # When a second decision comes (from someone else again)
    bob = "arn:aws:iam::123456789012:user/bob"
    status, body = call(with_identity(event("approval", json.dumps({"decision": "reject"})), bob))
    # Then 409 from the write-once decision record; the task was resumed once; no token anywhere
    assert (status, body["error"]) == (409, "Conflict")
    assert "already decided" in body["message"]
    assert len(sfn.called("SendTaskSuccess")) == 1
    assert TOKEN not in json.dumps(body) and TOKEN not in logs.getvalue()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (json.dumps({"decision": "maybe"}), "decision"),
        (json.dumps({"decision": "approve", "comment": "x" * 1001}), "comment"),
        (json.dumps({"decision": "approve", "approver": "root"}), "approver"),
        (json.dumps({"decision": "approve", "planDigest": "not-a-digest"}), "planDigest"),
        (json.dumps({"decision": "approve", "remediationIds": []}), "remediationIds"),
        ("not json", None),
        (None, None),
    ],
)
def test_post_approval_bad_body_is_400_and_sends_nothing(
    sfn: FakeStepFunctions, deps: Deps, body: str | None, field: str | None
) -> None:
    awaiting(sfn, deps)
    status, answer = call(event("approval", body))
    assert (status, answer["error"], answer.get("field")) == (400, "InvalidRequest", field)
    assert sfn.called("SendTaskSuccess") == []


# -- POST /audits/{auditId}/resume -------------------------------------------------------------


def test_post_resume_starts_the_next_execution_with_the_request_only(sfn: FakeStepFunctions, s3: Any) -> None:
    sfn.add_execution(
        EXECUTION_ARN, input=json.dumps({**INPUT, "faults": {"apply": {"kind": "error"}}}), status="FAILED"
    )
    put_json(s3, f"checkpoints/{AUDIT_ID}/discovery.json", {"resource": INPUT["resource"]})
    evt = event(
        "get_audit", httpMethod="POST", path=f"/audits/{AUDIT_ID}/resume", resource="/audits/{auditId}/resume"
    )
    status, body = call(evt)
    assert (status, body["execution"], body["reusedSteps"]) == (202, f"{AUDIT_ID}_r1", ["Discover Bucket"])
    assert json.loads(sfn.called("StartExecution")[0]["input"]) == INPUT


# -- edges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("DELETE", "/audits"), ("GET", "/reports"), ("PUT", "/audits/x")]
)
def test_unknown_route_is_404_in_api_error_shape(method: str, path: str) -> None:
    status, body = call(event("get_audit", httpMethod=method, path=path, resource=path))
    assert status == 404
    assert body == {"error": "NotFound", "message": f"There is no route {method} {path}."}


def test_unexpected_error_is_500_with_request_id_and_logged_without_token(
    sfn: FakeStepFunctions, deps: Deps, logs: io.StringIO
) -> None:
    # Given Step Functions throttles SendTaskSuccess with a message that quotes the token
    seeded = awaiting(sfn, deps)
    sfn.fail("SendTaskSuccess", "ThrottlingException", f"Rate exceeded for '{TOKEN}'")
    # When alice approves
    status, body = call(event("approval", approval(seeded)))
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
    monkeypatch.setenv("SEAL_KEY_ID", "alias/secagent-seal")
    monkeypatch.setenv("PROTECTED_BUCKETS", f"{REPORT_BUCKET},{PROTECTED}")
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
            assert first.settings.scope.protected_buckets == {REPORT_BUCKET, PROTECTED}
            # And the records live in the report bucket, sealed with the deployment's key
            assert first.records.bucket == REPORT_BUCKET
            assert isinstance(first.records.sealer, KmsSealer)
            assert first.records.sealer._key_id == "alias/secagent-seal"
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
