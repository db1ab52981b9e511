"""`secagent scan`: Discover + Analyze every bucket of an account in-process, concurrently.

No Lambda, no state machine: the same `discover_bucket` and `analyze` the tools run, over many
buckets at once with a bounded thread pool. Meant for a quick look at a whole account (and as the
measured side of `bench/scan.py`).

Cost model (why it is built this way; figures in bench/README.md):
- One client per (service, region), shared by every worker: creating a botocore client costs
  several milliseconds of CPU and its own connection pool, so per-bucket clients would cost more
  than the reads themselves. botocore clients are thread-safe.
- Each bucket is read sequentially inside one worker (`concurrent=False`) and the buckets run in
  parallel: the in-flight calls are then exactly `--concurrency`, matching the connection pool,
  instead of workers x 16 threads of the per-bucket pool fighting for a few connections.
- Account-level answers (GetCallerIdentity, the account's Block Public Access) are the same for
  every bucket: read once per account and region, not once per bucket.
- The server's calls/s is the limit (LocalStack serves ~300-400 calls/s on 2 cores), so a scan
  makes fewer calls: HeadBucket is answered from ListBuckets (existence + `BucketRegion`), and
  reads whose field no verdict uses (with every check enabled: replication) are left out; those
  fields are `unknown` ("not read by secagent scan") in the snapshot. A verdict uses the fields
  its check requires, those it also reads (CheckMeta.also_reads) and the bucket's tags (the
  exemptions). `--all-fields` reads everything. 14 S3 calls per bucket instead of 16, plus 3
  per account.

Reporting: a check of the account rather than the bucket (the account's Block Public Access:
`account_level_checks()`) gets the same verdict on every bucket; it is reported once, for the
account (its own table row and JSON `account`), not in every bucket's row and counts. Check
names are never cut: the table wraps them.

Exit status: 0 no failing check, 1 failing checks found, 3 AWS could not be reached or a bucket
could not be read (the scan is incomplete), 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.aws import ClientFactory, client_factory
from secagent.checks import analyze, registry
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings
from secagent.models.errors import ResourceNotFound, SecAgentError
from secagent.models.findings import AnalysisResult, Finding, Severity, Status, Summary

# LocalStack on a 2-core machine peaks at 8-16 in-flight calls (bench/README.md); AWS S3
# takes far more, but 16 keeps a laptop's CPU (botocore signing/parsing) from being the limit.
DEFAULT_CONCURRENCY = 16
EXIT_OK, EXIT_FINDINGS, EXIT_UNREACHABLE = 0, 1, 3


# ---- shared clients ------------------------------------------------------------------------


class _Memo:
    """A client whose account-level reads are made once (per arguments) and shared.

    Only successful answers are kept; an error is raised to every caller that made the call.
    """

    def __init__(self, client: Any, methods: Iterable[str]) -> None:
        self._client = client
        self._methods = frozenset(methods)
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, tuple[tuple[str, Any], ...]], Any] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self._methods:
            return attr

        def call(**kwargs: Any) -> Any:
            key = (name, tuple(sorted(kwargs.items())))
            with self._lock:  # one caller reads, the others wait for its answer
                if key not in self._answers:
                    try:
                        self._answers[key] = attr(**kwargs)
                    except ClientError as err:
                        if not _definitive(err):
                            raise
                        self._answers[key] = err  # "not configured", "access denied": same for all
                answer = self._answers[key]
            if isinstance(answer, ClientError):
                raise ClientError(answer.response, answer.operation_name)  # type: ignore[arg-type]
            return answer

        return call


def _definitive(err: ClientError) -> bool:
    """An answer that will not change on a retry (4xx other than throttling)."""
    status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    code = str(err.response.get("Error", {}).get("Code", ""))
    return 400 <= status < 500 and status != 429 and "Throttl" not in code and code != "SlowDown"


ACCOUNT_LEVEL_READS = {"sts": ("get_caller_identity",), "s3control": ("get_public_access_block",)}

# Snapshot field -> the S3 read that fills it (secagent.discovery.s3._bucket_readers).
FIELD_READS = {
    "public_access_block": "get_public_access_block",
    "acl": "get_bucket_acl",
    "ownership_controls": "get_bucket_ownership_controls",
    "policy": "get_bucket_policy",
    "policy_status_is_public": "get_bucket_policy_status",
    "encryption": "get_bucket_encryption",
    "versioning": "get_bucket_versioning",
    "logging": "get_bucket_logging",
    "lifecycle_rules": "get_bucket_lifecycle_configuration",
    "object_lock": "get_object_lock_configuration",
    "website": "get_bucket_website",
    "cors": "get_bucket_cors",
    "replication": "get_bucket_replication",
    "notifications": "get_bucket_notification_configuration",
    "tags": "get_bucket_tagging",
}
NOT_READ = "NotImplemented"  # Discover records an unsupported read as an unknown field, with the reason


# Read by analyze() itself, whatever checks run: secagent:exempt tags turn a FAIL into EXEMPT.
ANALYSIS_READS = ("tags",)


def fields_checks_use(settings: AgentSettings | None = None) -> frozenset[str]:
    """Bucket fields a verdict uses: those the enabled checks require or also read, and
    the tags the exemptions read."""
    disabled = settings.disabled_checks if settings else frozenset()
    checks = (c for cid, c in registry().items() if cid not in disabled)
    used = {f for c in checks for f in (*c.meta.requires, *c.meta.also_reads)}
    return frozenset(used.union(ANALYSIS_READS))


def skipped_reads(settings: AgentSettings | None = None) -> frozenset[str]:
    """S3 reads a scan leaves out: their fields feed no verdict (evidence only, or none)."""
    used = fields_checks_use(settings)
    return frozenset(method for field, method in FIELD_READS.items() if field not in used)


class _ScanS3:
    """An S3 client for a scan: HeadBucket answered from ListBuckets, reads no check uses skipped.

    ListBuckets already told that each listed bucket exists and its region (`BucketRegion`), so
    Discover's HeadBucket would only repeat it. A skipped read raises `NotImplemented`, which
    Discover records as that field unknown with the reason (never as "not configured").
    """

    def __init__(self, client: Any, regions: dict[str, str], skip: frozenset[str]) -> None:
        self._client = client
        self._regions = regions
        self._skip = skip

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name == "head_bucket":
            return self._head_bucket
        if name in self._skip:

            def skipped(**_: Any) -> Any:
                error = {"Code": NOT_READ, "Message": "not read by secagent scan: no check uses it"}
                raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 501}}, name)

            return skipped
        return attr

    def _head_bucket(self, **kwargs: Any) -> Any:
        region = self._regions.get(kwargs.get("Bucket", ""))
        if region is None:
            return self._client.head_bucket(**kwargs)
        return {"BucketRegion": region, "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}}}


class SharedClients:
    """A ClientFactory that makes one client per (service, region) and counts the HTTP requests."""

    def __init__(
        self,
        session: boto3.Session,
        endpoint_url: str | None = None,
        max_pool: int = DEFAULT_CONCURRENCY,
        inner: ClientFactory | None = None,
    ) -> None:
        self._inner = inner or client_factory(session, endpoint_url, max_pool=max_pool)
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._raw: dict[tuple[str, str | None], Any] = {}
        self._count_lock = threading.Lock()
        self._sent = 0
        self.listed_regions: dict[str, str] = {}  # bucket -> region, from ListBuckets
        self.skip: frozenset[str] = frozenset()  # S3 reads to leave out

    def raw(self, service: str, region: str | None = None) -> Any:
        """The shared botocore client itself, without the scan's shortcuts."""
        self(service, region)
        with self._lock:
            return self._raw[(service, region)]

    def __call__(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._inner(service, region)
                client.meta.events.register("before-send", self._count)
                self._raw[key] = client
                methods = ACCOUNT_LEVEL_READS.get(service)
                if methods:
                    client = _Memo(client, methods)
                elif service == "s3":
                    client = _ScanS3(client, self.listed_regions, self.skip)
                self._clients[key] = client
            return self._clients[key]

    def _count(self, **_: Any) -> None:
        with self._count_lock:
            self._sent += 1

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (retries included)."""
        return self._sent


# ---- domain ----------------------------------------------------------------------------------


@cache
def account_level_checks() -> frozenset[str]:
    """Checks of the account, not of the bucket: every field they require is the account's (the
    snapshot's `account_*` fields, read once per account), so every bucket gets their verdict. A
    scan reports them once, for the account."""
    return frozenset(
        check_id
        for check_id, check in registry().items()
        if check.meta.requires and all(f.startswith("account_") for f in check.meta.requires)
    )


# Which verdict of an account-level check stands for the account when buckets disagree (a read
# failed for some; a bucket's exemption tag): the worst.
_WORST_FIRST = (Status.FAIL, Status.UNKNOWN, Status.EXEMPT, Status.PASS)


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "checkId": f.check_id,
        "severity": f.severity.value,
        "status": f.status.value,
        "controls": f.controls,
        **({"error": f.error} if f.error else {}),
    }


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

    def to_json(self, *, all_findings: bool = True) -> dict[str, Any]:
        """The bucket's own verdicts (the account's are in the scan's `account`)."""
        findings = self.own_findings()
        return {
            "bucket": self.bucket,
            "region": self.region,
            "error": self.error,
            "durationMs": round(self.duration_ms, 1),
            "summary": Summary.of(findings).model_dump(by_alias=True) if self.analysis else None,
            "findings": [_finding_json(f) for f in findings if all_findings or f.status is not Status.PASS],
        }


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

    def to_json(self, *, all_findings: bool = True) -> dict[str, Any]:
        return {
            "account": [
                _finding_json(f)
                for f in self.account_findings()
                if all_findings or f.status is not Status.PASS
            ],
            "buckets": [b.to_json(all_findings=all_findings) for b in self.buckets],
            "skipped": self.skipped,
            "totals": self.totals(),
            "timing": self.timing(),
        }

    def exit_code(self) -> int:
        if self.errors:
            return EXIT_UNREACHABLE
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
    name: str, session: boto3.Session, clients: ClientFactory, settings: AgentSettings, *, concurrent: bool
) -> BucketScan:
    started = time.perf_counter()
    result = BucketScan(bucket=name)
    try:
        snapshot = discover_bucket(name, session, clients=clients, concurrent=concurrent)
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
    `all_fields` reads every field Discover knows (else only those a check uses) and does
    HeadBucket even for listed buckets. `per_bucket_threads` reads each bucket's fields
    concurrently too (Discover's own pool): more threads, useful only with few buckets.
    """
    session = session or boto3.Session()
    settings = settings or AgentSettings()
    concurrency = max(1, concurrency)
    shared = clients or SharedClients(session, endpoint_url, max_pool=concurrency + 4)
    started = time.perf_counter()
    if not all_fields:
        shared.skip = skipped_reads(settings)
    if buckets is None:
        listed = list_buckets(shared.raw("s3", session.region_name), prefix)
        names = list(listed)
        if not all_fields:
            shared.listed_regions.update({n: r for n, r in listed.items() if r})
    else:
        names = [n for n in buckets if not prefix or n.startswith(prefix)]
    concurrent = per_bucket_threads or len(names) < concurrency // 2

    def one(name: str) -> BucketScan:
        result = scan_bucket(name, session, shared, settings, concurrent=concurrent)
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


# ---- rendering -------------------------------------------------------------------------------

_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


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


# ---- command line ----------------------------------------------------------------------------


def build_parser(prog: str = "secagent scan") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Discover and analyze every S3 bucket of the account (or the named ones) in-process, "
        "concurrently, and print the failing checks; those of the account itself (its Block Public "
        "Access) once, for the account.",
    )
    parser.add_argument(
        "--bucket", action="append", default=None, metavar="NAME", help="only this bucket (repeatable)"
    )
    parser.add_argument("--prefix", help="only buckets whose name starts with PREFIX")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("SECAGENT_SCAN_CONCURRENCY", DEFAULT_CONCURRENCY)),
        help=f"buckets read at once (default {DEFAULT_CONCURRENCY}, or SECAGENT_SCAN_CONCURRENCY)",
    )
    parser.add_argument("--endpoint-url", help="AWS endpoint (e.g. LocalStack); default: AWS_ENDPOINT_URL")
    parser.add_argument("--region", help="home region (default: the usual AWS configuration)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--all-fields",
        action="store_true",
        help="read every configuration field (default: only those a check uses) and HeadBucket each bucket",
    )
    parser.add_argument(
        "--failing-only", action="store_true", help="JSON: list only FAIL/UNKNOWN findings per bucket"
    )
    return parser


def cli_main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
        return 2
    try:
        settings = AgentSettings.from_env()
    except ValueError as err:
        print(f"error: SECAGENT_* settings: {err}", file=sys.stderr)
        return 2
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        if session.region_name is None:
            session = boto3.Session(profile_name=args.profile, region_name="us-east-1")
        result = scan(
            args.bucket,
            prefix=args.prefix,
            session=session,
            endpoint_url=args.endpoint_url,
            settings=settings,
            concurrency=args.concurrency,
            all_fields=args.all_fields,
        )
    except (BotoCoreError, ClientError) as err:
        print(f"error: cannot list the buckets: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_UNREACHABLE
    if args.format == "json":
        print(json.dumps(result.to_json(all_findings=not args.failing_only)))
    else:
        print(render_table(result))
    for b in result.errors:
        print(f"error: {b.bucket}: {b.error}", file=sys.stderr)
    return result.exit_code()


if __name__ == "__main__":
    sys.exit(cli_main(sys.argv[1:]))
