"""Test-only fault injection: inert by default, exact when enabled; the faults come from the
execution input, read from Step Functions, never from the state machine's Task parameters."""

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from lambdas import deps, faults
from secagent.models.errors import ResourceNotFound, TransientError

ARN = "arn:aws:states:us-east-1:123456789012:execution:SecurityAgentAudit:a"


class ExecutionOf:
    """Step Functions as the fault reader sees one execution: its input and history."""

    def __init__(self, given: dict[str, Any], failed_attempts: int = 0) -> None:
        self.given, self.failed_attempts, self.calls = given, failed_attempts, 0

    def describe_execution(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {"input": json.dumps(self.given), "status": "RUNNING"}

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        events = [{"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Discover Bucket"}}]
        events += [
            {"type": "LambdaFunctionScheduled"},
            {"type": "LambdaFunctionFailed"},
        ] * self.failed_attempts
        return {"events": [*events, {"type": "LambdaFunctionScheduled"}]}


def _use(monkeypatch: pytest.MonkeyPatch, sfn: ExecutionOf, *, enabled: bool = True) -> None:
    """The tools' clients answer with ``sfn``; fault injection deployed (or not)."""
    env = deps.ToolEnvironment.from_env({"REPORT_BUCKET": "reports-bucket"})
    built = deps.Deps(replace(env, fault_injection=enabled), lambda *_: sfn, None)  # type: ignore[arg-type]
    monkeypatch.setattr(faults, "deps", lambda: built)


FAULTS = {"faults": {"discover": {"kind": "error", "error": "TransientError", "times": 1}}}


def test_faults_disabled_by_default_read_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    sfn = ExecutionOf(FAULTS)
    _use(monkeypatch, sfn, enabled=False)
    faults.inject("discover", ARN)
    assert sfn.calls == 0


def test_faults_enabled_error_raised_on_first_attempts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, ExecutionOf(FAULTS))
    with pytest.raises(TransientError, match="attempt 0"):
        faults.inject("discover", ARN)
    _use(monkeypatch, ExecutionOf(FAULTS, failed_attempts=1))
    faults.inject("discover", ARN)  # the retry succeeds
    _use(monkeypatch, ExecutionOf(FAULTS))
    faults.inject("analyze", ARN)  # another tool is untouched


def test_faults_enabled_named_error_class_and_always_without_times(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(
        monkeypatch, ExecutionOf({"faults": {"discover": {"kind": "error", "error": "ResourceNotFound"}}}, 5)
    )
    with pytest.raises(ResourceNotFound):
        faults.inject("discover", ARN)


def test_faults_enabled_delay_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, ExecutionOf({"faults": {"verify": {"kind": "delay", "seconds": 0.2}}}))
    started = time.perf_counter()
    faults.inject("verify", ARN)
    assert time.perf_counter() - started >= 0.2


@pytest.mark.parametrize("given", [{}, {"faults": "x"}, {"faults": {"discover": 1}}, []])
def test_faults_enabled_without_a_fault_for_the_tool_do_nothing(
    monkeypatch: pytest.MonkeyPatch, given: Any
) -> None:
    _use(monkeypatch, ExecutionOf(given))
    faults.inject("discover", ARN)
