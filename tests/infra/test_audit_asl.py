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
    # the window of the sealed request, as Discover returned it (never the execution input's)
    assert state["TimeoutSecondsPath"] == "$.discovery.request.approvalTimeoutSeconds"
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
    # The machine sets every outcome: each Mark state its own, Verify the ones it decides
    from secagent.workflow.verify import verified_outcome

    marked = {
        state["Result"]
        for state in STATES.values()
        if "Result" in state and state.get("ResultPath") == "$.outcome"
    }
    recorded = [s for s in STATES.values() if s.get("ResultPath") == "$.outcome" and "Result" not in s]
    assert [s["InputPath"] for s in recorded] == ["$.verification.outcome"]
    verified = {
        verified_outcome(fixed, failing, rollback=rollback)
        for fixed in (True, False)
        for failing in ([], ["some_check"])
        for rollback in (True, False)
    }
    assert verified == {"REMEDIATED", "PARTIALLY_REMEDIATED", "ROLLED_BACK", "NON_COMPLIANT"}
    assert marked | verified == set(Outcome)  # the report's outcomes are exactly these


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


# --- the approval gate's shape (docs/security.md): ids travel, decisions are read from storage ---

TOOLS = {name for name, state in TASKS.items() if name not in REPORT_WRITERS}


def paths(value: object) -> list[str]:
    """Every JSONPath a Parameters block reads (``"key.$": "$..."``), recursively."""
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k.endswith(".$") and isinstance(v, str)]
        return found + [p for k, v in value.items() if not k.endswith(".$") for p in paths(v)]
    if isinstance(value, list):
        return [p for item in value for p in paths(item)]
    return []


def test_the_machine_has_at_most_28_states_and_no_checkpoint_plumbing():
    assert len(STATES) <= 28
    plumbing = [
        name
        for name in STATES
        if name.endswith("Checkpointed?")
        or name.startswith("Reuse ")
        or (name.endswith(" Failed") and name not in {"Mark Failed", "Audit Failed"})
    ]
    assert plumbing == [], "tools are load-or-compute; every Catch goes to Mark Failed"
    assert "Load Rollback Plans" not in STATES and "Rollback?" not in STATES


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_every_tool_error_is_caught_into_mark_failed_with_the_error_in_state(name: str):
    catchers = TASKS[name]["Catch"]
    assert catchers[-1] == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Mark Failed"}
    assert all(c["ResultPath"] == "$.error" for c in catchers)
    assert TASKS[name]["TimeoutSeconds" if "TimeoutSeconds" in TASKS[name] else "TimeoutSecondsPath"]


@pytest.mark.parametrize("name", sorted(TOOLS - {"Await Approval"}))
def test_a_missing_resource_or_a_denied_access_ends_in_its_own_outcome_not_a_resumable_failure(name: str):
    catchers = {tuple(c["ErrorEquals"]): c["Next"] for c in TASKS[name]["Catch"]}
    assert catchers[("ResourceNotFound",)] == "Mark Resource Not Found"
    assert catchers[("AccessDenied",)] == "Mark Access Denied"
    for mark, outcome in (
        ("Mark Resource Not Found", "RESOURCE_NOT_FOUND"),
        ("Mark Access Denied", "ACCESS_DENIED"),
    ):
        assert (STATES[mark]["Result"], STATES[mark]["ResultPath"], STATES[mark]["Next"]) == (
            outcome,
            "$.outcome",
            "Write Report",  # the audit ends with its report, not failed: there is nothing to resume
        )
        assert Outcome(outcome).exit_code() == 3


@pytest.mark.parametrize("name", ["Recheck Configuration", "Apply Fixes"])
def test_an_invalid_approval_ends_the_audit_approval_invalid_before_anything_else_catches_it(name: str):
    first, *_ = TASKS[name]["Catch"]
    assert first == {
        "ErrorEquals": ["ApprovalInvalid"],
        "ResultPath": "$.error",
        "Next": "Mark Approval Invalid",
    }
    assert STATES["Mark Approval Invalid"]["Result"] == "APPROVAL_INVALID"
    assert STATES["Mark Approval Invalid"]["Next"] == "Write Report"
    # and it is not retried: a forged approval stays forged
    assert not any("ApprovalInvalid" in r["ErrorEquals"] for r in TASKS[name]["Retry"])


@pytest.mark.parametrize("name", sorted(TOOLS - {"Await Approval"}))
def test_every_tool_is_passed_ids_only_and_loads_everything_else_from_storage(name: str):
    # State by reference: no snapshot, finding, plan, approval or fault travels in a Task's input;
    # each tool reads what it works on from storage its owner alone writes
    ids = {"auditId.$": "$.auditId", "executionArn.$": "$$.Execution.Id"}
    if name == "Discover Bucket":  # it refuses an input that states anything but the sealed request
        ids["input.$"] = "$$.Execution.Input"
    assert TASKS[name]["Parameters"] == ids


@pytest.mark.parametrize("name", sorted(REPORT_WRITERS))
def test_write_report_gets_the_state_and_the_input_only_to_name_what_an_unrequested_execution_named(
    name: str,
):
    assert TASKS[name]["Parameters"] == {
        "executionArn.$": "$$.Execution.Id",
        "state.$": "$",
        "input.$": "$$.Execution.Input",
    }


def test_the_machine_routes_on_the_sealed_request_discover_returns_never_on_the_input():
    read = [choice["Variable"] for state in STATES.values() for choice in state.get("Choices", [])] + [
        state["TimeoutSecondsPath"] for state in STATES.values() if "TimeoutSecondsPath" in state
    ]
    assert [p for p in read if p.startswith("$.request")] == []
    assert {p for p in read if "request" in p} == {
        "$.discovery.request.mode",
        "$.discovery.request.approvalTimeoutSeconds",
    }
    assert "JsonMerge" not in json.dumps(STATES["Start Audit"])  # no defaults of its own


def test_await_approval_takes_the_audit_id_only():
    # Everything it acts on (request, snapshot, findings, plans) it loads from storage; the
    # execution is only what it confirms invoked it
    assert TASKS["Await Approval"]["Parameters"]["Payload"] == {
        "taskToken.$": "$$.Task.Token",
        "auditId.$": "$.auditId",
        "executionArn.$": "$$.Execution.Id",
    }


def _tool_event(state: dict) -> dict:
    """What the tool's Lambda receives: the Parameters, or for lambda:invoke the Payload."""
    parameters = state["Parameters"]
    return (
        parameters["Payload"]
        if state["Resource"].startswith("arn:aws:states:::lambda:invoke")
        else parameters
    )


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_tool_is_told_its_execution_by_the_context_object_never_by_the_input(name: str):
    # Each tool confirms the execution that scheduled it (secagent/workflow/invocation.py): only
    # $$.Execution.Id, which no execution input can set, may name it
    event = _tool_event(TASKS[name])
    assert event["executionArn.$"] == "$$.Execution.Id"
    assert "executionArn" not in event  # no literal either


def test_the_audit_id_is_the_execution_name_before_any_resume_suffix():
    assert STATES["Start Audit"]["Parameters"]["auditId.$"] == (
        "States.ArrayGetItem(States.StringSplit($$.Execution.Name, '_'), 0)"
    )


def test_a_rejection_and_an_invalid_approval_apply_nothing():
    # Approved? routes only "approve" on, to the check that proves it before Apply
    approved = STATES["Approved?"]
    assert approved["Choices"] == [
        {"Variable": "$.approval.decision", "StringEquals": "approve", "Next": "Recheck Configuration"}
    ]
    assert approved["Default"] == "Mark Rejected"
    assert STATES["Recheck Configuration"]["Next"] == "Plan Still Current?"
