"""get_audit: the execution's status mapped to the API's, with approval and report details."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secagent.api import ApiSettings, NotFound, get_audit
from tests.unit.api.conftest import (
    AUDIT_ID,
    DIGEST,
    EXECUTION_ARN,
    INPUT,
    NAMED_ONLY,
    PLANS,
    TOKEN,
    pending_record,
    put_json,
)
from tests.unit.api.fakes import FakeStepFunctions

EVENTS = Path(__file__).parents[2] / "events"
STARTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STOPPED = datetime(2025, 3, 1, 12, 5, tzinfo=UTC)


def history(name: str, up_to_type: str | None = None) -> list[dict[str, Any]]:
    """A recorded history, cut just after the first event of ``up_to_type`` (a running execution)."""
    events = json.loads((EVENTS / f"history_{name}.json").read_text())["events"]
    if up_to_type:
        events = events[: next(i for i, e in enumerate(events) if e["type"] == up_to_type) + 1]
    return events


def running(sfn: FakeStepFunctions, events: list[dict[str, Any]] | None = None) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), start=STARTED, history=events or [])


def test_get_audit_unknown_id_raises_not_found(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    with pytest.raises(NotFound) as caught:
        get_audit("6f1c2b0e-0000-4000-8000-000000000000", sfn, s3, settings)
    assert caught.value.status == 404
    assert caught.value.message == 'There is no audit with id "6f1c2b0e-0000-4000-8000-000000000000".'


@pytest.mark.parametrize("audit_id", ["../reports/x", "a b", "x" * 81, "arn:aws:states:x"])
def test_get_audit_malformed_id_raises_not_found_without_calling_aws(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, audit_id: str
) -> None:
    with pytest.raises(NotFound):
        get_audit(audit_id, sfn, s3, settings)
    assert sfn.calls == []


def test_get_audit_running_reports_current_step_from_history(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given an execution inside its second task
    events = history("happy")
    second_task = [i for i, e in enumerate(events) if e["type"] == "TaskStateEntered"][1]
    running(sfn, events[: second_task + 2])
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then it is RUNNING in that state, with the request it was started with
    current = events[second_task]["stateEnteredEventDetails"]["name"]
    timeline = body.pop("timeline")
    assert body.pop("elapsedSeconds") > 0
    assert body.pop("executions") == [
        {"name": AUDIT_ID, "status": "RUNNING", "startedAt": "2025-03-01T12:00:00Z", "stoppedAt": None}
    ]
    assert body == {
        "auditId": AUDIT_ID,
        "status": "RUNNING",
        "currentStep": current,
        "resource": INPUT["resource"],
        "mode": "remediate",
        "startedAt": "2025-03-01T12:00:00Z",
        "stoppedAt": None,
    }
    # And the timeline lists the whole plan: done, running, then pending
    by_name = {step["name"]: step["status"] for step in timeline}
    assert by_name[current] == "running"
    assert by_name["Write Report"] == "pending"
    assert next(iter(by_name)) == "Discover Bucket"


def test_get_audit_running_reads_every_history_page(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a history longer than one page (1000 events)
    events = history("happy", "TaskStateEntered")
    padding = [
        {"type": "TaskStarted", "id": 100 + i, "timestamp": "2025-03-01T12:00:01Z"} for i in range(1500)
    ]
    running(sfn, events + padding)
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then both pages were fetched and the open state still found
    assert len(sfn.called("GetExecutionHistory")) == 2
    assert body["currentStep"] == events[-1]["stateEnteredEventDetails"]["name"]


def test_get_audit_pending_approval_is_awaiting_approval_without_token(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a running execution whose approval record is PENDING
    running(sfn)
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then it awaits approval, lists the plans and the deadline, and never shows the token
    assert body["status"] == "AWAITING_APPROVAL"
    assert body["approvalExpiresAt"] == "2099-01-01T00:00:00Z"
    assert TOKEN not in json.dumps(body)
    # And each plan says whether a plain approval covers it, or why it must be named
    assert body["pendingPlans"] == [
        {**PLANS[0], "severity": None, "approvedByDefault": True, "namedOnlyReason": None},
        {
            **PLANS[1],
            "severity": None,
            "approvedByDefault": False,
            "namedOnlyReason": NAMED_ONLY["s3.enable_object_lock"],
        },
    ]
    # And what a plain approval approves, with the digest it quotes
    assert body["defaultRemediationIds"] == ["s3.put_bucket_public_access_block"]
    assert body["planDigest"] == DIGEST


def test_get_audit_running_never_asks_for_execution_data(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given Await Approval's task was scheduled with the token in its parameters
    scheduled = {
        "type": "TaskScheduled",
        "timestamp": "2025-03-01T12:00:02Z",
        "taskScheduledEventDetails": {
            "resource": "invoke.waitForTaskToken",
            "resourceType": "lambda",
            "parameters": json.dumps({"Payload": {"taskToken": TOKEN, "auditId": AUDIT_ID}}),
        },
    }
    running(sfn, [*history("happy", "TaskStateEntered"), scheduled])
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then the history was read without execution data, so the token never reached the API
    assert [c["includeExecutionData"] for c in sfn.called("GetExecutionHistory")] == [False]
    assert TOKEN not in json.dumps(body, default=str)


def test_get_audit_expired_pending_record_is_running(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a PENDING record past its deadline (the task timed out; the workflow is moving on)
    running(sfn)
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record(expiresAt="2025-03-01T13:00:00Z"))
    # When it is read later
    status = get_audit(AUDIT_ID, sfn, s3, settings, now=lambda: datetime(2025, 3, 1, 13, 0, 1, tzinfo=UTC))
    # Then it is not offered for approval
    assert status.status == "RUNNING" and status.pending_plans is None


def test_get_audit_decided_record_is_running(sfn: FakeStepFunctions, s3: Any, settings: ApiSettings) -> None:
    running(sfn)
    record = pending_record() | {"status": "DECIDED", "decision": "approve"}
    put_json(s3, f"approvals/{AUDIT_ID}.json", record)
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert body["status"] == "RUNNING" and "pendingPlans" not in body


def test_get_audit_succeeded_includes_outcome_and_report(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a finished execution and its report
    report = {"schemaVersion": "1", "auditId": AUDIT_ID, "outcome": "REMEDIATED", "findings": []}
    sfn.add_execution(
        EXECUTION_ARN, input=json.dumps(INPUT), status="SUCCEEDED", start=STARTED, stop=STOPPED, output="{}"
    )
    put_json(s3, f"reports/{AUDIT_ID}.json", report)
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then the outcome and the report come from the report, and no history was read
    assert body["status"] == "SUCCEEDED" and body["outcome"] == "REMEDIATED"
    assert body["report"] == report
    assert (body["stoppedAt"], body["currentStep"]) == ("2025-03-01T12:05:00Z", None)
    assert [step["status"] for step in body["timeline"]] and all(
        step["status"] != "pending" for step in body["timeline"]
    )


def test_get_audit_succeeded_without_report_takes_outcome_from_output(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    output = json.dumps(
        {"auditId": AUDIT_ID, "outcome": "COMPLIANT", "reportKey": f"reports/{AUDIT_ID}.json"}
    )
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="SUCCEEDED", stop=STOPPED, output=output)
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert body["outcome"] == "COMPLIANT" and "report" not in body


def test_get_audit_pending_plans_carry_the_worst_severity_they_fix(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given plans that fix a CRITICAL and a MEDIUM finding, and one whose finding now passes
    running(sfn)
    plans = [
        {**PLANS[0], "checkIds": ["s3_bucket_policy_public", "s3_bucket_tls_not_enforced"]},
        {**PLANS[1], "checkIds": ["s3_bucket_object_lock_disabled"]},
    ]
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record(plans=plans))
    findings = [
        {"checkId": "s3_bucket_policy_public", "severity": "CRITICAL", "status": "FAIL"},
        {"checkId": "s3_bucket_tls_not_enforced", "severity": "MEDIUM", "status": "FAIL"},
        {"checkId": "s3_bucket_object_lock_disabled", "severity": "LOW", "status": "PASS"},
    ]
    put_json(s3, f"checkpoints/{AUDIT_ID}/analysis.json", {"findings": findings})
    # When it is read, each plan shows the worst failing severity among the checks it fixes
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert [p["severity"] for p in body["pendingPlans"]] == ["CRITICAL", None]


@pytest.mark.parametrize("sfn_status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_get_audit_ended_badly_without_a_report_explains_the_error_without_its_cause(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, sfn_status: str
) -> None:
    trace = 'Traceback (most recent call last):\n  File "/var/task/lambdas/report.py", line 9'
    sfn.add_execution(
        EXECUTION_ARN,
        input=json.dumps(INPUT),
        status=sfn_status,
        stop=STOPPED,
        error="States.TaskFailed",
        cause=json.dumps({"errorType": "KeyError", "errorMessage": "'x'", "stackTrace": [trace]}),
    )
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert body["status"] == "FAILED" and "report" not in body and "cause" not in body
    failure = body["failure"]
    assert failure["error"] == "States.TaskFailed" and failure["resumable"] is True
    assert "failed unexpectedly" in failure["message"] and failure["correlationId"]
    assert "Traceback" not in json.dumps(body) and ".py" not in json.dumps(body)


def test_get_audit_failed_with_report_takes_its_failure(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(
        EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", stop=STOPPED, error="ResourceNotFound"
    )
    failure = {
        "step": "Discover Bucket",
        "error": "ResourceNotFound",
        "message": "Discover Bucket found nothing to audit: bucket customer-data does not exist. ...",
        "correlationId": "r-1",
        "resumable": False,
    }
    put_json(s3, f"reports/{AUDIT_ID}.json", {"auditId": AUDIT_ID, "outcome": "FAILED", "failure": failure})
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert (body["status"], body["outcome"], body["failure"]) == ("FAILED", "FAILED", failure)
    assert body["report"]["auditId"] == AUDIT_ID


def test_get_audit_ended_without_judging_the_bucket_says_why_from_its_report(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given an audit that ended (not failed) because its bucket was gone, and its report saying so
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="SUCCEEDED", stop=STOPPED, output="{}")
    failure = {
        "step": "Discover Bucket",
        "error": "ResourceNotFound",
        "message": "Discover Bucket found nothing to audit: bucket customer-data does not exist.",
        "correlationId": "r-1",
        "resumable": False,
    }
    report = {"auditId": AUDIT_ID, "outcome": "RESOURCE_NOT_FOUND", "failure": failure}
    put_json(s3, f"reports/{AUDIT_ID}.json", report)
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then it succeeded with that outcome, and says which step found what
    assert (body["status"], body["outcome"], body["failure"]) == ("SUCCEEDED", "RESOURCE_NOT_FOUND", failure)


def test_get_audit_eventbridge_input_without_mode_defaults_to_plan(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps({"resource": INPUT["resource"]}))
    assert get_audit(AUDIT_ID, sfn, s3, settings).mode == "plan"


TRACE = (
    '{"errorMessage": "An error occurred (AccessDenied) ... arn:aws:kms:us-east-1:123456789012:key/abcd", '
    '"errorType": "ClientError", '
    '"stackTrace": ["  File \\"/var/task/secagent/workflow/store.py\\", line 75"]}'
)


@pytest.mark.parametrize("complete", [True, False])
def test_a_schema_1_report_with_raw_causes_reaches_no_answer_with_them(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, complete: bool
) -> None:
    """A report written before schema 2 kept the raw cause (a stack trace): the API answers it
    through the model, which drops it; a report the model cannot read loses every `cause` key."""
    sfn.add_execution(
        EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", stop=STOPPED, error="ClientError"
    )
    old = json.loads((Path(__file__).parents[1] / "cli" / "report_plan.json").read_text()) if complete else {}
    old |= {
        "schemaVersion": "1",
        "auditId": AUDIT_ID,
        "outcome": "FAILED",
        "failure": {"step": "Discover Bucket", "error": "ClientError", "cause": TRACE},
        "steps": [
            {
                "name": "Discover Bucket",
                "status": "failed",
                "attempts": 1,
                "error": {"error": "ClientError", "cause": TRACE},
            }
        ],
    }
    put_json(s3, f"reports/{AUDIT_ID}.json", old)
    body = json.dumps(get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict())
    assert "/var/task" not in body and '"cause"' not in body and "stackTrace" not in body
    assert '"Discover Bucket"' in body
