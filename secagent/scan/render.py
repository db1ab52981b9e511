"""A scan's result as the command prints it: a table for a person, JSON for a program.

Each type scanned has its own table (headed by the type: "bucket", "security group") and its own
list in the JSON (`buckets`, `securityGroups`), each entry naming its `resourceType` and
`resourceId`. A check of the account rather than the bucket
(secagent.scan.domain.account_level_checks) is shown once, for the account (its own row in the
buckets' table, the JSON's `account`), not in every bucket's row and counts. Check names are never
cut: the table wraps them.
"""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from typing import Any

from secagent.models.findings import Finding, Severity, Status, Summary
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType
from secagent.resources import KINDS
from secagent.scan.domain import JSON_KEYS, ResourceScan, ScanResult, failing_key

_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
# What every check id of a type starts with, left out of the table's names of failing checks.
_CHECK_ID_PREFIXES: dict[ResourceType, tuple[str, ...]] = {
    BUCKET: ("s3_", "bucket_"),
    SECURITY_GROUP: ("ec2_", "security_group_"),
}


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "checkId": f.check_id,
        "severity": f.severity.value,
        "status": f.status.value,
        "controls": f.controls,
        **({"error": f.error} if f.error else {}),
    }


def resource_json(r: ResourceScan, *, all_findings: bool = True) -> dict[str, Any]:
    """The resource's own verdicts (the account's are in the scan's `account`)."""
    findings = r.own_findings()
    return {
        # A bucket's entry has always named it `bucket`: kept beside the id every type has.
        **({"bucket": r.resource.id} if r.resource.type == BUCKET else {}),
        "resourceType": r.resource.type,
        "resourceId": r.resource.id,
        "region": r.region,
        "error": r.error,
        "durationMs": round(r.duration_ms, 1),
        "summary": Summary.of(findings).model_dump(by_alias=True) if r.analysis else None,
        "findings": [finding_json(f) for f in findings if all_findings or f.status is not Status.PASS],
    }


def scan_json(result: ScanResult, *, all_findings: bool = True) -> dict[str, Any]:
    """`secagent scan --format json`; `all_findings=False` leaves out the PASS verdicts. One list
    per type scanned (`buckets`, `securityGroups`)."""
    return {
        "account": [
            finding_json(f) for f in result.account_findings() if all_findings or f.status is not Status.PASS
        ],
        **{
            JSON_KEYS[t]: [resource_json(r, all_findings=all_findings) for r in result.of_type(t)]
            for t in result.types
        },
        "skipped": [r.id for r in result.skipped],
        "totals": result.totals(),
        "timing": result.timing(),
    }


def plural_noun(resource_type: ResourceType) -> str:
    """The type's resources as a sentence names them: "buckets", "security groups"."""
    return f"{KINDS[resource_type].noun}s"


def short_check_name(check_id: str, resource_type: ResourceType) -> str:
    """The check id without what every check id of its type starts with: "policy_public"."""
    for prefix in _CHECK_ID_PREFIXES[resource_type]:
        check_id = check_id.removeprefix(prefix)
    return check_id


def render_table(result: ScanResult, *, width: int | None = None) -> str:
    """One table per type scanned, headed by the type; the buckets' starts with a row for the
    account's own checks. The failing checks' names (short_check_name) are never cut: wrapped at
    `width` characters (default: what the terminal leaves, at least 40; a longer name widens the
    column)."""
    account = result.account_findings()
    account_id = next((str(f.evidence["accountId"]) for f in account if f.evidence.get("accountId")), "")
    account_label = f"account {account_id}".rstrip()
    headings = [KINDS[t].noun for t in result.types]
    rows = [r.resource.id for r in result.resources] + ([account_label] if account else [])
    name_width = max(len(name) for name in [*headings, *rows])

    count_columns = f"{'CRIT':>4} {'HIGH':>4} {'MED':>4} {'LOW':>4} {'UNK':>4}"

    def header(heading: str) -> str:
        return f"{heading:<{name_width}}  {count_columns}  failing checks"

    indent = " " * (len(header("")) - len("failing checks"))
    width = width or max(40, shutil.get_terminal_size((100, 24)).columns - len(indent))
    lines: list[str] = []

    def row(name: str, findings: list[Finding], resource_type: ResourceType) -> None:
        failing = [f for f in findings if f.status is Status.FAIL]
        by = Counter(f.severity for f in failing)
        unknown = sum(f.status is Status.UNKNOWN for f in findings)
        counts = " ".join(f"{by[s] or '.':>4}" for s in _SEVERITIES)
        names = ", ".join(short_check_name(f.check_id, resource_type) for f in failing)
        ids = textwrap.wrap(names, width, break_long_words=False, break_on_hyphens=False)
        lines.append(f"{name:<{name_width}}  {counts} {unknown or '.':>4}  {ids[0] if ids else '-'}")
        lines.extend(indent + more for more in ids[1:])

    for resource_type, heading in zip(result.types, headings, strict=True):
        if lines:
            lines.append("")
        lines.extend([header(heading), "-" * len(header(heading))])
        if account and resource_type == BUCKET:  # the account's checks are S3's (Block Public Access)
            row(account_label, account, BUCKET)
        for r in result.of_type(resource_type):
            if r.error:
                lines.append(f"{r.resource.id:<{name_width}}  ERROR {r.error}")
            else:
                row(r.resource.id, r.own_findings(), resource_type)
    t, timing = result.totals(), result.timing()
    lines.append("")
    sev = ", ".join(f"{k.lower()} {v}" for k, v in t["failBySeverity"].items() if v)
    on_account = t["failingAccountChecks"]
    per_type = "; ".join(
        f"{t[JSON_KEYS[rt]]} {plural_noun(rt)}, {t[failing_key(rt)]} with failing checks"
        f"{f', and the account fails {on_account} (counted once)' if on_account and rt == BUCKET else ''}"
        for rt in result.types
    )
    lines.append(
        f"{per_type}; {t['fail']} FAIL{f' ({sev})' if sev else ''}, {t['unknown']} UNKNOWN, "
        f"{t['errors']} not read{f', {t["skipped"]} gone before read' if t['skipped'] else ''}"
    )
    lines.append(
        f"{timing['seconds']:.2f}s, {timing['requests']} AWS requests "
        f"({timing['requestsPerSecond']}/s), concurrency {timing['concurrency']}"
    )
    return "\n".join(lines)
