"""Only the audit's own running execution, in the tool's own state, may invoke a tool
(secagent.workflow.invocation.confirm_invocation), over the API tests' Step Functions fake.

The executions' histories are tests/events/history_happy.json cut where the execution is: in a
Task state, its task scheduled and started (the tool running).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from secagent.models.errors import NotInvokedByWorkflow
from secagent.workflow.invocation import confirm_invocation
from tests.unit.api.fakes import FakeStepFunctions

AUDIT = "audit-20250301-0001"
MACHINE = "arn:aws:states:us-east-1:123456789012:execution:SecurityAgentAudit"
HAPPY = json.loads((Path(__file__).parents[2] / "events" / "history_happy.json").read_text())["events"]
TOOL_STATES = [
    e["stateEnteredEventDetails"]["name"] for e in HAPPY if e["type"] == "TaskStateEntered"
]  # Discover Bucket ... Write Report


def arn(name: str) -> str:
    return f"{MACHINE}:{name}"


def running_in(state: str, *, retries: int = 0) -> list[dict[str, Any]]:
    """The history of an execution whose tool in `state` runs now, after `retries` failed attempts."""
    entered = next(
        i for i, e in enumerate(HAPPY) if e.get("stateEnteredEventDetails", {}).get("name") == state
    )
    events = [dict(e) for e in HAPPY[: entered + 1]]
    attempt = ["TaskScheduled", "TaskStarted", "TaskFailed"] * retries + ["TaskScheduled", "TaskStarted"]
    for kind in attempt:
        events.append({"id": len(events) + 1, "previousEventId": len(events), "type": kind})
    return events


def in_a_choice_after(state: str) -> list[dict[str, Any]]:
    """The history once the tool in `state` returned and the execution went on (a Choice next)."""
    entered = next(
        i for i, e in enumerate(HAPPY) if e.get("stateEnteredEventDetails", {}).get("name") == state
    )
    exited = next(i for i, e in enumerate(HAPPY) if i > entered and e["type"].endswith("StateExited"))
    return [dict(e) for e in HAPPY[: exited + 2]]  # the next state entered, nothing more


@pytest.fixture
def sfn() -> FakeStepFunctions:
    return FakeStepFunctions()


def _confirm(sfn: FakeStepFunctions, name: str, *states: str, audit_id: str = AUDIT) -> None:
    def clients(service: str, region: str | None = None) -> Any:
        assert service == "stepfunctions"
        return sfn

    confirm_invocation(arn(name), audit_id, states, clients)


def _refused(sfn: FakeStepFunctions, name: str, *states: str, match: str, audit_id: str = AUDIT) -> None:
    with pytest.raises(NotInvokedByWorkflow, match=match):
        _confirm(sfn, name, *states, audit_id=audit_id)


# --- accepted -------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", TOOL_STATES)
def test_the_audit_s_running_execution_in_the_tool_s_state_is_accepted(
    sfn: FakeStepFunctions, state: str
) -> None:
    # Given the audit's execution runs the tool of `state`
    sfn.add_execution(arn(AUDIT), history=running_in(state))
    # When / Then it is accepted, and says when the execution started (Step Functions' own time)
    started = confirm_invocation(arn(AUDIT), AUDIT, (state,), lambda *_: sfn)
    assert started is not None and started == sfn.executions[arn(AUDIT)].start
    # and it read the newest events only, without their data (Await Approval's hold the token)
    (asked,) = sfn.called("GetExecutionHistory")
    assert asked["reverseOrder"] is True and asked["includeExecutionData"] is False


def test_one_of_the_tool_s_states_is_enough(sfn: FakeStepFunctions) -> None:
    # The Report tool runs in Write Report and in Write Failure Report
    sfn.add_execution(arn(AUDIT), history=running_in("Write Report"))
    _confirm(sfn, AUDIT, "Write Report", "Write Failure Report")


def test_the_last_retry_of_a_step_is_still_its_state(sfn: FakeStepFunctions) -> None:
    # Given Write Report failed 7 times (its retriers allow 3 + 4) and runs its last attempt:
    # the state was entered 23 events before the newest
    sfn.add_execution(arn(AUDIT), history=running_in("Write Report", retries=7))
    # When / Then
    _confirm(sfn, AUDIT, "Write Report", "Write Failure Report")


@pytest.mark.parametrize("ended", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_a_resume_after_the_audit_s_execution_failed_is_accepted(sfn: FakeStepFunctions, ended: str) -> None:
    # Given the audit's execution ended badly, and its resume runs Apply Fixes
    sfn.add_execution(arn(AUDIT), status=ended, history=running_in("Apply Fixes"))
    sfn.add_execution(arn(f"{AUDIT}_r1"), history=running_in("Apply Fixes"))
    # When / Then
    _confirm(sfn, f"{AUDIT}_r1", "Apply Fixes")


def test_a_second_resume_after_the_first_failed_is_accepted(sfn: FakeStepFunctions) -> None:
    sfn.add_execution(arn(AUDIT), status="FAILED")
    sfn.add_execution(arn(f"{AUDIT}_r1"), status="FAILED")
    sfn.add_execution(arn(f"{AUDIT}_r2"), history=running_in("Verify Fixes"))
    _confirm(sfn, f"{AUDIT}_r2", "Verify Fixes")


# --- refused --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
def test_an_execution_that_has_ended_is_refused(sfn: FakeStepFunctions, status: str) -> None:
    # Given the audit's execution ended (its last state entered was Apply Fixes)
    sfn.add_execution(arn(AUDIT), status=status, history=running_in("Apply Fixes"))
    # When / Then a later invocation naming it is refused
    _refused(sfn, AUDIT, "Apply Fixes", match="not running")


@pytest.mark.parametrize(
    ("history", "state"),
    [
        (running_in("Await Approval"), "Apply Fixes"),  # the execution waits for a person
        (running_in("Recheck Configuration"), "Apply Fixes"),
        (in_a_choice_after("Recheck Configuration"), "Recheck Configuration"),  # the step is over
        (in_a_choice_after("Analyze Configuration"), "Propose Fixes"),  # not yet in the step
        (HAPPY[:1], "Discover Bucket"),  # started, no state entered yet
    ],
    ids=["waiting-for-approval", "rechecking", "recheck-done", "before-the-step", "no-state-yet"],
)
def test_an_execution_in_another_state_is_refused(
    sfn: FakeStepFunctions, history: list[dict[str, Any]], state: str
) -> None:
    sfn.add_execution(arn(AUDIT), history=history)
    _refused(sfn, AUDIT, state, match=f"not in {state}")


@pytest.mark.parametrize(
    "name",
    [
        "audit-20250301-0002",  # another audit
        f"{AUDIT}0",  # another audit, named with this one's id as a prefix
        f"x{AUDIT}",
        f"{AUDIT}_x",
        f"{AUDIT}_r",
        f"{AUDIT}_r0",
        f"{AUDIT}_r01",
        f"{AUDIT}_r1x",
        f"{AUDIT}_r1_r1",
        f"{AUDIT}-r1",
    ],
)
def test_an_execution_not_named_for_the_audit_is_refused_without_reading_it(
    sfn: FakeStepFunctions, name: str
) -> None:
    # Given an execution of that name runs the tool's state (and the audit's own failed, for resumes)
    sfn.add_execution(arn(AUDIT), status="FAILED")
    sfn.add_execution(arn(name), history=running_in("Apply Fixes"))
    # When / Then
    _refused(sfn, name, "Apply Fixes", match="is not one of audit")
    assert sfn.calls == []


@pytest.mark.parametrize("original", ["SUCCEEDED", "RUNNING"])
def test_a_resume_of_an_execution_that_did_not_fail_is_refused(sfn: FakeStepFunctions, original: str) -> None:
    # Given the audit's execution succeeded (or still runs), and an execution named as its resume
    # runs Apply Fixes (someone started it with StartExecution, with an input of their own)
    sfn.add_execution(arn(AUDIT), status=original, history=running_in("Await Approval"))
    sfn.add_execution(arn(f"{AUDIT}_r1"), history=running_in("Apply Fixes"))
    # When / Then
    _refused(sfn, f"{AUDIT}_r1", "Apply Fixes", match="did not fail")


def test_a_resume_without_the_execution_it_resumes_is_refused(sfn: FakeStepFunctions) -> None:
    # Given the audit failed once, and an execution named as its second resume (no first resume)
    sfn.add_execution(arn(AUDIT), status="FAILED")
    sfn.add_execution(arn(f"{AUDIT}_r2"), history=running_in("Apply Fixes"))
    # When / Then
    _refused(sfn, f"{AUDIT}_r2", "Apply Fixes", match="ExecutionDoesNotExist")


def test_a_resume_whose_previous_resume_succeeded_is_refused(sfn: FakeStepFunctions) -> None:
    sfn.add_execution(arn(AUDIT), status="FAILED")
    sfn.add_execution(arn(f"{AUDIT}_r1"), status="SUCCEEDED")
    sfn.add_execution(arn(f"{AUDIT}_r2"), history=running_in("Apply Fixes"))
    _refused(sfn, f"{AUDIT}_r2", "Apply Fixes", match="whose execution .*_r1 did not fail")


@pytest.mark.parametrize("original", ["SUCCEEDED", "RUNNING"])
def test_attack_a_resume_after_a_failed_resume_of_a_finished_or_running_audit_is_refused(
    sfn: FakeStepFunctions, original: str
) -> None:
    # Given an audit that succeeded (or still runs); someone starts `_r1`, which every tool
    # refuses, so it fails; then `_r2`, whose previous execution did fail
    sfn.add_execution(arn(AUDIT), status=original, history=running_in("Await Approval"))
    sfn.add_execution(arn(f"{AUDIT}_r1"), status="FAILED")
    sfn.add_execution(arn(f"{AUDIT}_r2"), history=running_in("Write Report"))
    # When / Then `_r2` may neither rewrite the audit's report nor replay its approval
    _refused(sfn, f"{AUDIT}_r2", "Write Report", match=f"whose execution {AUDIT} did not fail")


def test_an_execution_that_does_not_exist_is_refused(sfn: FakeStepFunctions) -> None:
    _refused(sfn, AUDIT, "Apply Fixes", match="cannot be read \\(ExecutionDoesNotExist\\)")


@pytest.mark.parametrize("operation", ["DescribeExecution", "GetExecutionHistory"])
def test_an_execution_the_tool_may_not_read_is_refused(sfn: FakeStepFunctions, operation: str) -> None:
    # Given the execution runs the tool's state, but the tool's role may not read it (e.g. it is
    # another state machine's: the role reads only the audit state machine's executions)
    sfn.add_execution(arn(AUDIT), history=running_in("Apply Fixes"))
    sfn.fail(operation, "AccessDeniedException", "not authorized")
    # When / Then it is refused as not invoked by the workflow (not an AWS error to retry)
    _refused(sfn, AUDIT, "Apply Fixes", match="cannot be read \\(AccessDeniedException\\)")
