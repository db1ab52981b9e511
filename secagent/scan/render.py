"""A scan's result as the command prints it: a table for a person, JSON for a program.

A check of the account rather than the bucket (secagent.scan.domain.account_level_checks) is shown
once, for the account (its own table row, the JSON's `account`), not in every bucket's row and
counts. Check names are never cut: the table wraps them.
"""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from typing import Any

from secagent.models.findings import Finding, Severity, Status, Summary
from secagent.scan.domain import BucketScan, ScanResult

_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "checkId": f.check_id,
        "severity": f.severity.value,
        "status": f.status.value,
        "controls": f.controls,
        **({"error": f.error} if f.error else {}),
    }


def bucket_json(b: BucketScan, *, all_findings: bool = True) -> dict[str, Any]:
    """The bucket's own verdicts (the account's are in the scan's `account`)."""
    findings = b.own_findings()
    return {
        "bucket": b.bucket,
        "region": b.region,
        "error": b.error,
        "durationMs": round(b.duration_ms, 1),
        "summary": Summary.of(findings).model_dump(by_alias=True) if b.analysis else None,
        "findings": [finding_json(f) for f in findings if all_findings or f.status is not Status.PASS],
    }


def scan_json(result: ScanResult, *, all_findings: bool = True) -> dict[str, Any]:
    """`secagent scan --format json`; `all_findings=False` leaves out the PASS verdicts."""
    return {
        "account": [
            finding_json(f) for f in result.account_findings() if all_findings or f.status is not Status.PASS
        ],
        "buckets": [bucket_json(b, all_findings=all_findings) for b in result.buckets],
        "skipped": result.skipped,
        "totals": result.totals(),
        "timing": result.timing(),
    }


def render_table(result: ScanResult, *, width: int | None = None) -> str:
    """One row for the account's own checks, then one per bucket. The failing checks' names (their
    ids without the common `s3_` / `bucket_` prefix) are never cut: wrapped at `width` characters
    (default: what the terminal leaves, at least 40; a longer name widens the column)."""
    account = result.account_findings()
    account_id = next((str(f.evidence["accountId"]) for f in account if f.evidence.get("accountId")), "")
    account_label = f"account {account_id}".rstrip()
    rows = [b.bucket for b in result.buckets] + ([account_label] if account else [])
    name_width = max([len("bucket"), *(len(n) for n in rows)])
    header = (
        f"{'bucket':<{name_width}}  {'CRIT':>4} {'HIGH':>4} {'MED':>4} {'LOW':>4} {'UNK':>4}  failing checks"
    )
    indent = " " * (len(header) - len("failing checks"))
    width = width or max(40, shutil.get_terminal_size((100, 24)).columns - len(indent))
    lines = [header, "-" * len(header)]

    def row(name: str, findings: list[Finding]) -> None:
        failing = [f for f in findings if f.status is Status.FAIL]
        by = Counter(f.severity for f in failing)
        unknown = sum(f.status is Status.UNKNOWN for f in findings)
        counts = " ".join(f"{by[s] or '.':>4}" for s in _SEVERITIES)
        names = ", ".join(f.check_id.removeprefix("s3_").removeprefix("bucket_") for f in failing)
        ids = textwrap.wrap(names, width, break_long_words=False, break_on_hyphens=False)
        lines.append(f"{name:<{name_width}}  {counts} {unknown or '.':>4}  {ids[0] if ids else '-'}")
        lines.extend(indent + more for more in ids[1:])

    if account:
        row(account_label, account)
    for b in result.buckets:
        if b.error:
            lines.append(f"{b.bucket:<{name_width}}  ERROR {b.error}")
        else:
            row(b.bucket, b.own_findings())
    t, timing = result.totals(), result.timing()
    lines.append("")
    sev = ", ".join(f"{k.lower()} {v}" for k, v in t["failBySeverity"].items() if v)
    on_account = t["failingAccountChecks"]
    lines.append(
        f"{t['buckets']} buckets, {t['failingBuckets']} with failing checks"
        f"{f', and the account fails {on_account} (counted once)' if on_account else ''}; {t['fail']} FAIL"
        f"{f' ({sev})' if sev else ''}, {t['unknown']} UNKNOWN, {t['errors']} not read"
        f"{f', {t["skipped"]} gone before read' if t['skipped'] else ''}"
    )
    lines.append(
        f"{timing['seconds']:.2f}s, {timing['requests']} AWS requests "
        f"({timing['requestsPerSecond']}/s), concurrency {timing['concurrency']}"
    )
    return "\n".join(lines)
