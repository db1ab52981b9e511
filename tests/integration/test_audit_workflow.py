"""The audit workflow on the deployed stack: API Gateway -> Step Functions -> tools -> S3 report."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts.buckets import create_public_bucket
from scripts.localstack_client import ENDPOINT, session
from secagent.aws import client_factory
from secagent.checks import analyze
from secagent.client import AuditApiClient
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings
from tests.deployed import stack_records, start_direct
from tests.integration.conftest import wait_for

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
POLICY_CHECK = "s3_bucket_policy_public"


@pytest.fixture()
def public_bucket(aws) -> str:
    """A bucket readable by anyone through its policy."""
    return create_public_bucket(aws("s3"), "audit-public")


def wait_status(api: AuditApiClient, audit_id: str, wanted: set[str], timeout: float = 120) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        response = api.get_audit(audit_id)
        assert response.status == 200, response.body
        return response.body if response.body["status"] in wanted else None

    body = wait_for(reached, timeout=timeout, interval=0.5)
    assert body, f"audit {audit_id} did not reach {wanted} in {timeout}s"
    return body


def finished_report(aws, outputs, audit_id: str) -> dict[str, Any]:
    obj = aws("s3").get_object(Bucket=outputs["ReportBucketName"], Key=f"reports/{audit_id}.json")
    report = json.loads(obj["Body"].read())
    jsonschema.validate(report, SCHEMA)
    return report


def policy_verdict(bucket: str) -> str:
    snapshot = discover_bucket(bucket, session(), clients=client_factory(session(), endpoint_url=ENDPOINT))
    findings = analyze(snapshot, AgentSettings()).findings
    return next(f.status for f in findings if f.check_id == POLICY_CHECK)


def history(aws, outputs, audit_id: str) -> list[dict[str, Any]]:
    arn = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{audit_id}"
    return aws("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"]


def attempts_of(events: list[dict[str, Any]], state: str) -> int:
    count, current = 0, None
    for event in events:
        if "stateEnteredEventDetails" in event:
            current = event["stateEnteredEventDetails"]["name"]
        elif event["type"] in ("LambdaFunctionScheduled", "TaskScheduled") and current == state:
            count += 1
    return count


def test_audit_remediate_approved_makes_public_bucket_private(api, approver, aws, outputs, public_bucket):
    # Given a bucket whose policy makes it public
    assert policy_verdict(public_bucket) == "FAIL"
    # When an audit in remediate mode is started and reaches the approval gate
    started = api.start_audit(public_bucket, mode="remediate")
    assert started.status == 202, started.body
    audit_id = started.body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # Then it shows the pending plans (never the task token)
    assert waiting["pendingPlans"]
    assert any(POLICY_CHECK in plan["checkIds"] for plan in waiting["pendingPlans"])
    assert "taskToken" not in json.dumps(waiting)
    # When a person approves
    assert len(waiting["planDigest"]) == 64
    decided = approver.decide(
        audit_id, "approve", comment="integration test", plan_digest=waiting["planDigest"]
    )
    assert decided.status == 200, decided.body
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then the fix is applied and verified: the bucket is no longer public
    assert done["status"] == "SUCCEEDED", done
    report = finished_report(aws, outputs, audit_id)
    # the approved fixes worked, and the report names what still fails (not approved, or no fix)
    assert report["outcome"] == "PARTIALLY_REMEDIATED"
    verification = report["verification"]
    assert verification["outcome"] == "PARTIALLY_REMEDIATED" and verification["stillFailing"]
    assert POLICY_CHECK not in report["verification"]["stillFailing"]
    assert policy_verdict(public_bucket) == "PASS"
    fixed = {c["checkId"]: c for c in report["verification"]["comparison"]}
    assert fixed[POLICY_CHECK]["before"] == "FAIL" and fixed[POLICY_CHECK]["after"] == "PASS"
    assert report["approval"]["decision"] == "approve"
    assert [s["name"] for s in report["steps"]][:3] == [
        "Discover Bucket",
        "Analyze Configuration",
        "Propose Fixes",
    ]


def test_audit_rejected_changes_nothing(api, aws, outputs, public_bucket):
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert api.decide(audit_id, "reject", comment="not now").status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "REJECTED"
    assert policy_verdict(public_bucket) == "FAIL"


def test_audit_approval_decided_twice_is_a_conflict_and_unknown_audit_is_404(api, approver, public_bucket):
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    digest = wait_status(api, audit_id, {"AWAITING_APPROVAL"})["planDigest"]
    assert api.decide(audit_id, "reject").status == 200
    second = approver.decide(audit_id, "approve", plan_digest=digest)
    assert second.status == 409, second.body
    assert second.body["message"]
    unknown = approver.decide(str(uuid.uuid4()), "approve", plan_digest=digest)
    assert unknown.status == 404, unknown.body
    assert api.get_audit(str(uuid.uuid4())).status == 404


def test_audit_plan_mode_reports_non_compliant_with_plans(api, aws, outputs, public_bucket):
    audit_id = api.start_audit(public_bucket, mode="plan").body["auditId"]
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    assert done["status"] == "SUCCEEDED"
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "NON_COMPLIANT"
    assert report["remediations"] and all(r["applied"] is None for r in report["remediations"])
    assert policy_verdict(public_bucket) == "FAIL"


def test_audit_approval_timeout_expires(aws, outputs, public_bucket):
    # The API bounds the timeout (>= 60 s); the state machine itself honours any value.
    audit_id = start_direct(
        aws,
        outputs,
        {
            "resource": {"type": "AWS::S3::Bucket", "id": public_bucket},
            "mode": "remediate",
            "approvalTimeoutSeconds": 3,
        },
    )
    assert wait_for(lambda: _report_exists(aws, outputs, audit_id), timeout=90)
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "APPROVAL_EXPIRED"
    assert policy_verdict(public_bucket) == "FAIL"


def _report_exists(aws, outputs, audit_id: str) -> bool:
    try:
        aws("s3").head_object(Bucket=outputs["ReportBucketName"], Key=f"reports/{audit_id}.json")
    except aws("s3").exceptions.ClientError:
        return False
    return True


def test_audit_compliant_bucket_reports_compliant_without_asking(api, aws, outputs):
    # Given a bucket configured as the checks want (private by default, plus the rest)
    s3 = aws("s3")
    name, log_bucket = f"audit-good-{uuid.uuid4().hex[:10]}", f"audit-logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=log_bucket)
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_logging(
        Bucket=name,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_bucket, "TargetPrefix": f"{name}/"}},
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=name,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "abort",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }
            ]
        },
    )
    tls_only = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [tls_only]}))
    # SSE-KMS (S3.17) that refuses SSE-C uploads, and events to EventBridge (S3.11)
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                    "BucketKeyEnabled": True,
                    "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]},
                }
            ]
        },
    )
    s3.put_bucket_notification_configuration(
        Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    # (and the account blocks public access: no audit turns that on by default, it is account-wide;
    # reset afterwards, since it neutralises every public bucket the other tests create)
    s3control = client_factory(session(), endpoint_url=ENDPOINT)("s3control")
    s3control.put_public_access_block(
        AccountId="000000000000",
        PublicAccessBlockConfiguration=dict.fromkeys(
            ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], True
        ),
    )
    # When it is audited in remediate mode
    try:
        audit_id = api.start_audit(name, mode="remediate").body["auditId"]
        done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    finally:
        s3control.delete_public_access_block(AccountId="000000000000")
    # Then it is compliant, nothing was proposed, nobody was asked
    assert done["status"] == "SUCCEEDED"
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "COMPLIANT", [f for f in report["findings"] if f["status"] != "PASS"]
    assert report["remediations"] == [] and report["approval"] is None
    assert "Await Approval" not in {step["name"] for step in report["steps"]}


def test_audit_of_a_missing_bucket_is_404_and_starts_nothing(api, aws, outputs):
    missing = f"audit-missing-{uuid.uuid4().hex[:10]}"
    answer = api.start_audit(missing)
    assert answer.status == 404, answer.body
    assert answer.body == {
        "error": "NotFound",
        "message": f'Bucket "{missing}" does not exist (S3 answered NoSuchBucket); no audit was started.',
        "field": "resource.id",
    }
    assert _audits_of_bucket(aws, outputs, missing) == []


def test_a_bucket_gone_before_discover_ends_resource_not_found_with_a_sentence_and_no_resume(
    api, aws, outputs
):
    """A bucket deleted right after its creation: the CreateBucket trigger starts the audit, Discover
    finds nothing. The audit ends RESOURCE_NOT_FOUND (not a FAILED that invites a resume); the user
    sees which step, a sentence and a correlation id: no trace, no path, no raw Lambda error."""
    gone = f"audit-gone-{uuid.uuid4().hex[:10]}"
    entry = {
        "Source": "aws.s3",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(_create_bucket_event(gone)),
    }
    assert aws("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    (audit_id,) = wait_for(lambda: _audits_of_bucket(aws, outputs, gone), timeout=30, interval=0.5)
    done = wait_status(api, audit_id, {"FAILED", "SUCCEEDED"})
    assert (done["status"], done["outcome"]) == ("SUCCEEDED", "RESOURCE_NOT_FOUND"), done
    failure = done["failure"]
    assert (failure["step"], failure["error"], failure["resumable"]) == (
        "Discover Bucket",
        "ResourceNotFound",
        False,
    )
    said = f"Discover Bucket found nothing to audit: bucket {gone} does not exist."
    assert failure["message"].startswith(said)
    assert failure["correlationId"]
    shown = json.dumps(done)
    for leak in ("Traceback", 'File \\"', ".py", "stackTrace", "errorMessage"):
        assert leak not in shown, leak
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "RESOURCE_NOT_FOUND" and report["failure"] == failure
    assert attempts_of(history(aws, outputs, audit_id), "Discover Bucket") == 1
    resumed = api.resume(audit_id)
    assert resumed.status == 409 and "only a FAILED audit can be resumed" in resumed.body["message"], (
        resumed.body
    )


def test_audit_transient_fault_is_retried_then_succeeds(aws, outputs, fault_injection, public_bucket):
    faults = {"discover": {"kind": "error", "error": "TransientError", "times": 1}}
    audit_id = start_direct(
        aws, outputs, {"resource": {"type": "AWS::S3::Bucket", "id": public_bucket}, "faults": faults}
    )
    assert wait_for(lambda: _report_exists(aws, outputs, audit_id), timeout=90)
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "NON_COMPLIANT"
    assert attempts_of(history(aws, outputs, audit_id), "Discover Bucket") == 2
    discover_step = next(s for s in report["steps"] if s["name"] == "Discover Bucket")
    assert discover_step["attempts"] == 2


def test_audit_analyze_past_its_timeout_is_caught_into_a_failure_report(
    aws, outputs, fault_injection, public_bucket
):
    faults = {"analyze": {"kind": "delay", "seconds": 75}}
    audit_id = start_direct(
        aws, outputs, {"resource": {"type": "AWS::S3::Bucket", "id": public_bucket}, "faults": faults}
    )
    assert wait_for(lambda: _report_exists(aws, outputs, audit_id), timeout=120, interval=1)
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "FAILED"
    assert report["failure"]["step"] == "Analyze Configuration"
    assert report["failure"]["error"] in {"States.Timeout", "Sandbox.Timedout"}


BAD_REQUESTS = [
    ("missing resource", {"mode": "plan"}, "resource"),
    ("resource not an object", {"resource": "my-bucket"}, "resource"),
    ("missing bucket id", {"resource": {"type": "AWS::S3::Bucket"}}, "resource.id"),
    ("unknown resource type", {"resource": {"type": "AWS::EC2::Instance", "id": "i-123"}}, "resource.type"),
    ("uppercase bucket", {"resource": {"type": "AWS::S3::Bucket", "id": "My_Bucket"}}, "resource.id"),
    ("bucket too short", {"resource": {"type": "AWS::S3::Bucket", "id": "ab"}}, "resource.id"),
    ("bucket like an IP", {"resource": {"type": "AWS::S3::Bucket", "id": "192.168.5.4"}}, "resource.id"),
    ("bad mode", {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}, "mode": "yolo"}, "mode"),
    (
        "timeout too small",
        {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}, "approvalTimeoutSeconds": 1},
        "approvalTimeoutSeconds",
    ),
    (
        "timeout too large",
        {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}, "approvalTimeoutSeconds": 10**9},
        "approvalTimeoutSeconds",
    ),
    (
        "timeout not an integer",
        {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}, "approvalTimeoutSeconds": "soon"},
        "approvalTimeoutSeconds",
    ),
    ("unknown field", {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}, "mdoe": "plan"}, "mdoe"),
    ("body is an array", [{"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"}}], None),
]
RAW_BAD_BODIES = [
    ("malformed JSON", b'{"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket"'),
    ("empty body", b""),
    ("oversized body", json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": "x" * 40_000}}).encode()),
]


def _executions(aws, outputs) -> int:
    pages = (
        aws("stepfunctions")
        .get_paginator("list_executions")
        .paginate(stateMachineArn=outputs["StateMachineArn"])
    )
    return sum(len(page["executions"]) for page in pages)


@pytest.mark.parametrize(("case", "body", "field"), BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
def test_api_bad_start_request_is_400_naming_the_problem_and_starts_nothing(
    api, aws, outputs, case, body, field
):
    before = _executions(aws, outputs)
    response = api.request("POST", "/audits", body)
    assert response.status == 400, response.body
    assert response.body["error"] == "InvalidRequest" and response.body["message"]
    if field:
        assert field in (response.body.get("field") or "") or field in response.body["message"]
    assert _executions(aws, outputs) == before


@pytest.mark.parametrize(("case", "raw"), RAW_BAD_BODIES, ids=[c[0] for c in RAW_BAD_BODIES])
def test_api_unparseable_start_request_is_400_and_starts_nothing(api, aws, outputs, case, raw):
    before = _executions(aws, outputs)
    response = api.request("POST", "/audits", raw_body=raw)
    assert response.status == 400, response.body
    assert isinstance(response.body, dict) and response.body["message"]
    assert _executions(aws, outputs) == before


def _create_bucket_event(bucket: str) -> dict[str, Any]:
    return {
        "eventSource": "s3.amazonaws.com",
        "eventName": "CreateBucket",
        "awsRegion": "us-east-1",
        "requestParameters": {"bucketName": bucket},
    }


def _audits_of_bucket(aws, outputs, bucket: str) -> list[str]:
    sfn = aws("stepfunctions")
    names = []
    for execution in sfn.list_executions(stateMachineArn=outputs["StateMachineArn"], maxResults=1000)[
        "executions"
    ]:
        described = sfn.describe_execution(executionArn=execution["executionArn"])
        if json.loads(described["input"]).get("resource", {}).get("id") == bucket:
            names.append(execution["name"])
    return names


def test_bucket_created_event_starts_an_audit_of_that_bucket(aws, outputs):
    # Given a new bucket and the CloudTrail event of its creation on the default bus
    bucket = f"audit-created-{uuid.uuid4().hex[:10]}"
    aws("s3").create_bucket(Bucket=bucket)
    entry = {
        "Source": "aws.s3",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(_create_bucket_event(bucket)),
    }
    put = aws("events").put_events(Entries=[entry])
    assert put["FailedEntryCount"] == 0
    event_id = put["Entries"][0]["EventId"]
    # Then one audit of that bucket runs, named after the event
    audits = wait_for(lambda: _audits_of_bucket(aws, outputs, bucket), timeout=30, interval=0.5)
    assert audits == [event_id]
    arn = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{event_id}"
    execution_input = json.loads(aws("stepfunctions").describe_execution(executionArn=arn)["input"])
    assert execution_input["mode"] == "remediate"
    request = stack_records(outputs).request(event_id)
    assert request is not None and request.requested_by == "eventbridge:CloudTrail"

    # A new bucket fails some checks (e.g. no access logging): it reaches the approval gate
    def reached_gate_or_report() -> bool:
        entered = {
            e["stateEnteredEventDetails"]["name"]
            for e in history(aws, outputs, event_id)
            if "stateEnteredEventDetails" in e
        }
        return "Await Approval" in entered or _report_exists(aws, outputs, event_id)

    assert wait_for(reached_gate_or_report, timeout=60, interval=0.5)


def test_same_create_bucket_event_delivered_twice_starts_one_audit(aws, outputs):
    # Given one CreateBucket event, as EventBridge delivers it to the trigger function
    bucket = f"audit-twice-{uuid.uuid4().hex[:10]}"
    aws("s3").create_bucket(Bucket=bucket)
    event = {
        "id": str(uuid.uuid4()),
        "source": "aws.s3",
        "detail-type": "AWS API Call via CloudTrail",
        "detail": _create_bucket_event(bucket),
    }
    lam = aws("lambda")
    # When it is delivered twice (at-least-once delivery)
    answers = [
        json.loads(
            lam.invoke(FunctionName=outputs["TriggerFunctionName"], Payload=json.dumps(event))[
                "Payload"
            ].read()
        )
        for _ in range(2)
    ]
    # Then exactly one audit started, named after the event
    assert [a["outcome"] for a in answers] == ["started", "duplicate"]
    assert _audits_of_bucket(aws, outputs, bucket) == [event["id"]]


def test_second_audit_of_a_bucket_with_a_running_one_is_409_unless_it_replays_its_key(api, public_bucket):
    key = str(uuid.uuid4())
    first = api.start_audit(public_bucket, mode="remediate", idempotency_key=key)
    assert first.status == 202
    audit_id = first.body["auditId"]
    # A retry of the same request (same Idempotency-Key) gets the same answer
    replay = api.start_audit(public_bucket, mode="remediate", idempotency_key=key)
    assert (replay.status, replay.body) == (202, first.body)
    # Another request for the same bucket is refused, naming the running audit
    second = api.start_audit(public_bucket, mode="plan")
    assert second.status == 409 and second.body["runningAuditId"] == audit_id
    assert audit_id in second.body["message"]
    # Once it has ended, the bucket can be audited again
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert api.decide(audit_id, "reject").status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    assert api.start_audit(public_bucket, mode="plan").status == 202


def test_audit_failed_in_remediate_resumes_from_that_step_without_redoing_the_rest(
    api, aws, outputs, fault_injection, public_bucket
):
    # Given an audit whose Remediate step fails on every attempt (an injected fault)
    faults = {"remediate": {"kind": "error", "error": "TransientError"}}
    audit_id = start_direct(
        aws, outputs, {"resource": {"type": "AWS::S3::Bucket", "id": public_bucket}, "faults": faults}
    )
    failed = wait_status(api, audit_id, {"FAILED", "SUCCEEDED"})
    assert failed["status"] == "FAILED"
    steps = {step["name"]: step for step in failed["timeline"]}
    assert steps["Propose Fixes"]["status"] == "failed" and steps["Propose Fixes"]["attempts"] == 4
    assert steps["Discover Bucket"]["status"] == "succeeded"
    assert steps["Apply Fixes"]["status"] == "skipped"
    assert finished_report(aws, outputs, audit_id)["failure"]["step"] == "Propose Fixes"
    s3 = aws("s3")
    checkpoints = {
        step: s3.head_object(Bucket=outputs["ReportBucketName"], Key=f"checkpoints/{audit_id}/{step}.json")[
            "ETag"
        ]
        for step in ("discovery", "analysis")
    }
    # When the fault is lifted and the audit is resumed (a resume never carries test faults)
    resumed = api.request("POST", f"/audits/{audit_id}/resume")
    assert resumed.status == 202, resumed.body
    assert resumed.body["resumeFrom"] == "Propose Fixes"
    assert resumed.body["reusedSteps"] == ["Discover Bucket", "Analyze Configuration"]
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then it finishes, and the resumed Discover and Analyze returned their checkpoints: nothing re-read
    assert done["status"] == "SUCCEEDED", done
    for step in ("discovery", "analysis"):
        key = f"checkpoints/{audit_id}/{step}.json"
        assert s3.head_object(Bucket=outputs["ReportBucketName"], Key=key)["ETag"] == checkpoints[step]
    resume_history = history(aws, outputs, resumed.body["execution"])
    assert attempts_of(resume_history, "Propose Fixes") == 1
    # And the report records both executions and the reused steps
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "NON_COMPLIANT"
    assert report["executions"] == [audit_id, f"{audit_id}_r1"]
    assert report["reusedSteps"] == ["Discover Bucket", "Analyze Configuration"]
    progress = {step["name"]: step for step in done["timeline"]}
    assert progress["Discover Bucket"]["reused"] and progress["Propose Fixes"]["status"] == "succeeded"
    # And a finished audit cannot be resumed again
    again = api.request("POST", f"/audits/{audit_id}/resume")
    assert again.status == 409 and "only a FAILED audit" in again.body["message"]


def test_audit_failed_in_apply_after_approval_resumes_with_that_approval(
    api, approver, aws, outputs, fault_injection, public_bucket
):
    # Given an approved audit whose Apply failed before changing anything (an injected fault)
    faults = {"apply": {"kind": "error", "error": "InjectedFault"}}
    audit_id = start_direct(
        aws,
        outputs,
        {"resource": {"type": "AWS::S3::Bucket", "id": public_bucket}, "mode": "remediate", "faults": faults},
    )
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    failed = wait_status(api, audit_id, {"FAILED", "SUCCEEDED"})
    assert (
        failed["status"] == "FAILED"
        and finished_report(aws, outputs, audit_id)["failure"]["step"] == "Apply Fixes"
    )
    assert policy_verdict(public_bucket) == "FAIL"
    # When it is resumed (the fault is lifted)
    resumed = api.resume(audit_id)
    assert resumed.status == 202, resumed.body
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then nobody is asked again: Await Approval woke the resume with the person's sealed decision,
    # and the approved fixes are applied and verified
    assert done["status"] == "SUCCEEDED" and done["outcome"] == "PARTIALLY_REMEDIATED", done
    report = finished_report(aws, outputs, audit_id)
    assert "secagent-approver" in report["approval"]["approver"]
    assert policy_verdict(public_bucket) == "PASS"


def test_api_progress_and_list_while_an_audit_waits(api, public_bucket):
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    steps = {step["name"]: step["status"] for step in waiting["timeline"]}
    assert steps["Discover Bucket"] == "succeeded" and steps["Await Approval"] == "running"
    assert steps["Apply Fixes"] == "pending"
    assert waiting["currentStep"] == "Await Approval" and waiting["elapsedSeconds"] > 0
    listed = api.request("GET", f"/audits?status=AWAITING_APPROVAL&resource={public_bucket}")
    assert listed.status == 200 and [a["auditId"] for a in listed.body["audits"]] == [audit_id]
    bad = api.request("GET", "/audits?limit=0")
    assert bad.status == 400 and bad.body["field"] == "limit"
    assert api.request("POST", "/audits/not-an-audit/resume").status == 404
    assert api.decide(audit_id, "reject").status == 200


def test_approval_must_quote_the_pending_plans_digest_and_may_approve_a_subset(
    api, approver, aws, outputs, public_bucket
):
    # Given an audit awaiting approval
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # When an approval quotes no digest, or another digest, Then it is refused and nothing is applied
    missing = approver.request("POST", f"/audits/{audit_id}/approval", {"decision": "approve"})
    assert missing.status == 400 and missing.body["field"] == "planDigest"
    stale = approver.decide(audit_id, "approve", plan_digest="0" * 64)
    assert stale.status == 409 and stale.body["field"] == "planDigest"
    assert wait_status(api, audit_id, {"AWAITING_APPROVAL"})["planDigest"] == waiting["planDigest"]
    # When only the bucket policy fix is chosen, it is re-planned alone: its own digest, shown first
    policy_fix = next(p for p in waiting["pendingPlans"] if POLICY_CHECK in p["checkIds"])
    chosen = policy_fix["remediationId"]
    preview = approver.request("GET", f"/audits/{audit_id}/approval?remediationIds={chosen}")
    assert preview.status == 200, preview.body
    assert preview.body["remediationIds"] == [chosen] and preview.body["planDigest"] != waiting["planDigest"]
    # (the default selection's digest does not approve a subset)
    assert (
        approver.decide(
            audit_id, "approve", plan_digest=waiting["planDigest"], remediation_ids=[chosen]
        ).status
        == 409
    )
    decided = approver.decide(
        audit_id, "approve", plan_digest=preview.body["planDigest"], remediation_ids=[chosen]
    )
    assert decided.status == 200, decided.body
    wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then only that plan was applied; the others are NOT_APPROVED, and the approver is in the report
    report = finished_report(aws, outputs, audit_id)
    results = {r["plan"]["remediationId"]: r["result"] for r in report["remediations"]}
    assert results.pop(chosen) == "APPLIED"
    assert results and set(results.values()) == {"NOT_APPROVED"}
    fixed = {c["checkId"]: c["after"] for c in report["verification"]["comparison"]}
    assert fixed["s3_bucket_versioning_disabled"] == "FAIL"  # its fix was not approved
    assert report["approval"]["remediationIds"] == [chosen]
    assert "secagent-approver" in report["approval"]["approver"]
    assert policy_verdict(public_bucket) == "PASS"


def test_configuration_changed_after_planning_ends_stale_plan_and_applies_nothing(
    api, approver, aws, outputs, public_bucket
):
    # Given an audit waiting for approval of its plans
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # When someone changes the bucket policy (which a plan edits) before the approval
    s3 = aws("s3")
    changed = json.loads(s3.get_bucket_policy(Bucket=public_bucket)["Policy"])
    changed["Statement"][0]["Sid"] = "ChangedByTheTeam"
    s3.put_bucket_policy(Bucket=public_bucket, Policy=json.dumps(changed))
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then nothing was applied, and the report shows what changed
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "STALE_PLAN"
    assert report["planCheck"]["stale"] is True
    assert [d["field"] for d in report["planCheck"]["differences"]] == ["policy"]
    assert json.loads(s3.get_bucket_policy(Bucket=public_bucket)["Policy"]) == changed
    assert all(r["applied"] is None for r in report["remediations"])
    assert "Apply Fixes" not in {step["name"] for step in report["steps"]}


def test_approval_request_reaches_the_sns_topic_without_token_or_link(api, aws, outputs, public_bucket):
    # Given a queue subscribed to the approval topic (as an e-mail address would be)
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName=f"approvals-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws("sns").subscribe(
        TopicArn=outputs["ApprovalTopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    # When an audit asks for approval
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})

    def notification() -> dict[str, Any] | None:
        for message in sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("auditId") == audit_id:
                return body
        return None

    # Then the notification names the audit, the resource, the plans and how to decide
    body = wait_for(notification, timeout=30)
    assert body, "no approval notification arrived"
    assert body["resource"]["id"] == public_bucket and body["planDigest"] == waiting["planDigest"]
    assert len(body["plans"]) == len(waiting["pendingPlans"])
    assert f"secagent approve {audit_id}" in body["howToDecide"]
    # And never the task token, nor a link that would act
    text = json.dumps(body)
    assert "taskToken" not in text, text[text.find("taskToken") - 200 :][:400]
    assert "execute-api" not in text and not re.search(r"https?://\S*/audits", text)  # no link to the API
    assert api.decide(audit_id, "reject").status == 200


def test_remediated_audit_rolls_back_through_the_approval_gate(api, approver, aws, outputs, public_bucket):
    # Given an audit that made a public bucket private
    audit_id = api.start_audit(public_bucket, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    assert finished_report(aws, outputs, audit_id)["outcome"] == "PARTIALLY_REMEDIATED"
    assert policy_verdict(public_bucket) == "PASS"
    # When a rollback is asked for, it is a new audit that waits for approval of the undo plans
    started = api.rollback(audit_id)
    assert started.status == 202, started.body
    rollback_id = started.body["auditId"]
    pending = wait_status(api, rollback_id, {"AWAITING_APPROVAL"})
    assert pending["mode"] == "rollback"
    assert all(plan["title"].startswith("Roll back: ") for plan in pending["pendingPlans"])
    assert approver.decide(rollback_id, "approve", plan_digest=pending["planDigest"]).status == 200
    wait_status(api, rollback_id, {"SUCCEEDED", "FAILED"})
    # Then the captured configuration is back, verified, and reported
    report = finished_report(aws, outputs, rollback_id)
    assert report["outcome"] == "ROLLED_BACK", report.get("verification")
    assert report["rollbackOf"] == audit_id and report["mode"] == "rollback"
    assert policy_verdict(public_bucket) == "FAIL"
    # And an audit that applied nothing has nothing to roll back
    planned = api.start_audit(public_bucket, mode="plan").body["auditId"]
    wait_status(api, planned, {"SUCCEEDED"})
    again = api.rollback(planned)
    assert again.status == 409 and "applied no fix" in again.body["message"]
