"""Where an audit is (`GET /audits/{auditId}`): its executions, its steps, its pending plans, its report.

The audit's executions are found without trying names (secagent.api.executions). A running audit
is read from its executions' histories, and from the pending approval while Await Approval may be
waiting. A finished audit is read from its report (`reports/{auditId}.json`, written by the
workflow's report role), which holds every step but its own: no history is read. Where the report
cannot tell (none, a report of another schema, a resumed audit whose reused steps ran in an earlier
execution, or a report step that failed after writing it), the histories are.

What cannot change any more is kept (`Known`, one per Lambda environment): a poll reads only what
may have changed since the last one.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from secagent.api.aws import read_json
from secagent.api.executions import ENDED_BADLY, audit_executions
from secagent.api.models import AuditStatus, ExecutionSummary
from secagent.api.settings import ApiSettings
from secagent.aws import execution_history
from secagent.models.findings import Severity
from secagent.models.outcome import Outcome
from secagent.models.report import Failure, ProgressStep, Report
from secagent.workflow.checkpoints import checkpoint_key
from secagent.workflow.failures import explain
from secagent.workflow.report import REPORT_STEPS
from secagent.workflow.timeline import PLAN, HistoryEvent, audit_progress, current_step

AWAIT_APPROVAL = "Await Approval"
WRITE_REPORT, WRITE_FAILURE_REPORT = REPORT_STEPS


def _now() -> datetime:
    return datetime.now(UTC)


def pending_approval(record: dict[str, Any] | None, now: datetime) -> bool:
    """A PENDING record whose deadline has passed is not awaiting anyone: the task timed out."""
    if not record or record.get("status") != "PENDING":
        return False
    expires = parse_time(record.get("expiresAt"))
    return expires is None or expires > now


class _Lru[K, V]:
    """A bounded map, least recently used out first; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)


@dataclass(frozen=True)
class _Running:
    """A running audit's executions as described (the last one runs; the ones before it failed and
    never change), the histories of those before it, and its latest execution's history as read."""

    executions: list[dict[str, Any]]
    ended: list[tuple[str, list[HistoryEvent]]]


class Known:
    """What `GET /audits/{id}` learned that cannot change any more, kept for the container's life
    (for the last `size` audits asked about), so a poll reads only what may have changed:

    - a SUCCEEDED audit's whole answer: nothing follows a success (a resume follows only a
      failure), and its report is final;
    - a running audit's executions as described (its input and start never change) and the
      histories of the failed ones before it: a poll then reads the running execution's history
      alone, which says whether it still runs (else everything is read again);
    - a pending approval record, for as long as the history stays where it was read: Await
      Approval writes it before its invocation returns (TaskSubmitted), and any step of the wait
      (decided, timed out, retried) adds an event;
    - each failing check's worst severity, from Analyze's checkpoint: written once per audit (a
      resume returns it unchanged).
    """

    def __init__(self, size: int = 256) -> None:
        self.finished: _Lru[str, AuditStatus] = _Lru(max(1, size // 4))  # reports can be large
        self.running: _Lru[str, _Running] = _Lru(size)
        self.approvals: _Lru[str, tuple[tuple[str, int], dict[str, Any]]] = _Lru(size)
        self.severities: _Lru[str, dict[str, Severity]] = _Lru(size)

    def severity_of(self, s3: Any, settings: ApiSettings, audit_id: str) -> Callable[[list[str]], str | None]:
        """checkIds -> the highest severity among the failing findings a plan fixes; None when the
        analysis cannot be read (then it is read again next time)."""
        worst = self.severities.get(audit_id)
        if worst is None:
            analysis = read_json(s3, settings.report_bucket, checkpoint_key(audit_id, "analysis"))
            worst = _worst_by_check(analysis or {})
            if analysis is not None:
                self.severities.put(audit_id, worst)
        known = worst

        def worst_of(check_ids: list[str]) -> str | None:
            found = [known[c] for c in check_ids if c in known]
            return min(found, key=lambda s: s.rank).value if found else None

        return worst_of


def _worst_by_check(analysis: dict[str, Any]) -> dict[str, Severity]:
    worst: dict[str, Severity] = {}
    for finding in analysis.get("findings") or []:
        if finding.get("status") != "FAIL":
            continue
        try:
            level = Severity(finding.get("severity"))
        except ValueError:
            continue
        check = str(finding.get("checkId"))
        if check not in worst or level.rank < worst[check].rank:
            worst[check] = level
    return worst


def get_audit(
    audit_id: str,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    *,
    now: Callable[[], datetime] = _now,
    known: Known | None = None,
) -> AuditStatus:
    """The audit as it is now. `known`: what earlier calls learned (the handler keeps one per
    container); without it, everything is read."""
    known = known or Known()
    if (finished := known.finished.get(audit_id)) is not None:
        return finished.model_copy()
    if (running := known.running.get(audit_id)) is not None:
        latest = running.executions[-1]
        events = list[HistoryEvent](execution_history(sfn, latest["executionArn"]))
        if not events or events[-1].get("type") not in _EXECUTION_ENDED:
            return _running_status(audit_id, running, events, s3, settings, now(), known)
        known.running.pop(audit_id)  # it ended since: read it all again
    executions = audit_executions(sfn, s3, settings, audit_id)
    latest = executions[-1]
    if latest["status"] in {"RUNNING", "PENDING_REDRIVE"}:
        histories = _histories(sfn, executions)
        running = _Running(executions, histories[:-1])
        known.running.put(audit_id, running)
        return _running_status(audit_id, running, histories[-1][1], s3, settings, now(), known)
    status = _status(audit_id, executions, now())
    stored = read_json(s3, settings.report_bucket, settings.report_key(audit_id))
    report = _report(stored)
    status.report = report.to_json_dict() if report is not None else _without_causes(stored)
    status.outcome = (stored or {}).get("outcome") or json_object(latest.get("output")).get("outcome")
    status.timeline = _progress_of_report(report, executions) or audit_progress(
        _histories(sfn, executions), running=False
    )
    if latest["status"] in ENDED_BADLY:
        status.status = "FAILED"
        status.failure = _failure(stored, status.timeline, latest, latest["status"])
        return status
    status.status = "SUCCEEDED"
    # An audit that ended without judging the resource (none there, access denied) says why too.
    status.failure = _stored_failure(stored)
    known.finished.put(audit_id, status.model_copy())
    return status


_EXECUTION_ENDED = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"}


def _status(audit_id: str, executions: list[dict[str, Any]], now: datetime) -> AuditStatus:
    """What the executions say: the request the first one was started with, when, and each one."""
    first, latest = executions[0], executions[-1]
    execution_input = json_object(first.get("input"))
    running = latest["status"] in {"RUNNING", "PENDING_REDRIVE"}
    started, stopped = first.get("startDate"), None if running else latest.get("stopDate")
    return AuditStatus(
        audit_id=audit_id,
        status="RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),  # the state machine's default
        started_at=started,
        stopped_at=stopped,
        elapsed_seconds=_elapsed(started, stopped, now),
        executions=[ExecutionSummary.of(e) for e in executions],
    )


def _running_status(
    audit_id: str,
    running: _Running,
    events: list[HistoryEvent],
    s3: Any,
    settings: ApiSettings,
    now: datetime,
    known: Known,
) -> AuditStatus:
    status = _status(audit_id, running.executions, now)
    latest = str(running.executions[-1]["name"])
    status.timeline = audit_progress([*running.ended, (latest, events)], running=True)
    status.current_step = current_step(events)
    if status.current_step in (None, AWAIT_APPROVAL):  # else nobody is waiting: nothing to read
        _add_pending_plans(status, (latest, len(events)), events, s3, settings, now, known)
    return status


def _histories(sfn: Any, executions: list[dict[str, Any]]) -> list[tuple[str, list[HistoryEvent]]]:
    return [
        (str(e["name"]), list[HistoryEvent](execution_history(sfn, e["executionArn"]))) for e in executions
    ]


def _add_pending_plans(
    status: AuditStatus,
    where: tuple[str, int],
    events: list[HistoryEvent],
    s3: Any,
    settings: ApiSettings,
    now: datetime,
    known: Known,
) -> None:
    """AWAITING_APPROVAL with the pending plans, when a person's decision is awaited. `where`: the
    execution and how far its history went; a record read there is kept while it stays there."""
    cached = known.approvals.get(status.audit_id)
    if cached is not None and cached[0] == where:
        record: dict[str, Any] | None = cached[1]
    else:
        record = read_json(s3, settings.report_bucket, settings.approval_key(status.audit_id))
        submitted = bool(events) and events[-1].get("type") == "TaskSubmitted"  # Await Approval wrote it
        if record is not None and record.get("status") == "PENDING" and submitted:
            known.approvals.put(status.audit_id, (where, record))
    if record is None or not pending_approval(record, now):
        return
    status.status = "AWAITING_APPROVAL"
    default_ids = list(record.get("defaultRemediationIds") or [])  # in plan order
    default = set(default_ids)
    named_only = record.get("namedOnly") or {}
    severity = known.severity_of(s3, settings, status.audit_id)
    status.pending_plans = [
        {
            **plan,
            "severity": severity(plan.get("checkIds") or []),
            "approvedByDefault": plan.get("remediationId") in default,
            "namedOnlyReason": named_only.get(plan.get("remediationId")),
        }
        for plan in record.get("plans") or []
    ]
    status.default_remediation_ids = default_ids
    status.plan_digest = record.get("planDigest")
    status.approval_expires_at = record.get("expiresAt")


def _report(stored: dict[str, Any] | None) -> Report | None:
    """The stored report read through the model (a schema 1 report kept raw causes, stack traces
    included, which the model drops); None when there is none or the model cannot read it."""
    if stored is None:
        return None
    try:
        return Report.model_validate(stored)
    except ValidationError:
        return None


def _without_causes(value: Any) -> Any:
    """What the model cannot read, as a reader may see it: without any `cause`."""
    if isinstance(value, dict):
        return {k: _without_causes(v) for k, v in value.items() if k.lower() != "cause"}
    if isinstance(value, list):
        return [_without_causes(v) for v in value]
    return value


def _progress_of_report(report: Report | None, executions: list[dict[str, Any]]) -> list[ProgressStep] | None:
    """Every step of the plan as the report of the audit's one execution records it, and the report
    step itself, which the report cannot hold: it succeeded (its report is there, and the execution
    ended as the report's outcome says it would), from the end of the step before it (the states
    between are choices and passes) to the end of the execution. None when the report cannot tell."""
    if report is None or len(executions) != 1:
        return None
    execution = executions[0]
    name, sfn_status = execution["name"], execution["status"]
    failed = report.outcome == Outcome.FAILED
    if report.executions != [name] or (sfn_status, failed) not in {("SUCCEEDED", False), ("FAILED", True)}:
        return None  # another execution's report, or its report step failed after writing it
    writer = WRITE_FAILURE_REPORT if failed else WRITE_REPORT
    ran = {step.name: step for step in report.steps}
    before = max((s.ended for s in report.steps if s.ended is not None), default=report.started_at)
    progress = []
    for step_name in [writer if s == WRITE_REPORT else s for s in PLAN]:
        if step_name in ran:
            progress.append(ProgressStep(**ran[step_name].model_dump(), execution=name))
        elif step_name == writer:
            ended = execution.get("stopDate")
            ended = ended.astimezone(UTC) if isinstance(ended, datetime) else None
            progress.append(
                ProgressStep(
                    name=writer, status="succeeded", attempts=1, started=before, ended=ended, execution=name
                )
            )
        else:
            progress.append(ProgressStep(name=step_name, status="skipped"))
    return progress


def _failure(
    report: dict[str, Any] | None, timeline: list[ProgressStep], latest: dict[str, Any], sfn_status: str
) -> Failure:
    """The report's failure (the step, a sentence, the correlation id); without a report (the
    failure report itself failed), the same explanation of the execution's own error. Never the
    raw cause: it holds a Lambda's stack trace."""
    if (stored := _stored_failure(report)) is not None:
        return stored
    failed = next((s.name for s in reversed(timeline) if s.status == "failed"), "unknown")
    return explain(failed, latest.get("error") or sfn_status, latest.get("cause"), latest.get("name"))


def _stored_failure(report: dict[str, Any] | None) -> Failure | None:
    """The report's failure; None without one, or in a report of an older schema (with the raw
    cause: it is explained afresh, never shown)."""
    stored = (report or {}).get("failure")
    if not isinstance(stored, dict):
        return None
    try:
        return Failure.model_validate(stored)
    except ValidationError:
        return None


def _elapsed(started: datetime | None, stopped: datetime | None, now: datetime) -> float | None:
    if started is None:
        return None
    return round(((stopped or now) - started).total_seconds(), 3)


def json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
