"""Static checks of statemachine/audit.asl.json: the plan's shape and its error handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secagent.models import errors
from secagent.models.report import Outcome

ASL = json.loads((Path(__file__).resolve().parents[2] / "statemachine" / "audit.asl.json").read_text())
STATES = ASL["States"]
TASKS = {name: state for name, state in STATES.items() if state["Type"] == "Task"}
LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}
NON_RETRYABLE = {"ResourceNotFound", "AccessDenied", "InvalidInput", "States.ALL", "States.Timeout"}


def error_names():
    return {name for name in dir(errors) if isinstance(getattr(errors, name), type)}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_has_timeout_retry_and_catch(name: str):
    state = TASKS[name]
    assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state
    assert state.get("Retry") and state.get("Catch")
    for catcher in state["Catch"]:
        assert catcher["Next"] in STATES


# The report is the audit's record and writing it is idempotent: after the transient retrier, its
# states retry any error once more before giving up (a lost report would be a silent end).
REPORT_WRITERS = {"Write Report", "Write Failure Report"}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_retry_is_for_transient_errors_only_with_backoff_and_jitter(name: str):
    retriers = TASKS[name]["Retry"]
    if name in REPORT_WRITERS:
        *retriers, last = retriers
        assert last["ErrorEquals"] == ["States.ALL"] and last["JitterStrategy"] == "FULL"
    for retrier in retriers:
        assert not set(retrier["ErrorEquals"]) & NON_RETRYABLE
        assert set(retrier["ErrorEquals"]) <= LAMBDA_ERRORS | {"TransientError"}
        assert (
            retrier["BackoffRate"] > 1 and retrier["MaxDelaySeconds"] and retrier["JitterStrategy"] == "FULL"
        )


def test_every_error_name_is_a_states_lambda_or_project_error():
    names = {
        error
        for state in TASKS.values()
        for handler in state.get("Retry", []) + state.get("Catch", [])
        for error in handler["ErrorEquals"]
    }
    assert names
    for name in names:
        assert name.startswith("States.") or name in LAMBDA_ERRORS or name in error_names(), name


def test_analyze_times_out_after_60_seconds():
    assert TASKS["Analyze Configuration"]["TimeoutSeconds"] == 60


def test_approval_waits_for_task_token_with_per_audit_timeout_and_expiry_path():
    state = TASKS["Await Approval"]
    assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert state["TimeoutSecondsPath"] == "$.request.approvalTimeoutSeconds"
    assert state["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    timeout_catch = next(c for c in state["Catch"] if c["ErrorEquals"] == ["States.Timeout"])
    assert STATES[timeout_catch["Next"]]["Result"] == "APPROVAL_EXPIRED"


def test_every_state_is_reachable_and_every_next_exists():
    reachable, frontier = set(), [ASL["StartAt"]]
    while frontier:
        name = frontier.pop()
        if name in reachable:
            continue
        reachable.add(name)
        state = STATES[name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [choice["Next"] for choice in state.get("Choices", [])]
        targets += [catcher["Next"] for catcher in state.get("Catch", [])]
        frontier += [t for t in targets if t]
    assert reachable == set(STATES)


def test_failures_end_in_a_fail_state_after_a_failure_report():
    fail_states = [name for name, state in STATES.items() if state["Type"] == "Fail"]
    assert fail_states == ["Audit Failed"]
    assert STATES["Mark Failed"]["Next"] == "Write Failure Report"
    assert STATES["Audit Failed"]["ErrorPath"] and STATES["Audit Failed"]["CausePath"]


def test_outcomes_cover_the_report_schema():
    outcomes = {state["Result"] for state in STATES.values() if state.get("ResultPath") == "$.outcome"}
    assert outcomes == {
        "COMPLIANT",
        "NON_COMPLIANT",
        "REMEDIATED",
        "ROLLED_BACK",
        "REJECTED",
        "APPROVAL_EXPIRED",
        "STALE_PLAN",
        "FAILED",
    }
    assert outcomes == set(Outcome.__args__)  # the report's outcomes are exactly these


def test_apply_is_reached_only_through_the_stale_plan_check():
    into_apply = [
        name
        for name, state in STATES.items()
        for target in [
            state.get("Next"),
            state.get("Default"),
            *[c["Next"] for c in state.get("Choices", [])],
        ]
        if target == "Apply Fixes"
    ]
    assert into_apply == ["Plan Still Current?"]
    assert STATES["Plan Still Current?"]["Choices"][0]["Next"] == "Mark Stale Plan"
