"""Per-state timeline of a Step Functions execution, from its history (pure functions).

``events`` is the ``events`` list of ``get_execution_history`` (all pages, oldest first).
States are tracked with a stack of open (entered, not exited) states so that task events
land in the innermost open state; Map/Parallel iterations are not told apart.
"""

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from secagent.models.report import ProgressStep, StepError, StepRecord
from secagent.workflow.failures import step_error

HistoryEvent = Mapping[str, Any]

_SCHEDULED = {"TaskScheduled", "LambdaFunctionScheduled"}
_SUCCEEDED = {"TaskSucceeded", "LambdaFunctionSucceeded"}
# A failed attempt of the task; the state may still retry or catch it.
_ATTEMPT_FAILED = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
    "LambdaFunctionScheduleFailed",
}
# The execution ended while a state was open: that state failed.
_EXECUTION_ENDED_BADLY = {"ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}
_EXECUTION_ENDED = _EXECUTION_ENDED_BADLY | {"ExecutionSucceeded"}


def _timestamp(value: Any) -> datetime | None:
    """boto3 gives datetimes; JSON fixtures and the CLI give ISO strings. Normalise to UTC."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if not isinstance(when, datetime):
        return None
    if when.tzinfo is None:  # Step Functions times are UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _details(event: HistoryEvent) -> Mapping[str, Any]:
    kind = event["type"]
    return event.get(kind[0].lower() + kind[1:] + "EventDetails") or {}


def _error(step: str, event: HistoryEvent) -> StepError:
    """The attempt's error as a user may read it: its name and a sentence, never its raw cause."""
    details = _details(event)
    return step_error(step, details.get("error"), details.get("cause"))


def _walk(events: Iterable[HistoryEvent]) -> tuple[list[StepRecord], list[StepRecord], bool]:
    """Return (all steps in entry order, steps still open at the end, execution ended?)."""
    steps: list[StepRecord] = []
    open_: list[StepRecord] = []
    last_attempt_failed: dict[int, bool] = {}  # id(step) -> did its latest attempt fail
    ended = False
    for event in events:
        kind: str = event.get("type", "")
        at = _timestamp(event.get("timestamp"))
        if kind.endswith("StateEntered"):
            name = (event.get("stateEnteredEventDetails") or {}).get("name", "")
            step = StepRecord(name=name, type=kind.removesuffix("StateEntered"), status="running", started=at)
            steps.append(step)
            open_.append(step)
        elif kind.endswith("StateExited"):
            name = (event.get("stateExitedEventDetails") or {}).get("name", "")
            idx = next((i for i in range(len(open_) - 1, -1, -1) if open_[i].name == name), None)
            if idx is None:
                continue  # history page started mid-state; nothing to close
            step = open_.pop(idx)
            # Exited after a failed attempt = the failure was caught by a Catch.
            step.status = "failed" if last_attempt_failed.get(id(step)) else "succeeded"
            step.ended = at
        elif kind in _EXECUTION_ENDED:
            ended = True
            if kind in _EXECUTION_ENDED_BADLY:
                for step in open_:
                    step.status = "failed"
                    step.ended = at
                if open_:
                    open_[-1].error = _error(open_[-1].name, event)
            open_.clear()
        elif open_:
            step = open_[-1]
            if kind in _SCHEDULED:
                step.attempts += 1
            elif kind in _SUCCEEDED:
                last_attempt_failed[id(step)] = False
            elif kind in _ATTEMPT_FAILED:
                last_attempt_failed[id(step)] = True
                step.error = _error(step.name, event)
                step.status = "retrying"  # until the state exits (caught) or the execution fails
    return steps, open_, ended


def build_timeline(events: Iterable[HistoryEvent], *, include_all: bool = False) -> list[StepRecord]:
    """One record per state entry, oldest first; only Task states unless ``include_all``."""
    steps, _, _ = _walk(events)
    return steps if include_all else [s for s in steps if s.type == "Task"]


def current_step(events: Iterable[HistoryEvent]) -> str | None:
    """Name of the innermost state entered and not yet exited; None once the execution ended."""
    _, open_, ended = _walk(events)
    return None if ended or not open_ else open_[-1].name


# The audit's plan, in order (statemachine/audit.asl.json): what a progress view lists.
PLAN = [
    "Discover Bucket",
    "Analyze Configuration",
    "Propose Fixes",
    "Await Approval",
    "Recheck Configuration",
    "Apply Fixes",
    "Verify Fixes",
    "Write Report",
]
_FAILURE_REPORT = "Write Failure Report"


def audit_progress(histories: list[tuple[str, list[HistoryEvent]]], *, running: bool) -> list[ProgressStep]:
    """Every step of the plan with its state, over the audit's executions (oldest first).

    A later execution (a resume) overrides what an earlier one recorded for a step, except a step
    that had succeeded before: the resume's tool returned its checkpoint (load-or-compute), so the
    earlier record stands, marked ``reused``. Steps never entered are ``pending`` while the audit
    runs and ``skipped`` once it has ended.
    """
    latest: dict[str, ProgressStep] = {}
    for execution, events in histories:
        for record in build_timeline(events, include_all=True):
            if record.type != "Task":
                continue
            earlier = latest.get(record.name)
            if (
                earlier is not None
                and earlier.execution != execution
                and earlier.status == record.status == "succeeded"
            ):
                earlier.reused = True
                continue
            latest[record.name] = ProgressStep(**record.model_dump(exclude={"type"}), execution=execution)
    names = PLAN + ([_FAILURE_REPORT] if _FAILURE_REPORT in latest else [])
    if _FAILURE_REPORT in latest:
        names.remove("Write Report")
    idle: Literal["pending", "skipped"] = "pending" if running else "skipped"
    return [latest.get(name) or ProgressStep(name=name, status=idle) for name in names]
