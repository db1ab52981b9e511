"""GET /audits/{id} reads only what may have changed: a finished audit from its report (no history),
an audit's executions from the API's own record (no name is tried), and in a warm container only
the running execution's history."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secagent.api import ApiSettings, Conflict, Known, get_audit, resume_audit
from secagent.models.report import CheckRegistryVersion, Product, Report
from secagent.models.snapshot import ResourceRef
from secagent.workflow.report import REPORT_STEPS
from secagent.workflow.timeline import audit_progress, build_timeline
from tests.unit.api.conftest import (
    AUDIT_ID,
    EXECUTION_ARN,
    INPUT,
    get_json,
    pending_record,
    put_json,
    record_resumes,
)
from tests.unit.api.fakes import FakeStepFunctions, client_error

EVENTS = Path(__file__).parents[2] / "events"
STARTED = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STOPPED = datetime(2025, 3, 1, 12, 1, 44, tzinfo=UTC)


def history(name: str) -> list[dict[str, Any]]:
    return list(json.loads((EVENTS / f"history_{name}.json").read_text())["events"])


def failed_history() -> list[dict[str, Any]]:
    """history_caught (Apply Fixes failed, caught) to its end: the failure report, then Audit Failed."""
    events = history("caught")
    at = "2025-03-01T12:01:4{}Z"
    tail = [
        {"type": "TaskSucceeded", "timestamp": at.format("1.0"), "taskSucceededEventDetails": {}},
        {
            "type": "TaskStateExited",
            "timestamp": at.format("1.1"),
            "stateExitedEventDetails": {"name": "Write Failure Report"},
        },
        {"type": "ExecutionFailed", "timestamp": at.format("1.2"), "executionFailedEventDetails": {}},
    ]
    return events + tail


def written_report(events: list[dict[str, Any]], outcome: str, executions: list[str]) -> dict[str, Any]:
    """reports/{auditId}.json as the report step writes it while it runs: every Task step before it."""
    entered = next(
        i
        for i, e in enumerate(events)
        if (e.get("stateEnteredEventDetails") or {}).get("name") in REPORT_STEPS
    )
    steps = [
        s.model_dump(exclude={"type"})
        for s in build_timeline(events[: entered + 3])
        if not (s.name in REPORT_STEPS and s.status == "running")
    ]
    failure = {"step": "Apply Fixes", "error": "AccessDenied", "message": "Apply Fixes was denied."}
    report = Report(
        audit_id=AUDIT_ID,
        account="123456789012",
        region="us-east-1",
        partition="aws",
        resource=ResourceRef(id="customer-data"),
        resource_arn="arn:aws:s3:::customer-data",
        product=Product(name="secagent", version="1"),
        check_registry=CheckRegistryVersion(version="0123456789abcdef", checks=1),
        mode="remediate",
        started_at=STARTED,
        finished_at=STOPPED - timedelta(milliseconds=300),
        outcome=outcome,  # type: ignore[arg-type]
        summary=None,
        findings=[],
        remediations=[],
        steps=steps,  # type: ignore[arg-type]
        failure=failure if outcome == "FAILED" else None,  # type: ignore[arg-type]
        executions=executions,
    )
    return report.to_json_dict()


def ended(
    sfn: FakeStepFunctions, status: str, events: list[dict[str, Any]], arn: str = EXECUTION_ARN
) -> None:
    sfn.add_execution(
        arn, input=json.dumps(INPUT), status=status, start=STARTED, stop=STOPPED, history=events, output="{}"
    )


def by_name(timeline: list[Any]) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in timeline}


# -- a finished audit: from its report ---------------------------------------------------------


def test_a_succeeded_audit_is_read_from_its_report_and_no_history(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a remediated audit and the report its Write Report step wrote
    events = history("happy")
    ended(sfn, "SUCCEEDED", events)
    put_json(s3, f"reports/{AUDIT_ID}.json", written_report(events, "REMEDIATED", [AUDIT_ID]))
    # When it is read
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    # Then one DescribeExecution and the report were all it took: no history, no other execution
    assert [name for name, _ in sfn.calls] == ["DescribeExecution"]
    assert (body["status"], body["outcome"], body["report"]["outcome"]) == (
        "SUCCEEDED",
        "REMEDIATED",
        "REMEDIATED",
    )
    # And every step is what the history says, the report step included (it succeeded, after the
    # step before it, until the execution stopped)
    from_history = by_name([s.to_json_dict() for s in audit_progress([(AUDIT_ID, events)], running=False)])
    shown = by_name(body["timeline"])
    assert list(shown) == list(from_history)
    for name, step in from_history.items():
        if name != "Write Report":
            assert shown[name] == step, name
    assert shown["Write Report"] | {"started": None, "ended": None} == from_history["Write Report"] | {
        "started": None,
        "ended": None,
    }
    assert shown["Write Report"]["started"] == shown["Verify Fixes"]["ended"]
    assert shown["Write Report"]["ended"] == "2025-03-01T12:01:44Z"


def test_a_failed_audit_is_read_from_its_failure_report_and_no_history(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    events = failed_history()
    ended(sfn, "FAILED", events)
    put_json(s3, f"reports/{AUDIT_ID}.json", written_report(events, "FAILED", [AUDIT_ID]))
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert sfn.called("GetExecutionHistory") == []
    assert (body["status"], body["failure"]["step"]) == ("FAILED", "Apply Fixes")
    steps = {step["name"]: step["status"] for step in body["timeline"]}
    assert steps == {
        s["name"]: s["status"]
        for s in (x.to_json_dict() for x in audit_progress([(AUDIT_ID, events)], running=False))
    }
    assert steps["Apply Fixes"] == "failed" and steps["Write Failure Report"] == "succeeded"
    assert "Write Report" not in steps


@pytest.mark.parametrize(
    ("status", "outcome", "executions"),
    [
        pytest.param("FAILED", "REMEDIATED", [AUDIT_ID], id="its report step failed after writing it"),
        pytest.param("SUCCEEDED", "REMEDIATED", [], id="a report that does not name the execution"),
        pytest.param(
            "SUCCEEDED", "REMEDIATED", [AUDIT_ID, f"{AUDIT_ID}_r1"], id="another execution's report"
        ),
    ],
)
def test_where_the_report_cannot_tell_the_history_is_read(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, status: str, outcome: str, executions: list[str]
) -> None:
    events = history("happy")
    ended(sfn, status, events)
    put_json(s3, f"reports/{AUDIT_ID}.json", written_report(events, outcome, executions))
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert len(sfn.called("GetExecutionHistory")) == 1
    assert body["timeline"] == [s.to_json_dict() for s in audit_progress([(AUDIT_ID, events)], running=False)]


# -- an audit's executions: the API's record, never a probe --------------------------------------


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_an_audit_whose_execution_did_not_fail_has_no_other_and_nothing_is_tried(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, status: str
) -> None:
    # Given an execution named like a resume that the API did not start
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status=status, start=STARTED)
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=json.dumps(INPUT), start=STARTED)
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert [e["name"] for e in body["executions"]] == [AUDIT_ID]
    assert [c["executionArn"] for c in sfn.called("DescribeExecution")] == [EXECUTION_ARN]


def test_a_failed_audit_s_resumes_are_the_ones_the_api_recorded(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", start=STARTED, stop=STOPPED)
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=json.dumps(INPUT), start=STOPPED)
    # Not recorded: not the audit's
    assert [e.name for e in get_audit(AUDIT_ID, sfn, s3, settings).executions] == [AUDIT_ID]
    # Recorded by the API's resume: the audit runs again
    record_resumes(s3, AUDIT_ID, 1)
    status = get_audit(AUDIT_ID, sfn, s3, settings)
    assert [e.name for e in status.executions] == [AUDIT_ID, f"{AUDIT_ID}_r1"] and status.status == "RUNNING"


def test_a_record_not_as_the_api_writes_it_names_no_resume(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", start=STARTED, stop=STOPPED)
    sfn.add_execution(f"{EXECUTION_ARN}_r2", input=json.dumps(INPUT), start=STOPPED)
    put_json(s3, f"executions/{AUDIT_ID}.json", {"executions": [AUDIT_ID, f"{AUDIT_ID}_r2"]})
    assert [e.name for e in get_audit(AUDIT_ID, sfn, s3, settings).executions] == [AUDIT_ID]


def test_a_resume_is_recorded_before_it_starts_and_a_start_that_failed_is_taken_again(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", start=STARTED, stop=STOPPED)
    # Given a resume whose StartExecution failed after the API recorded it
    sfn.failures["StartExecution"] = client_error("StartExecution", "ThrottlingException", "slow down")
    start = sfn.start_execution

    def failing(**kwargs: Any) -> dict[str, Any]:
        if "StartExecution" in sfn.failures:
            raise sfn.failures.pop("StartExecution")
        return start(**kwargs)

    sfn.start_execution = failing  # type: ignore[method-assign]
    with pytest.raises(Exception, match="ThrottlingException"):
        resume_audit(AUDIT_ID, sfn, s3, settings)
    assert get_json(s3, f"executions/{AUDIT_ID}.json")["executions"] == [AUDIT_ID, f"{AUDIT_ID}_r1"]
    # Then the audit is still the failed execution alone, and the next resume takes that name
    assert [e.name for e in get_audit(AUDIT_ID, sfn, s3, settings).executions] == [AUDIT_ID]
    assert resume_audit(AUDIT_ID, sfn, s3, settings).execution == f"{AUDIT_ID}_r1"
    assert [e.name for e in get_audit(AUDIT_ID, sfn, s3, settings).executions] == [AUDIT_ID, f"{AUDIT_ID}_r1"]


def test_two_resumes_at_once_start_one_execution(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED", start=STARTED, stop=STOPPED)
    # Given the other resume started its execution between this one's lock and its start
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=json.dumps(INPUT), status="FAILED", start=STOPPED)
    start = sfn.start_execution

    def raced(**kwargs: Any) -> dict[str, Any]:
        sfn.executions[f"{EXECUTION_ARN}_r1"].status = "RUNNING"
        return start(**kwargs)

    sfn.start_execution = raced  # type: ignore[method-assign]
    with pytest.raises(Conflict, match="being resumed already"):
        resume_audit(AUDIT_ID, sfn, s3, settings)


# -- a warm container: what cannot change is not read again ------------------------------------------


def test_a_finished_audit_is_answered_from_memory(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    events = history("happy")
    ended(sfn, "SUCCEEDED", events)
    put_json(s3, f"reports/{AUDIT_ID}.json", written_report(events, "REMEDIATED", [AUDIT_ID]))
    known = Known()
    first = get_audit(AUDIT_ID, sfn, s3, settings, known=known).to_json_dict()
    calls = len(sfn.calls)
    s3.delete_object(Bucket=settings.report_bucket, Key=f"reports/{AUDIT_ID}.json")  # nothing is read again
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).to_json_dict() == first
    assert len(sfn.calls) == calls


def test_a_failed_audit_is_read_again_it_may_be_resumed(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    events = failed_history()
    ended(sfn, "FAILED", events)
    known = Known()
    get_audit(AUDIT_ID, sfn, s3, settings, known=known)
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=json.dumps(INPUT), start=STOPPED)
    record_resumes(s3, AUDIT_ID, 1)
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).status == "RUNNING"


def _waiting(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """history_happy while Await Approval waits: its task submitted (the record is written)."""
    entered = next(
        i
        for i, e in enumerate(events)
        if (e.get("stateEnteredEventDetails") or {}).get("name") == "Await Approval"
    )
    submitted = {
        "type": "TaskSubmitted",
        "timestamp": "2025-03-01T12:00:30Z",
        "taskSubmittedEventDetails": {},
    }
    return [*events[: entered + 3], submitted]


def test_a_running_audit_polled_again_reads_its_history_only(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given an audit waiting for approval, its record and its analysis, polled once
    sfn.add_execution(
        EXECUTION_ARN, input=json.dumps(INPUT), start=STARTED, history=_waiting(history("happy"))
    )
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    put_json(s3, f"checkpoints/{AUDIT_ID}/analysis.json", {"findings": []})
    known = Known()
    first = get_audit(AUDIT_ID, sfn, s3, settings, known=known).to_json_dict()
    assert first["status"] == "AWAITING_APPROVAL"
    # When it is polled again, its stored records gone (so a read would show)
    for key in (f"approvals/{AUDIT_ID}.json", f"checkpoints/{AUDIT_ID}/analysis.json"):
        s3.delete_object(Bucket=settings.report_bucket, Key=key)
    sfn.calls.clear()
    again = get_audit(AUDIT_ID, sfn, s3, settings, known=known).to_json_dict()
    # Then the answer is the same, from one read of the history
    assert [name for name, _ in sfn.calls] == ["GetExecutionHistory"]
    assert again | {"elapsedSeconds": None} == first | {"elapsedSeconds": None}


def test_once_the_history_moves_the_approval_record_is_read_again(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    events = _waiting(history("happy"))
    execution = sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), start=STARTED, history=events)
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    known = Known()
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).status == "AWAITING_APPROVAL"
    # When the task is answered (the API then marks the record DECIDED)
    execution.history = [*events, {"type": "TaskSucceeded", "timestamp": "2025-03-01T12:00:40Z"}]
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record(status="DECIDED"))
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).status == "RUNNING"


def test_a_record_read_before_await_approval_wrote_it_is_not_kept(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given Await Approval still running (not submitted): the record there is an earlier wait's
    events = _waiting(history("happy"))[:-1]
    execution = sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), start=STARTED, history=events)
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record(planDigest="cd" * 32))
    known = Known()
    get_audit(AUDIT_ID, sfn, s3, settings, known=known)
    # When the tool has written this wait's record
    execution.history = _waiting(history("happy"))
    put_json(s3, f"approvals/{AUDIT_ID}.json", pending_record())
    # Then that is the one shown
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).plan_digest == "ab" * 32


def test_a_running_audit_that_ended_since_is_read_again(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    events = history("happy")
    execution = sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), start=STARTED, history=events[:10])
    known = Known()
    assert get_audit(AUDIT_ID, sfn, s3, settings, known=known).status == "RUNNING"
    execution.history, execution.status, execution.stop = events, "SUCCEEDED", STOPPED
    put_json(s3, f"reports/{AUDIT_ID}.json", written_report(events, "REMEDIATED", [AUDIT_ID]))
    status = get_audit(AUDIT_ID, sfn, s3, settings, known=known)
    assert (status.status, status.outcome, status.stopped_at) == ("SUCCEEDED", "REMEDIATED", STOPPED)
