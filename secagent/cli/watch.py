"""Follow an audit until it ends: one line per step transition, then the report and the exit code.

`Progress.update(body)` turns successive `GET /audits/{id}` answers into the lines to print (pure,
so tests feed it answers); `follow()` polls and prints; `conclude()` prints the report and maps the
outcome to the exit code. Without a `timeline` in the answer (older API) it falls back to
`currentStep`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    FAIL_ON_DEFAULT,
    FINISHED,
    CliError,
    audit_exit_code,
    expect,
    polled,
)
from secagent.models.outcome import Outcome

AWAIT_APPROVAL = "Await Approval"
# Outcomes that say nothing about the resource (exit 3): the report's failure says where and why.
UNJUDGED = {o.value for o in Outcome if o.ended_unjudged}
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@dataclass(frozen=True)
class Style:
    """How to draw: a live line and colours only on a terminal; ASCII marks when the encoding is not UTF."""

    live: bool = False
    color: bool = False
    unicode: bool = True

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        tty = stream.isatty()
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        return cls(live=tty, color=tty and "NO_COLOR" not in os.environ, unicode=encoding.startswith("utf"))

    def mark(self, kind: str) -> str:
        symbol, ascii_symbol, color = {
            "succeeded": ("✓", "ok", "32"),
            "failed": ("✗", "!!", "31"),
            "retrying": ("↻", "~~", "33"),
            "skipped": ("-", "--", "2"),
            "waiting": ("…", "..", "36"),
            "step": ("·", "..", "2"),
        }[kind]
        shown = symbol if self.unicode else ascii_symbol
        return f"\033[{color}m{shown}\033[0m" if self.color else shown


@dataclass
class Progress:
    """What has been printed so far for one audit; `update` returns only what is new."""

    audit_id: str
    style: Style = field(default_factory=Style)
    _shown: dict[tuple[int, str], tuple[str, int, str]] = field(default_factory=dict)
    _approval_shown: bool = False
    _last_current: str | None = None

    def update(self, body: dict[str, Any]) -> list[str]:
        timeline, ended = body.get("timeline"), body.get("status") in FINISHED
        if timeline is not None:
            lines = self._from_timeline(timeline, ended=ended)
        else:
            lines = self._from_current_step(body)
        if body.get("status") == "AWAITING_APPROVAL":
            if not self._approval_shown:
                self._approval_shown = True
                lines += self._approval_lines(body)
        else:
            self._approval_shown = False
        return lines

    def running(self, body: dict[str, Any]) -> str | None:
        """The step that is running now (for the live line), None while awaiting approval or done."""
        if body.get("status") != "RUNNING":
            return None
        for step in reversed(body.get("timeline") or []):
            if step.get("status") in ("running", "retrying") and step.get("type") in (None, "Task"):
                return str(step.get("name"))
        return body.get("currentStep")

    def _from_timeline(self, timeline: list[dict[str, Any]], *, ended: bool) -> list[str]:
        """What is new, in workflow order (the timeline's): no step is printed before an earlier
        one has ended. A plan-mode audit reaches Write Report while Await Approval and the steps
        after it are still pending; they are skipped only once the audit ends."""
        lines = []
        for index, step in enumerate(timeline):
            if step.get("type") not in (None, "Task"):
                continue  # Pass/Choice states: instant bookkeeping, not steps a person follows
            status = step.get("status")
            if status in ("succeeded", "failed", "retrying", "skipped"):
                lines += self._news(index, step)
            if status not in ("succeeded", "failed", "skipped") and not ended:
                break  # pending, running (the live line shows it) or retrying: the rest waits for it
        return lines

    def _news(self, index: int, step: dict[str, Any]) -> list[str]:
        """The step's line, unless it was printed already."""
        from secagent.render import step_error, step_took

        name, status, attempts = str(step.get("name")), step.get("status"), int(step.get("attempts") or 0)
        # A resumed audit runs a step again in a new execution: that is news even if the status is not.
        state = (str(status), attempts, str(step.get("execution") or ""))
        if self._shown.get((index, name)) == state:
            return []
        self._shown[(index, name)] = state
        error = step_error(step.get("error"))
        if status == "succeeded":
            detail = "reused from the earlier run" if step.get("reused") else step_took(step)
        elif status == "failed":
            detail = f"failed: {error}" if error else "failed"
        elif status == "retrying":
            detail = f"retrying (attempt {attempts + 1})" + (f": {error}" if error else "")
        else:
            detail = "skipped"
        return [f"  {self.style.mark(str(status))} {name}  {detail}".rstrip()]

    def _from_current_step(self, body: dict[str, Any]) -> list[str]:
        current = body.get("currentStep")
        if not current or current == self._last_current:
            return []
        self._last_current = current
        if current == AWAIT_APPROVAL and body.get("status") == "AWAITING_APPROVAL":
            return []  # the approval lines say it
        return [f"  {self.style.mark('step')} {current}"]

    def _approval_lines(self, body: dict[str, Any]) -> list[str]:
        from secagent.render import audit_findings, render_pending_plans, short_time

        plans = body.get("pendingPlans") or []
        expires = body.get("approvalExpiresAt")
        until = f" (until {short_time(expires)} UTC)" if expires else ""
        lines = [
            f"  {self.style.mark('waiting')} {AWAIT_APPROVAL}  waiting for approval{until}:",
            f"       approve: secagent approve {self.audit_id}  (the default selection)",
            f"       choose:  secagent approve {self.audit_id} --only ID[,ID...]  (exactly those)",
            f"       reject:  secagent reject {self.audit_id} --comment '...'",
        ]
        if plans:
            lines += ["", f"     {len(plans)} plan(s) proposed, worst first:"]
            shown = render_pending_plans(plans, audit_findings(body))
            lines += ["     " + line for line in shown.splitlines()]
            lines.append("")
        return lines


def follow(
    api: AuditApi,
    audit_id: str,
    out: TextIO,
    *,
    style: Style | None = None,
    poll_interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_consecutive_errors: int = 5,
) -> dict[str, Any]:
    """Poll until SUCCEEDED or FAILED, printing progress; returns the last answer.

    A few consecutive 5xx answers or unreachable polls are tolerated (the audit runs on regardless).
    """
    style = style or Style.for_stream(out)
    progress = Progress(audit_id, style)
    live = _LiveLine(out, style, clock)
    try:
        for response in polled(
            lambda: api.get_audit(audit_id),
            interval=poll_interval,
            sleep=sleep,
            max_consecutive_errors=max_consecutive_errors,
        ):
            body = expect(response, 200, what=f"status of audit {audit_id}", audit_id=audit_id)
            lines = progress.update(body)
            if lines:
                live.clear()
                out.write("\n".join(lines) + "\n")
            if body.get("status") in FINISHED:
                live.clear()
                out.flush()
                finished: dict[str, Any] = body
                return finished
            live.show(progress.running(body))
            out.flush()
        raise AssertionError("polled() ends only by raising")  # pragma: no cover
    finally:
        live.clear()


class _LiveLine:
    """On a terminal, the running step with a spinner and its time, redrawn in place."""

    def __init__(self, out: TextIO, style: Style, clock: Callable[[], float]) -> None:
        self._out, self._style, self._clock = out, style, clock
        self._step: str | None = None
        self._since = 0.0
        self._frame = 0
        self._drawn = False

    def show(self, step: str | None) -> None:
        if not self._style.live:
            return
        if step is None:
            self.clear()
            return
        if step != self._step:
            self._step, self._since = step, self._clock()
        self._frame += 1
        spinner = _SPINNER[self._frame % len(_SPINNER)] if self._style.unicode else "-\\|/"[self._frame % 4]
        self._out.write(f"\r\033[K  {spinner} {step}  {self._clock() - self._since:.1f}s")
        self._drawn = True

    def clear(self) -> None:
        if self._drawn:
            self._out.write("\r\033[K")
            self._drawn = False


def conclude(body: dict[str, Any], out: TextIO, fail_on: str = FAIL_ON_DEFAULT) -> int:
    """Print the report of a finished audit; the exit code of its outcome and remaining findings."""
    from secagent.models.report import Report
    from secagent.render import render_report

    audit_id = body.get("auditId", "?")
    report = body.get("report")
    if isinstance(report, dict):
        out.write("\n" + render_report(Report.model_validate(report)) + "\n")
    outcome = body.get("outcome") or (report or {}).get("outcome")
    code = audit_exit_code(report if isinstance(report, dict) else None, outcome, fail_on)
    if code is not None:
        if outcome in UNJUDGED or body.get("status") == "FAILED":
            ended = "failed" if outcome in (None, "FAILED") else f"ended {outcome}"
            print(f"secagent: audit {audit_id} {ended}: {_why(body, report)}", file=sys.stderr)
            return EXIT_FAILED
        return code
    if body.get("status") == "FAILED":
        raise CliError(f"audit {audit_id} failed: {_why(body, report)}")
    raise CliError(f"audit {audit_id} ended {body.get('status')} without an outcome")


def _why(body: dict[str, Any], report: Any) -> str:
    from secagent.render import failure_text

    failure = body.get("failure") or (report.get("failure") if isinstance(report, dict) else None)
    if not isinstance(failure, dict):
        return "no reason was recorded"
    return failure_text(failure, body.get("auditId"))


@contextmanager
def interrupted(audit_id: str) -> Iterator[None]:
    """Ctrl-C while following: say that the audit runs on and how to follow it; exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        raise CliError(
            f"interrupted; audit {audit_id} keeps running: follow it with 'secagent status {audit_id}'",
            EXIT_INTERRUPTED,
        ) from None


def follow_to_the_end(
    api: AuditApi, audit_id: str, out: TextIO, *, poll_interval: float, fail_on: str
) -> int:
    """`--wait`: follow the audit (Ctrl-C says how to follow it later), print its report, and
    exit by its outcome and the findings left."""
    with interrupted(audit_id):
        body = follow(api, audit_id, out, poll_interval=poll_interval)
    return conclude(body, out, fail_on)
