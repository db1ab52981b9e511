"""Timeline from Step Functions execution history: handcrafted fixtures in tests/events/."""

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from secagent.workflow.timeline import build_timeline, current_step

EVENTS = Path(__file__).parents[2] / "events"


def history(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / f"history_{name}.json").read_text())["events"]


def test_build_timeline_happy_run_lists_task_states_succeeded_once() -> None:
    # Given a complete successful run
    events = history("happy")
    # When
    steps = build_timeline(events)
    # Then only Task states, in order, each succeeded on the first attempt
    assert [s.name for s in steps] == [
        "Discover Bucket",
        "Analyze Configuration",
        "Propose Fixes",
        "Await Approval",
        "Recheck Configuration",
        "Apply Fixes",
        "Verify Fixes",
        "Write Report",
    ]
    assert {(s.type, s.status, s.attempts, s.error) for s in steps} == {("Task", "succeeded", 1, None)}
    assert all(s.started is not None and s.ended is not None and s.started < s.ended for s in steps)
    assert steps[0].started == datetime(2025, 3, 1, 12, 0, 0, 300000, tzinfo=UTC)
    assert current_step(events) is None


def test_build_timeline_include_all_adds_pass_choice_succeed_states() -> None:
    steps = build_timeline(history("happy"), include_all=True)
    assert [(s.name, s.type) for s in steps if s.type != "Task"] == [
        ("Start Audit", "Pass"),
        ("Any Failing Checks?", "Choice"),
        ("Plan Only?", "Choice"),
        ("Approved?", "Choice"),
        ("Plan Still Current?", "Choice"),
        ("Record Verified Outcome", "Pass"),
        ("Audit Complete", "Succeed"),
    ]
    assert {s.attempts for s in steps if s.type != "Task"} == {0}


def test_build_timeline_retried_task_counts_attempts_and_keeps_last_error() -> None:
    # Given Discover failed twice with TransientError, then succeeded; Analyze is running
    events = history("retried")
    # When
    discover, analyze = build_timeline(events)
    # Then
    assert (discover.status, discover.attempts) == ("succeeded", 3)
    assert discover.error is not None and discover.error.error == "TransientError"
    # a sentence for a person, never the raw cause
    assert discover.error.message and "temporary AWS error" in discover.error.message
    assert (analyze.status, analyze.attempts, analyze.ended) == ("running", 1, None)
    assert current_step(events) == "Analyze Configuration"


def test_build_timeline_failed_attempt_pending_retry_is_retrying() -> None:
    # Given the history stops right after Discover's first failed attempt
    events = history("retried")
    cut = next(i for i, e in enumerate(events) if e["type"] == "TaskFailed") + 1
    # When
    (discover,) = build_timeline(events[:cut])
    # Then
    assert (discover.status, discover.attempts, discover.ended) == ("retrying", 1, None)
    assert current_step(events[:cut]) == "Discover Bucket"


def test_build_timeline_caught_failure_is_failed_and_execution_continues() -> None:
    # Given Apply Fixes failed with AccessDenied, caught by "Mark Failed", and the failure report is running
    events = history("caught")
    # When
    steps = {s.name: s for s in build_timeline(events)}
    # Then
    apply = steps["Apply Fixes"]
    assert (apply.status, apply.attempts) == ("failed", 1)
    assert apply.error is not None and apply.error.error == "AccessDenied"
    assert apply.error.message is not None and apply.error.message.startswith(
        "Apply Fixes was refused access"
    )
    assert "stackTrace" not in apply.error.model_dump_json()
    assert apply.ended is not None
    assert "Write Report" not in steps and steps["Write Failure Report"].status == "running"
    assert current_step(events) == "Write Failure Report"


def test_build_timeline_uncaught_failure_marks_open_state_failed_with_execution_error() -> None:
    # Given Verify fails without Catch: TaskFailed then ExecutionFailed, no StateExited
    events: list[dict[str, Any]] = [
        {"type": "TaskStateEntered", "timestamp": datetime(2025, 1, 1, 0, 0, 0),
         "stateEnteredEventDetails": {"name": "Verify Fixes"}},
        {"type": "LambdaFunctionScheduled", "timestamp": datetime(2025, 1, 1, 0, 0, 1)},
        {"type": "LambdaFunctionFailed", "timestamp": datetime(2025, 1, 1, 0, 0, 2),
         "lambdaFunctionFailedEventDetails": {"error": "TransientError", "cause": "boom"}},
        {"type": "ExecutionFailed", "timestamp": datetime(2025, 1, 1, 0, 0, 3),
         "executionFailedEventDetails": {"error": "States.TaskFailed", "cause": "boom2"}},
    ]  # fmt: skip
    # When
    (verify,) = build_timeline(events)
    # Then naive datetimes are read as UTC; the last error is the execution's
    assert (verify.status, verify.attempts) == ("failed", 1)
    assert verify.error is not None and verify.error.error == "States.TaskFailed"
    assert verify.ended == datetime(2025, 1, 1, 0, 0, 3, tzinfo=UTC)
    assert current_step(events) is None


def test_build_timeline_task_timed_out_then_caught_is_failed() -> None:
    events: list[dict[str, Any]] = [
        {"type": "TaskStateEntered", "timestamp": "2025-01-01T00:00:00Z",
         "stateEnteredEventDetails": {"name": "Await Approval"}},
        {"type": "TaskScheduled", "timestamp": "2025-01-01T00:00:01Z"},
        {"type": "TaskTimedOut", "timestamp": "2025-01-01T01:00:01Z",
         "taskTimedOutEventDetails": {"error": "States.Timeout"}},
        {"type": "TaskStateExited", "timestamp": "2025-01-01T01:00:01Z",
         "stateExitedEventDetails": {"name": "Await Approval"}},
    ]  # fmt: skip
    (approval,) = build_timeline(events)
    assert approval.status == "failed"
    assert approval.error is not None and (approval.error.error, approval.error.message) == (
        "States.Timeout",
        "Await Approval did not finish within its time limit. Resume the audit to try the step again.",
    )


def test_build_timeline_serialises_camel_case_iso_utc() -> None:
    step = build_timeline(history("happy"))[0].to_json_dict()
    assert step == {
        "name": "Discover Bucket",
        "type": "Task",
        "status": "succeeded",
        "attempts": 1,
        "started": "2025-03-01T12:00:00.300000Z",
        "ended": "2025-03-01T12:00:01.100000Z",
        "error": None,
    }


def test_build_timeline_empty_history_is_empty() -> None:
    assert build_timeline([]) == [] and current_step([]) is None


@pytest.mark.parametrize("name", ["happy", "caught", "retried"])
def test_history_fixtures_walk_the_state_machine(name: str) -> None:
    # Given the states a handcrafted history enters, in order
    states = json.loads((EVENTS.parents[1] / "statemachine" / "audit.asl.json").read_text())["States"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in history(name) if "stateEnteredEventDetails" in e
    ]
    # Then each is a state of the ASL, reached by one of its predecessor's transitions
    assert entered[0] == "Start Audit"
    for source, target in itertools.pairwise(entered):
        state = states[source]
        targets = {state.get("Next"), state.get("Default")}
        targets |= {c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])}
        assert target in targets, (source, target)
