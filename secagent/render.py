"""Plain-text rendering of plans and reports for terminals (demo and CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from secagent.models import Plan, Severity
from secagent.models.report import Report

STATUS_MARK = {"PASS": "pass", "FAIL": "FAIL", "UNKNOWN": "?"}


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def render_plans(plans: Sequence[Plan]) -> str:
    blocks = []
    for plan in sorted(plans, key=lambda p: p.order):
        manual = f"\n     needs a person: {', '.join(plan.manual_inputs)}" if plan.manual_inputs else ""
        blocks.append(
            f"{plan.order:>2}. {plan.title}  [{', '.join(plan.check_ids)}]\n"
            f"     $ {plan.cli_command}\n"
            f"     risk: {plan.risk}  (reversible: {'yes' if plan.reversible else 'no'}){manual}"
        )
    return "\n".join(blocks)


def _seconds(start: datetime | None, end: datetime | None) -> str:
    return f"{(end - start).total_seconds():.2f}s" if start and end else ""


def render_report(report: Report) -> str:
    after = {c.check_id: c.after for c in report.verification.comparison} if report.verification else {}
    findings = sorted(report.findings, key=lambda f: (Severity(f.severity).rank, f.check_id))
    finding_rows = [
        (
            f.severity,
            f.check_id,
            STATUS_MARK.get(f.status, f.status),
            STATUS_MARK.get(after[f.check_id], after[f.check_id]) if after.get(f.check_id) else "",
            ", ".join(f.controls),
        )
        for f in findings
    ]
    parts = [
        f"Audit {report.audit_id}: {report.resource.type} {report.resource.id}",
        f"Outcome: {report.outcome}   mode: {report.mode}   "
        f"took {_seconds(report.started_at, report.finished_at)}",
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
        parts += ["", f"Failed at {report.failure.step}: {report.failure.error}: {report.failure.cause}"]
    parts += [
        "",
        "Steps",
        table(
            ["step", "status", "attempts", "took"],
            [(s.name, s.status, s.attempts, _seconds(s.started, s.ended)) for s in report.steps],
        ),
    ]
    return "\n".join(parts)
