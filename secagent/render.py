"""Plain-text rendering of plans and reports for terminals (demo and CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pydantic models: imported where used, so `secagent status` starts faster
    from secagent.models.findings import CheckMeta
    from secagent.models.report import Report

STATUS_MARK = {"PASS": "pass", "FAIL": "FAIL", "UNKNOWN": "?"}


def _wording(outcome: str) -> str:
    """What the outcome means, from its one definition (imported here: pydantic is slow to load)."""
    from secagent.models.outcome import Outcome

    return Outcome(outcome).wording


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_pending_plans(pending: Sequence[dict[str, Any]], findings: Sequence[dict[str, Any]] = ()) -> str:
    """Plans to choose from (GET /audits/{id}'s pendingPlans, or a preview's plans) grouped by
    severity, worst first, numbered in the order they apply. Each names its remediation id (what
    `--only` takes), whether it is reversible, and whether a plain approval covers it: GET
    /audits/{id} marks each with `approvedByDefault` (irreversible and account-wide plans are
    applied only when named, for its `namedOnlyReason`)."""
    groups: dict[str | None, list[tuple[int, dict[str, Any]]]] = {}
    for number, plan in enumerate(sorted(pending, key=lambda p: p.get("order") or 0), start=1):
        groups.setdefault(plan_severity(plan, findings), []).append((number, plan))
    lines = []
    for severity in sorted(groups, key=_severity_rank):
        lines.append(severity or "SEVERITY UNKNOWN")
        for number, plan in groups[severity]:
            lines += _plan_lines(number, plan)
    return "\n".join(lines)


def _plan_lines(number: int, plan: dict[str, Any]) -> list[str]:
    if plan.get("approvedByDefault", True):
        choice = "in the default selection"
    else:  # "account-wide: it changes every bucket in the account; approve it by naming its id"
        why = str(plan.get("namedOnlyReason") or "").split(";")[0]
        choice = "needs naming" + (f" ({why})" if why else "")
    lines = [
        f"  {number}. {plan.get('title')}",
        f"     id: {plan.get('remediationId')}   reversible: {'yes' if plan.get('reversible') else 'no'}"
        f"   {choice}",
    ]
    if plan.get("checkIds"):
        lines.append(f"     fixes: {', '.join(plan['checkIds'])}")
    lines += [f"     risk: {plan.get('risk')}", f"     $ {plan.get('cliCommand')}"]
    if plan.get("manualInputs"):
        lines.append(f"     needs a person: {', '.join(plan['manualInputs'])}")
    return lines


def plan_severity(plan: dict[str, Any], findings: Sequence[dict[str, Any]] = ()) -> str | None:
    """A plan's severity: the worst of the failing findings it fixes (its `checkIds`). The API's
    when the plan carries one; else from `findings` (the audit's, when known); else as the check
    registry rates those checks (a verdict may rate itself milder, never worse)."""
    if plan.get("severity"):
        return str(plan["severity"])
    fixes = set(plan.get("checkIds") or [])
    rated = [
        str(f.get("severity")) for f in findings if f.get("checkId") in fixes and f.get("status") == "FAIL"
    ]
    if not rated:
        registry = _check_severities()
        rated = [registry[check] for check in fixes if check in registry]
    return min(rated, key=_severity_rank) if rated else None


@cache
def _check_severities() -> dict[str, str]:
    from secagent.checks.registry import list_checks

    return {meta.id: meta.severity.value for meta in list_checks()}


def _severity_rank(severity: str | None) -> int:
    from secagent.models import Severity

    if severity is None or severity not in Severity.__members__:
        return len(Severity)  # unknown: after every known severity
    return Severity(severity).rank


def _seconds(start: datetime | None, end: datetime | None) -> str:
    return f"{(end - start).total_seconds():.2f}s" if start and end else ""


def render_report(report: Report) -> str:
    from secagent.models import Severity

    after = {c.check_id: c.after for c in report.verification.comparison} if report.verification else {}
    findings = sorted(report.findings, key=lambda f: (Severity(f.severity).rank, f.check_id))
    finding_rows = [
        (
            f.severity,
            f.check_id,
            STATUS_MARK.get(f.status, f.status),
            STATUS_MARK.get(str(after[f.check_id]), str(after[f.check_id])) if after.get(f.check_id) else "",
            ", ".join(c.label for c in f.controls),
        )
        for f in findings
    ]
    parts = [
        f"Audit {report.audit_id}: {report.resource.type} {report.resource.id}",
        f"Outcome: {report.outcome}   mode: {report.mode}   "
        f"took {_seconds(report.started_at, report.finished_at)}",
        f"  ({_wording(report.outcome)})",
        "",
        "Findings" + (" (before -> after Verify)" if after else ""),
        table(["severity", "check", "before", "after" if after else "", "controls"], finding_rows),
    ]
    if report.remediations:
        parts += [
            "",
            "Remediations",
            table(
                ["#", "remediation", "approved", "result"],
                [
                    (r.plan.order, r.plan.title, "yes" if r.approved else "no", r.result)
                    for r in report.remediations
                ],
            ),
        ]
    if report.failure:
        parts += ["", failure_text(report.failure.to_json_dict(), report.audit_id)]
    parts += [
        "",
        "Steps",
        table(
            ["step", "status", "attempts", "took"],
            [(s.name, s.status, s.attempts, _seconds(s.started, s.ended)) for s in report.steps],
        ),
    ]
    return "\n".join(parts)


# --- CLI views: audit status, audit list, check registry, Markdown report ---------------------


def short_time(value: Any) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM:SS` (UTC as given); anything else as is."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and len(value) >= 19 and value[10] in "T ":
        return value[:10] + " " + value[11:19]
    return "" if value is None else str(value)


def step_took(step: dict[str, Any]) -> str:
    """How long a timeline entry (API JSON) took, `0.41s`; empty while it runs."""
    try:
        start = datetime.fromisoformat(str(step["started"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(step["ended"]).replace("Z", "+00:00"))
    except (KeyError, TypeError, ValueError):
        return ""
    return f"{(end - start).total_seconds():.2f}s"


def render_status(audit: dict[str, Any]) -> str:
    """`GET /audits/{id}` as text: where the audit is, its steps, what it waits for, how it ended."""
    resource = audit.get("resource") or {}
    elapsed = audit.get("elapsedSeconds")
    lines = [
        f"Audit {audit.get('auditId')}: {resource.get('type', '?')} {resource.get('id', '?')}",
        f"Status: {audit.get('status')}"
        + (f"   outcome: {audit['outcome']}" if audit.get("outcome") else "")
        + f"   mode: {audit.get('mode') or '?'}",
        f"Started: {short_time(audit.get('startedAt'))}"
        + (f"   stopped: {short_time(audit['stoppedAt'])}" if audit.get("stoppedAt") else "")
        + (f"   elapsed: {float(elapsed):.1f}s" if isinstance(elapsed, int | float) else ""),
    ]
    if audit.get("currentStep"):
        lines.append(f"Current step: {audit['currentStep']}")
    timeline = [s for s in audit.get("timeline") or [] if s.get("type") in (None, "Task")]
    if timeline:
        lines += [
            "",
            "Steps",
            table(
                ["step", "status", "attempts", "took", "error"],
                [
                    (
                        s.get("name"),
                        f"{s.get('status')} (reused)" if s.get("reused") else s.get("status"),
                        s.get("attempts", ""),
                        step_took(s),
                        step_error(s.get("error")),
                    )
                    for s in timeline
                ],
            ),
        ]
    executions = audit.get("executions") or []
    if len(executions) > 1:
        lines += [
            "",
            "Executions",
            table(
                ["execution", "status", "started", "stopped"],
                [
                    (
                        e.get("name"),
                        e.get("status"),
                        short_time(e.get("startedAt")),
                        short_time(e.get("stoppedAt")),
                    )
                    for e in executions
                ],
            ),
        ]
    if audit.get("status") == "AWAITING_APPROVAL":
        pending = audit.get("pendingPlans") or []
        until = short_time(audit.get("approvalExpiresAt"))
        lines += ["", f"Awaiting approval of {len(pending)} plan(s) until {until}, worst first:"]
        if pending:
            default = sum(bool(p.get("approvedByDefault", True)) for p in pending)
            audit_id = audit.get("auditId")
            lines += [
                render_pending_plans(pending, audit_findings(audit)),
                "",
                f"Approve the {default} in the default selection: secagent approve {audit_id}",
                f"Or exactly the ones you name, by id: secagent approve {audit_id} --only ID[,ID...]",
            ]
    report = audit.get("report")
    if isinstance(report, dict) and report.get("findings") is not None:
        failing = [f for f in report["findings"] if f.get("status") == "FAIL"]
        verification = report.get("verification")
        if isinstance(verification, dict) and verification.get("findings") is not None:
            # What is true now is what Verify saw; the first analysis is the "before"
            after = verification["findings"]
            still = [f for f in after if f.get("status") == "FAIL"]
            lines += [
                "",
                f"Findings: {len(still)} failing of {len(after)} checked after Verify "
                f"({len(failing)} before)",
            ]
        else:
            lines += ["", f"Findings: {len(failing)} failing of {len(report['findings'])} checked"]
    # A failed audit, or one that found no bucket or was denied: where and why.
    failure = audit.get("failure") or (report.get("failure") if isinstance(report, dict) else None)
    if isinstance(failure, dict):
        lines += ["", failure_text(failure, audit.get("auditId"))]
    return "\n".join(lines)


def failure_text(failure: dict[str, Any], audit_id: str | None = None) -> str:
    """A failed audit for a person: the step, the sentence, the correlation id, and a resume only
    when one can help. Never a raw cause (it would hold a Lambda's stack trace)."""
    step, said = failure.get("step") or "an unknown step", failure.get("message") or failure.get("error")
    text = said if isinstance(said, str) and said.startswith(step) else f"Failed at {step}: {said}"
    if failure.get("correlationId"):
        text += f" (correlation id {failure['correlationId']}: the full error is logged under it)"
    if failure.get("resumable") and audit_id:
        text += f"\nResume from the failed step: secagent resume {audit_id}"
    return text


def audit_findings(audit: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings an answer of GET /audits/{id} carries (its report's), if any."""
    report = audit.get("report")
    findings = audit.get("findings") or (report.get("findings") if isinstance(report, dict) else None)
    return findings if isinstance(findings, list) else []


def _first_line(text: Any, limit: int = 160) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def step_error(error: Any) -> str:
    """A step's `{error, message}` on one line: the sentence (its error's name when it has none)."""
    if not isinstance(error, dict) or not (error.get("error") or error.get("message")):
        return ""
    return _first_line(error.get("message") or error.get("error"), 160)


def render_audit_list(audits: Sequence[dict[str, Any]]) -> str:
    if not audits:
        return "No audits."
    return table(
        ["audit", "status", "outcome", "resource", "mode", "started", "stopped"],
        [
            (
                a.get("auditId"),
                a.get("status"),
                a.get("outcome") or "",
                (a.get("resource") or {}).get("id", ""),
                a.get("mode"),
                short_time(a.get("startedAt")),
                short_time(a.get("stoppedAt")),
            )
            for a in audits
        ],
    )


def render_checks(checks: Sequence[CheckMeta]) -> str:
    from secagent.models import Severity

    ordered = sorted(checks, key=lambda c: (Severity(c.severity).rank, c.id))
    return table(
        ["check", "severity", "controls", "remediation", "title"],
        [(c.id, c.severity, ", ".join(c.controls), c.remediation_id, c.title) for c in ordered],
    )


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell or list item."""
    return " ".join(str(text if text is not None else "").split()).replace("|", "\\|")


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
        *("| " + " | ".join(_md(c) for c in row) + " |" for row in rows),
    ]


def render_markdown_report(report: Report) -> str:
    """The report for a ticket or a pull request: findings by severity, fixes, verification, steps."""
    from secagent.models import Severity

    resource = report.resource
    after = {c.check_id: c.after for c in report.verification.comparison} if report.verification else {}
    failing = [f for f in report.findings if f.status == "FAIL"]
    out = [
        f"# Security audit of {resource.type} `{resource.id}`",
        "",
        *_md_table(
            ["", ""],
            [
                ("Outcome", f"**{report.outcome}**: {_wording(report.outcome)}"),
                ("Audit", f"`{report.audit_id}`"),
                ("Mode", report.mode),
                ("Requested by", report.requested_by or ""),
                ("Started", short_time(report.started_at) + " UTC"),
                ("Finished", short_time(report.finished_at) + " UTC"),
                ("Took", _seconds(report.started_at, report.finished_at)),
                ("Failing checks", f"{len(failing)} of {len(report.findings)}"),
            ],
        ),
        "",
        "## Findings",
    ]
    if not report.findings:
        out += ["", "No checks ran."]
    for severity in Severity:
        group = sorted(
            (f for f in report.findings if f.severity == severity and f.status != "PASS"),
            key=lambda f: f.check_id,
        )
        if not group:
            continue
        out += ["", f"### {severity.value.title()}", ""]
        for f in group:
            verdict = f"**{f.status}**" if f.status == "FAIL" else f.status
            if f.status == "FAIL" and after.get(f.check_id):
                verdict += " -> fixed" if after[f.check_id] == "PASS" else f" -> still {after[f.check_id]}"
            controls = f" ({', '.join(c.label for c in f.controls)})" if f.controls else ""
            out.append(f"- {verdict}: {_md(f.title)} `{f.check_id}`{controls}")
    passed = sorted(f.check_id for f in report.findings if f.status == "PASS")
    if passed:
        out += ["", f"### Passed ({len(passed)})", "", ", ".join(f"`{c}`" for c in passed)]
    out += ["", "## Remediations", ""]
    if not report.remediations:
        out.append("None proposed.")
    for r in sorted(report.remediations, key=lambda r: r.plan.order):
        plan = r.plan
        out += [
            f"### {plan.order}. {_md(plan.title)}",
            "",
            f"- Result: **{r.result}** (approved: {'yes' if r.approved else 'no'})",
            f"- Fixes: {', '.join(f'`{c}`' for c in plan.check_ids)}",
            f"- Risk: {_md(plan.risk)} (reversible: {'yes' if plan.reversible else 'no'})",
        ]
        if plan.manual_inputs:
            out.append(f"- Needs a person: {', '.join(plan.manual_inputs)}")
        if r.applied and r.applied.error:
            out.append(f"- Apply: {_md(r.applied.error)}")
        out += ["", "```sh", plan.cli_command, "```"]
        if plan.rollback_cli_command:
            out += ["", "Rollback:", "", "```sh", plan.rollback_cli_command, "```"]
        out.append("")
    if report.approval:
        a = report.approval
        out += [
            "## Approval",
            "",
            f"- Decision: **{a.decision}**"
            + (f" by {_md(a.approver)}" if a.approver else "")
            + (f" at {short_time(a.decided_at)} UTC" if a.decided_at else ""),
        ]
        if a.comment:
            out.append(f"- Comment: {_md(a.comment)}")
        out.append("")
    if report.verification:
        v = report.verification
        out += [
            "## Verification",
            "",
            f"All fixed: **{'yes' if v.all_fixed else 'no'}**"
            + (f"; still failing: {', '.join(f'`{c}`' for c in v.still_failing)}" if v.still_failing else ""),
            "",
            *_md_table(
                ["check", "before", "after", "fixed"],
                [
                    (f"`{c.check_id}`", c.before or "", c.after or "", "yes" if c.fixed else "no")
                    for c in v.comparison
                    if c.before != "PASS" or c.after != "PASS"
                ],
            ),
            "",
        ]
    if report.failure:
        failure = report.failure
        out += ["## Failure", "", _md(failure_text(failure.to_json_dict())), ""]
    out += [
        "## Steps",
        "",
        *_md_table(
            ["step", "status", "attempts", "took"],
            [(s.name, s.status, s.attempts, _seconds(s.started, s.ended)) for s in report.steps],
        ),
    ]
    return "\n".join(out) + "\n"
