"""What a scan reads and judges: Discover + Analyze over many buckets at once, and the results.

No Lambda, no state machine: the same `discover_bucket` and `analyze` the tools run, over many
buckets at once with a bounded thread pool and shared clients (secagent.scan.clients).

Cost model (why it is built this way; figures in bench/README.md):
- Each bucket is read sequentially inside one worker (`concurrent=False`) and the buckets run in
  parallel: the in-flight calls are then exactly `concurrency`, matching the connection pool,
  instead of workers x 16 threads of the per-bucket pool fighting for a few connections.
- The server's calls/s is the limit (LocalStack serves ~300-400 calls/s on 2 cores), so a scan
  makes fewer calls: a bucket ListBuckets named with its `BucketRegion` is known to exist there
  (no HeadBucket), and Discover reads only the fields a verdict uses (with every check enabled:
  all but replication); the others are `unknown` ("not read: not requested") in the snapshot. A
  verdict uses the fields its check requires, those it also reads (CheckMeta.also_reads) and the
  bucket's tags (the exemptions). `all_fields` reads everything. 14 S3 calls per bucket instead
  of 16, plus 3 per account.

A check of the account rather than the bucket (the account's Block Public Access:
`account_level_checks()`) gets the same verdict on every bucket; a result reports it once, for the
account, not in every bucket's findings and counts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.aws import ClientFactory
from secagent.checks.registry import analyze, checks_for
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings
from secagent.models.errors import ResourceNotFound, SecAgentError
from secagent.models.findings import AnalysisResult, Finding, Severity, Status
from secagent.models.outcome import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK
from secagent.models.snapshot import BUCKET
from secagent.scan.clients import SharedClients

# LocalStack on a 2-core machine peaks at 8-16 in-flight calls (bench/README.md); AWS S3
# takes far more, but 16 keeps a laptop's CPU (botocore signing/parsing) from being the limit.
DEFAULT_CONCURRENCY = 16
# Read by analyze() itself, whatever checks run: secagent:exempt tags turn a FAIL into EXEMPT.
ANALYSIS_READS = ("tags",)


def fields_checks_use(settings: AgentSettings | None = None) -> frozenset[str]:
    """Bucket fields a verdict uses: those the enabled checks require or also read, and
    the tags the exemptions read."""
    disabled = settings.disabled_checks if settings else frozenset()
    checks = (c for cid, c in checks_for(BUCKET).items() if cid not in disabled)
    used = {f for c in checks for f in (*c.meta.requires, *c.meta.also_reads)}
    return frozenset(used.union(ANALYSIS_READS))


@cache
def account_level_checks() -> frozenset[str]:
    """Checks of the account, not of the bucket: every field they require is the account's (the
    snapshot's `account_*` fields, read once per account), so every bucket gets their verdict. A
    scan reports them once, for the account."""
    return frozenset(
        check_id
        for check_id, check in checks_for(BUCKET).items()
        if check.meta.requires and all(f.startswith("account_") for f in check.meta.requires)
    )


# Which verdict of an account-level check stands for the account when buckets disagree (a read
# failed for some; a bucket's exemption tag): the worst.
_WORST_FIRST = (Status.FAIL, Status.UNKNOWN, Status.EXEMPT, Status.PASS)


@dataclass
class BucketScan:
    bucket: str
    region: str | None = None
    analysis: AnalysisResult | None = None
    error: str | None = None
    duration_ms: float = 0.0

    def failing(self) -> list[Finding]:
        """Every failing verdict on the bucket, the account-level checks' too."""
        return [f for f in self.analysis.findings if f.status is Status.FAIL] if self.analysis else []

    def own_findings(self) -> list[Finding]:
        """The verdicts of the checks of the bucket itself (not those of the account)."""
        account = account_level_checks()
        return [f for f in self.analysis.findings if f.check_id not in account] if self.analysis else []

    def own_failing(self) -> list[Finding]:
        return [f for f in self.own_findings() if f.status is Status.FAIL]


@dataclass
class ScanResult:
    buckets: list[BucketScan]
    seconds: float
    concurrency: int
    requests: int
    skipped: list[str] = field(default_factory=list)  # listed, then gone before it was read

    @property
    def errors(self) -> list[BucketScan]:
        return [b for b in self.buckets if b.error]

    def account_findings(self) -> list[Finding]:
        """Each account-level check once: the worst verdict a bucket got, with every control it
        failed for some bucket (CIS 2.1.4 only where the bucket's own settings do not meet it)."""
        verdicts: dict[str, list[Finding]] = {}
        for b in self.buckets:
            for f in b.analysis.findings if b.analysis else []:
                if f.check_id in account_level_checks():
                    verdicts.setdefault(f.check_id, []).append(f)
        found = []
        for check_id in sorted(verdicts):
            worst = min(verdicts[check_id], key=lambda f: _WORST_FIRST.index(f.status))
            same = [f for f in verdicts[check_id] if f.status is worst.status]
            controls = list(dict.fromkeys(c for f in same for c in f.controls))
            found.append(worst.model_copy(update={"controls": controls}))
        return found

    def totals(self) -> dict[str, Any]:
        """Counts of verdicts: each bucket's own, and the account-level ones once."""
        account = self.account_findings()
        counts: Counter[str] = Counter()
        severities: Counter[str] = Counter()
        for f in [*account, *(f for b in self.buckets for f in b.own_findings())]:
            counts[f.status.value] += 1
            if f.status is Status.FAIL:
                severities[f.severity.value] += 1
        return {
            "buckets": len(self.buckets),
            "failingBuckets": sum(bool(b.own_failing()) for b in self.buckets),
            "failingAccountChecks": sum(f.status is Status.FAIL for f in account),
            "errors": len(self.errors),
            "skipped": len(self.skipped),
            "pass": counts["PASS"],
            "fail": counts["FAIL"],
            "unknown": counts["UNKNOWN"],
            "failBySeverity": {s.value: severities[s.value] for s in Severity},
        }

    def timing(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "concurrency": self.concurrency,
            "requests": self.requests,
            "requestsPerSecond": round(self.requests / self.seconds, 1) if self.seconds else None,
            "bucketsPerSecond": round(len(self.buckets) / self.seconds, 2) if self.seconds else None,
        }

    def exit_code(self) -> int:
        """0 no failing check, 1 failing checks found, 3 a bucket could not be read (the scan is
        incomplete)."""
        if self.errors:
            return EXIT_FAILED
        return EXIT_FINDINGS if any(b.failing() for b in self.buckets) else EXIT_OK


def list_buckets(s3: Any, prefix: str | None = None) -> dict[str, str | None]:
    """Every bucket the caller owns (ListBuckets pages) -> its region when ListBuckets tells it."""
    found: dict[str, str | None] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = s3.list_buckets(**kwargs)
        for b in page.get("Buckets", []):
            if not prefix or b["Name"].startswith(prefix):
                found[b["Name"]] = b.get("BucketRegion")
        token = page.get("ContinuationToken")
        if not token:
            break
        kwargs["ContinuationToken"] = token
    return dict(sorted(found.items()))


def list_bucket_names(s3: Any, prefix: str | None = None) -> list[str]:
    return list(list_buckets(s3, prefix))


def scan_bucket(
    name: str,
    session: boto3.Session,
    clients: ClientFactory,
    settings: AgentSettings,
    *,
    concurrent: bool,
    fields: Collection[str] | None = None,
    exists_in_region: str | None = None,
) -> BucketScan:
    """Discover (the `fields` given, default all) and analyze one bucket; an error is the result's."""
    started = time.perf_counter()
    result = BucketScan(bucket=name)
    try:
        snapshot = discover_bucket(
            name,
            session,
            clients=clients,
            concurrent=concurrent,
            fields=fields,
            exists_in_region=exists_in_region,
        )
        result.region = snapshot.region
        result.analysis = analyze(snapshot, settings)
    except ResourceNotFound as err:
        result.error = f"ResourceNotFound: {err}"
    except (SecAgentError, ClientError, BotoCoreError) as err:
        result.error = f"{type(err).__name__}: {err}"
    result.duration_ms = (time.perf_counter() - started) * 1000
    return result


def scan(
    buckets: Sequence[str] | None = None,
    *,
    prefix: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    settings: AgentSettings | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    per_bucket_threads: bool = False,
    clients: SharedClients | None = None,
    all_fields: bool = False,
    on_bucket: Callable[[BucketScan], None] | None = None,
) -> ScanResult:
    """Scan the named buckets, or every bucket (with `prefix`, those starting with it).

    Raises botocore errors when the bucket list cannot be read (the caller maps them to exit 3).
    `all_fields` reads every field Discover knows (else only those a verdict uses) and does
    HeadBucket even for listed buckets. `per_bucket_threads` reads each bucket's fields
    concurrently too (Discover's own pool): more threads, useful only with few buckets.
    """
    session = session or boto3.Session()
    settings = settings or AgentSettings()
    concurrency = max(1, concurrency)
    shared = clients or SharedClients(session, endpoint_url, max_pool=concurrency + 4)
    started = time.perf_counter()
    fields = None if all_fields else fields_checks_use(settings)
    listed: dict[str, str | None] = {}
    if buckets is None:
        listed = list_buckets(shared("s3", session.region_name), prefix)
        names = list(listed)
    else:
        names = [n for n in buckets if not prefix or n.startswith(prefix)]
    concurrent = per_bucket_threads or len(names) < concurrency // 2

    def one(name: str) -> BucketScan:
        result = scan_bucket(
            name,
            session,
            shared,
            settings,
            concurrent=concurrent,
            fields=fields,
            exists_in_region=None if all_fields else listed.get(name),
        )
        if on_bucket:
            on_bucket(result)
        return result

    with ThreadPoolExecutor(
        max_workers=min(concurrency, max(1, len(names))), thread_name_prefix="scan"
    ) as pool:
        results = list(pool.map(one, names))
    skipped = []
    if buckets is None:  # deleted between ListBuckets and the reads: not an error of the scan
        skipped = [r.bucket for r in results if r.error and r.error.startswith("ResourceNotFound")]
        results = [r for r in results if r.bucket not in skipped]
    return ScanResult(
        buckets=results,
        seconds=time.perf_counter() - started,
        concurrency=concurrency,
        requests=shared.requests,
        skipped=skipped,
    )
