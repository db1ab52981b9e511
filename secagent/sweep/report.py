"""Write Posture Report: every stored result -> the posture report (JSON, Markdown) and the
findings as OCSF and ASFF pages of at most 100 (one ASFF page is one BatchImportFindings call),
imported into Security Hub when the deployment says so.

It reads what the sweep's own tools stored, never the state it is handed: the state only says
whether the Map failed, which can make the report less complete, never more.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from secagent.aws import ClientFactory
from secagent.models.posture import PostureReport
from secagent.models.sweep import (
    AccountListing,
    ResourceResult,
    SweepItem,
    SweepRequest,
    items_key,
    report_key,
    summary_key,
)
from secagent.outputs.asff import asff_of_resource
from secagent.outputs.ocsf import ocsf_of_resource
from secagent.outputs.security_hub import ImportSummary, import_findings
from secagent.sweep.posture import posture_of, render_markdown
from secagent.sweep.store import put_json, read_listings, read_results

PAGE_SIZE = 100  # BatchImportFindings takes at most 100 findings a call
FORMATS = ("ocsf", "asff")
WRITE_CONCURRENCY = 16


def page_key(sweep_id: str, fmt: str, page: int) -> str:
    return report_key(sweep_id, f"{fmt}/{page:05d}.json")


def findings_index_key(sweep_id: str) -> str:
    return report_key(sweep_id, "findings.json")


def markdown_key(sweep_id: str) -> str:
    return report_key(sweep_id, "posture.md")


def summary_of(posture: PostureReport) -> dict[str, Any]:
    totals = posture.totals
    return {
        "resources": totals.resources,
        "compliant": totals.compliant,
        "nonCompliant": totals.non_compliant,
        "unjudged": totals.unjudged,
        "complete": posture.complete,
        "failingBySeverity": totals.failing_by_severity.to_json_dict(),
    }


def pages(findings: Sequence[dict[str, Any]], size: int = PAGE_SIZE) -> list[list[dict[str, Any]]]:
    return [list(findings[i : i + size]) for i in range(0, len(findings), size)]


def _items(bucket: str, sweep_id: str, clients: ClientFactory) -> list[SweepItem]:
    s3 = clients("s3", None)
    try:
        body = s3.get_object(Bucket=bucket, Key=items_key(sweep_id))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return []
    return [SweepItem.model_validate(i) for i in json.loads(body)]


def map_failure(state: dict[str, Any]) -> str | None:
    """Why the sweep's own steps stopped early, as the state's Catch recorded it (never its cause:
    that holds stack traces)."""
    error = state.get("error")
    if not isinstance(error, dict):
        return None
    name = str(error.get("Error") or "States.Failed")[:100]
    if name == "States.ExceedToleratedFailureThreshold":
        return (
            "more resources failed than the deployment tolerates (ToleratedFailurePercentage): "
            "the map stopped"
        )
    return f"the sweep stopped early ({name})"


def _region_of(asff_finding: dict[str, Any]) -> str:
    """The region its ProductArn names (arn:partition:securityhub:region:...)."""
    parts = str(asff_finding.get("ProductArn", "")).split(":")
    return parts[3] if len(parts) > 3 else ""


def write_sweep_report(
    request: SweepRequest,
    state: dict[str, Any],
    *,
    bucket: str,
    clients: ClientFactory,
    security_hub_account: str | None = None,
    security_hub_region: str | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[PostureReport, ImportSummary | None]:
    sweep_id = request.sweep_id
    listings: list[AccountListing] | None = read_listings(bucket, sweep_id, clients)
    results: list[ResourceResult] = read_results(bucket, sweep_id, clients)
    judged = {(r.account_id, r.resource.type, r.resource.id) for r in results}
    failed_items = [
        {
            "accountId": item.account_id,
            "resource": item.resource.to_json_dict(),
            "error": {"error": "NoResult", "message": "not judged: its child execution failed or never ran"},
        }
        for item in _items(bucket, sweep_id, clients)
        if (item.account_id, item.resource.type, item.resource.id) not in judged
    ]
    reason = map_failure(state)
    if listings is None:
        reason = reason or "the accounts could not be listed"
    posture = posture_of(
        request,
        listings or [],
        results,
        failed_items=failed_items,
        finished_at=now(),
        incomplete_reason=reason,
    )
    outputs = {
        "ocsf": [f for r in results for f in ocsf_of_resource(r)],
        "asff": [f for r in results for f in asff_of_resource(r)],
    }
    writes: list[tuple[str, Any]] = [
        (report_key(sweep_id), posture.to_json_dict()),
        (summary_key(sweep_id), summary_of(posture)),
        (
            findings_index_key(sweep_id),
            {fmt: {"findings": len(found), "pages": len(pages(found))} for fmt, found in outputs.items()},
        ),
    ]
    for fmt, found in outputs.items():
        writes += [(page_key(sweep_id, fmt, n), page) for n, page in enumerate(pages(found))]
    s3 = clients("s3", None)
    with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
        list(pool.map(lambda w: put_json(bucket, w[0], w[1], clients), writes))
    s3.put_object(
        Bucket=bucket,
        Key=markdown_key(sweep_id),
        Body=render_markdown(posture).encode(),
        ContentType="text/markdown; charset=utf-8",
    )
    imported = None
    if security_hub_account is not None:
        # BatchImportFindings with the default product takes only the caller's own account's
        # findings: a member account's stay in the ASFF pages (docs/sweep.md)...
        # ... and of the Security Hub region it calls (the ProductArn names the finding's region).
        own = [
            f
            for f in outputs["asff"]
            if f.get("AwsAccountId") == security_hub_account
            and (
                security_hub_region is None
                or str(f.get("ProductArn")).split(":")[3:4] == [security_hub_region]
            )
        ]
        imported = import_findings(clients("securityhub", None), own) if own else ImportSummary()
    return posture, imported
