"""Write Posture Report: every stored result -> the posture report (JSON, Markdown) and the
findings as OCSF and ASFF pages of at most 100 (one ASFF page is one BatchImportFindings call),
imported into Security Hub when the deployment says so.

It reads what the sweep's own tools stored, never the state it is handed: the state only says
whether the Map failed, which can make the report less complete, never more.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from secagent.aws import ClientFactory
from secagent.models.posture import PostureReport
from secagent.models.sweep import (
    AccountListing,
    ResourceResult,
    SweepRequest,
    SweepSummary,
    findings_index_key,
    markdown_key,
    page_key,
    report_key,
    summary_key,
)
from secagent.outputs.asff import asff_of_resource
from secagent.outputs.ocsf import ocsf_of_resource
from secagent.outputs.security_hub import ImportSummary, import_findings
from secagent.sweep.posture import posture_of, render_markdown
from secagent.sweep.store import iter_results, read_items, read_listings
from secagent.workflow.store import write_object

PAGE_SIZE = 100  # BatchImportFindings takes at most 100 findings a call
FORMATS = ("ocsf", "asff")
WRITE_CONCURRENCY = 16


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


class _Pages:
    """One format's findings, written a page of PAGE_SIZE at a time as they come (a sweep's
    findings are never all in memory at once)."""

    def __init__(
        self, fmt: str, sweep_id: str, bucket: str, clients: ClientFactory, pool: ThreadPoolExecutor
    ):
        self.fmt, self.sweep_id, self.bucket, self.clients, self.pool = fmt, sweep_id, bucket, clients, pool
        self.buffer: list[dict[str, Any]] = []
        self.pages = 0
        self.findings = 0
        self.writes: list[Future[None]] = []

    def add(self, findings: list[dict[str, Any]]) -> None:
        for finding in findings:
            self.buffer.append(finding)
            if len(self.buffer) == PAGE_SIZE:
                self.flush()

    def flush(self) -> None:
        if self.buffer:
            key = page_key(self.sweep_id, self.fmt, self.pages)
            self.writes.append(self.pool.submit(write_object, self.bucket, key, self.buffer, self.clients))
            self.pages += 1
            self.findings += len(self.buffer)
            self.buffer = []

    def index(self) -> dict[str, int]:
        self.flush()
        for write in self.writes:
            write.result()  # a failed write fails the report (the state retries it)
        return {"findings": self.findings, "pages": self.pages}


class _SecurityHubImport:
    """The ASFF findings of the deployment's own account and region, imported 100 at a time."""

    def __init__(self, client: Any, account: str, region: str | None) -> None:
        self.client, self.account, self.region = client, account, region
        self.batch: list[dict[str, Any]] = []
        self.summary = ImportSummary()

    def add(self, findings: list[dict[str, Any]]) -> None:
        # BatchImportFindings with the default product takes only the caller's own account's
        # findings (a member's stay in the ASFF pages, docs/sweep.md), and its ProductArn names
        # the finding's region: only those of the region the client calls.
        for finding in findings:
            if finding.get("AwsAccountId") == self.account and (
                self.region is None or _region_of(finding) == self.region
            ):
                self.batch.append(finding)
                if len(self.batch) == PAGE_SIZE:
                    self.flush()

    def flush(self) -> ImportSummary:
        if self.batch:
            done = import_findings(self.client, self.batch)
            self.summary.imported += done.imported
            self.summary.failed += done.failed
            self.summary.failures += done.failures
            self.summary.calls += done.calls
            self.batch = []
        return self.summary


def _light(result: ResourceResult) -> ResourceResult:
    """The result without its findings' evidence: all the posture report reads, a tenth the size."""
    return result.model_copy(
        update={"findings": [f.model_copy(update={"evidence": {}}) for f in result.findings]}
    )


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
    """One pass over the stored results: each one's OCSF and ASFF findings go to their pages (and
    the own account's to Security Hub) as they come; the posture is built from the results
    without their evidence. Memory grows with the resources, not with their findings' evidence."""
    sweep_id = request.sweep_id
    listings: list[AccountListing] | None = read_listings(bucket, sweep_id, clients)
    importer = (
        _SecurityHubImport(clients("securityhub", None), security_hub_account, security_hub_region)
        if security_hub_account is not None
        else None
    )
    results: list[ResourceResult] = []
    with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
        ocsf, asff = (_Pages(fmt, sweep_id, bucket, clients, pool) for fmt in FORMATS)
        for result in iter_results(bucket, sweep_id, clients):
            ocsf.add(ocsf_of_resource(result))
            as_asff = asff_of_resource(result)
            asff.add(as_asff)
            if importer is not None:
                importer.add(as_asff)
            results.append(_light(result))
        index = {"ocsf": ocsf.index(), "asff": asff.index()}
    judged = {r.identity for r in results}
    failed_items = [
        {
            "accountId": item.account_id,
            "resource": item.resource.to_json_dict(),
            "error": {"error": "NoResult", "message": "not judged: its child execution failed or never ran"},
        }
        for item in read_items(bucket, sweep_id, clients)
        if item.identity not in judged
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
    for key, body in (
        (report_key(sweep_id), posture.to_json_dict()),
        (summary_key(sweep_id), SweepSummary.of(posture).to_json_dict()),
        (findings_index_key(sweep_id), index),
    ):
        write_object(bucket, key, body, clients)
    clients("s3", None).put_object(
        Bucket=bucket,
        Key=markdown_key(sweep_id),
        Body=render_markdown(posture).encode(),
        ContentType="text/markdown; charset=utf-8",
    )
    return posture, importer.flush() if importer is not None else None
