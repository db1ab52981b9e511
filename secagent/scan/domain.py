"""What a scan reads and judges: Discover + Analyze over many resources at once, and the results.

No Lambda, no state machine: the same `discover` and `analyze` the tools run, over many resources
(S3 buckets, EC2 security groups) at once with a bounded thread pool and shared clients
(secagent.scan.clients). A scan reads the resources named, or lists every one of the account:
ListBuckets for the buckets, DescribeSecurityGroups for the groups of the session's region.

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
- A security group is read whole, its calls one after another (each depends on what the rules
  name): 6 EC2 calls for a group whose rules name no prefix list or other group.

A check of the account rather than the bucket (the account's Block Public Access:
`account_level_checks()`) gets the same verdict on every bucket; a result reports it once, for the
account, not in every bucket's findings and counts.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.aws import ClientFactory
from secagent.checks.registry import analyze, checks_for, fields_checks_use
from secagent.discovery import discover
from secagent.discovery.listing import list_buckets, list_security_groups
from secagent.models import AgentSettings
from secagent.models.errors import ResourceNotFound, SecAgentError
from secagent.models.findings import AnalysisResult, Finding, Severity, Status
from secagent.models.outcome import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef, ResourceType
from secagent.scan.clients import SharedClients

# LocalStack on a 2-core machine peaks at 8-16 in-flight calls (bench/README.md); AWS S3
# takes far more, but 16 keeps a laptop's CPU (botocore signing/parsing) from being the limit.
DEFAULT_CONCURRENCY = 16
# The types a scan reads, in the order its results list them, and how its JSON names each type's
# resources (the list of them, and their counts in the totals).
JSON_KEYS: dict[ResourceType, str] = {BUCKET: "buckets", SECURITY_GROUP: "securityGroups"}


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
class ResourceScan:
    """One resource's verdicts, or why it could not be read."""

    resource: ResourceRef
    region: str | None = None
    analysis: AnalysisResult | None = None
    error: str | None = None
    duration_ms: float = 0.0

    @property
    def not_found(self) -> bool:
        return bool(self.error and self.error.startswith(f"{ResourceNotFound.__name__}:"))

    def failing(self) -> list[Finding]:
        """Every failing verdict on the resource, the account-level checks' too."""
        return [f for f in self.analysis.findings if f.status is Status.FAIL] if self.analysis else []

    def own_findings(self) -> list[Finding]:
        """The verdicts of the checks of the resource itself (not those of the account)."""
        account = account_level_checks()
        return [f for f in self.analysis.findings if f.check_id not in account] if self.analysis else []

    def own_failing(self) -> list[Finding]:
        return [f for f in self.own_findings() if f.status is Status.FAIL]


@dataclass
class ScanResult:
    resources: list[ResourceScan]
    seconds: float
    concurrency: int
    requests: int
    skipped: list[ResourceRef] = field(default_factory=list)  # listed, then gone before it was read
    types: tuple[ResourceType, ...] = (BUCKET,)  # the types scanned, those with no resource too

    def of_type(self, resource_type: ResourceType) -> list[ResourceScan]:
        return [r for r in self.resources if r.resource.type == resource_type]

    @property
    def errors(self) -> list[ResourceScan]:
        return [r for r in self.resources if r.error]

    def account_findings(self) -> list[Finding]:
        """Each account-level check once: the worst verdict a bucket got, with every control it
        failed for some bucket (CIS 2.1.4 only where the bucket's own settings do not meet it)."""
        verdicts: dict[str, list[Finding]] = {}
        for r in self.resources:
            for f in r.analysis.findings if r.analysis else []:
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
        """Counts of verdicts: each resource's own, and the account-level ones once; per type
        scanned, how many resources and how many of them fail a check of their own."""
        account = self.account_findings()
        counts: Counter[str] = Counter()
        severities: Counter[str] = Counter()
        for f in [*account, *(f for r in self.resources for f in r.own_findings())]:
            counts[f.status.value] += 1
            if f.status is Status.FAIL:
                severities[f.severity.value] += 1
        per_type: dict[str, int] = {}
        for resource_type in self.types:
            key, scans = JSON_KEYS[resource_type], self.of_type(resource_type)
            per_type[key] = len(scans)
            per_type[failing_key(resource_type)] = sum(bool(r.own_failing()) for r in scans)
        return {
            **per_type,
            "failingAccountChecks": sum(f.status is Status.FAIL for f in account),
            "errors": len(self.errors),
            "skipped": len(self.skipped),
            "pass": counts["PASS"],
            "fail": counts["FAIL"],
            "unknown": counts["UNKNOWN"],
            "failBySeverity": {s.value: severities[s.value] for s in Severity},
        }

    def timing(self) -> dict[str, Any]:
        # Per type: its resources over the whole scan's time (the types share one pool).
        rates = {
            f"{JSON_KEYS[t]}PerSecond": round(len(self.of_type(t)) / self.seconds, 2)
            if self.seconds
            else None
            for t in self.types
        }
        return {
            "seconds": round(self.seconds, 3),
            "concurrency": self.concurrency,
            "requests": self.requests,
            "requestsPerSecond": round(self.requests / self.seconds, 1) if self.seconds else None,
            **rates,
        }

    def exit_code(self) -> int:
        """0 no failing check, 1 failing checks found, 3 a resource could not be read (the scan is
        incomplete)."""
        if self.errors:
            return EXIT_FAILED
        return EXIT_FINDINGS if any(r.failing() for r in self.resources) else EXIT_OK


def failing_key(resource_type: ResourceType) -> str:
    """The totals' count of a type's resources failing a check: "failingBuckets", ..."""
    key = JSON_KEYS[resource_type]
    return f"failing{key[0].upper()}{key[1:]}"


class ListingFailed(Exception):
    """The resources of a type could not be listed: the scan cannot say what the account has."""

    def __init__(self, resource_type: ResourceType, cause: BotoCoreError | ClientError) -> None:
        super().__init__(f"{resource_type}: {type(cause).__name__}: {cause}")
        self.resource_type = resource_type
        self.cause = cause


# Each type's listing: every resource of the account in the region given -> the region the listing
# says it is in, when it says (a bucket's BucketRegion: Discover then does not locate it again).
_LISTINGS: dict[ResourceType, Callable[[ClientFactory, str | None], dict[str, str | None]]] = {
    BUCKET: lambda clients, region: list_buckets(clients("s3", region)),
    SECURITY_GROUP: lambda clients, region: dict.fromkeys(list_security_groups(clients("ec2", region))),
}


def scanned_types(
    types: Collection[ResourceType] | None, named: Mapping[ResourceType, Sequence[str] | None]
) -> tuple[ResourceType, ...]:
    """The types a scan reads, in the order it lists them: `types`, or without them the types whose
    ids are named (`named`: type -> the ids, None when not named), or else the buckets."""
    chosen = set(types) if types is not None else {t for t, ids in named.items() if ids is not None}
    return tuple(t for t in JSON_KEYS if t in (chosen or {BUCKET}))


def scan_resource(
    resource: ResourceRef,
    session: boto3.Session,
    clients: ClientFactory,
    settings: AgentSettings,
    **discover_options: Any,
) -> ResourceScan:
    """Discover (with its type's `discover_options`) and analyze one resource; an error is the
    result's."""
    started = time.perf_counter()
    result = ResourceScan(resource=resource)
    try:
        snapshot = discover(resource, session, clients=clients, **discover_options)
        result.region = snapshot.region
        result.analysis = analyze(snapshot, settings)
    except (SecAgentError, ClientError, BotoCoreError) as err:
        result.error = f"{type(err).__name__}: {err}"
    result.duration_ms = (time.perf_counter() - started) * 1000
    return result


def scan(
    buckets: Sequence[str] | None = None,
    *,
    security_groups: Sequence[str] | None = None,
    types: Collection[ResourceType] | None = None,
    prefix: str | None = None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    settings: AgentSettings | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    per_bucket_threads: bool = False,
    clients: SharedClients | None = None,
    all_fields: bool = False,
    on_resource: Callable[[ResourceScan], None] | None = None,
) -> ScanResult:
    """Scan the resources of `types` (default: those named, else the buckets): of each type, the
    ids named (`buckets`, `security_groups`) or every one of the account; `prefix` keeps only the
    buckets whose name starts with it. Security groups are those of the session's region.

    Raises ListingFailed when a listing cannot be read (the caller maps it to exit 3), ValueError
    when ids are named for a type `types` leaves out. `all_fields` reads every bucket field
    Discover knows (else only those a verdict uses) and does HeadBucket even for listed buckets.
    `per_bucket_threads` reads each bucket's fields concurrently too (Discover's own pool): more
    threads, useful only with few buckets.
    """
    named: dict[ResourceType, Sequence[str] | None] = {BUCKET: buckets, SECURITY_GROUP: security_groups}
    chosen = scanned_types(types, named)
    if left_out := [JSON_KEYS[t] for t, ids in named.items() if ids is not None and t not in chosen]:
        raise ValueError(f"{' and '.join(left_out)} named, but not among the types scanned")
    session = session or boto3.Session()
    settings = settings or AgentSettings()
    concurrency = max(1, concurrency)
    shared = clients or SharedClients(session, endpoint_url, max_pool=concurrency + 4)
    started = time.perf_counter()
    listed: dict[ResourceType, dict[str, str | None]] = {}
    targets: list[ResourceRef] = []
    for resource_type in chosen:
        ids = named[resource_type]
        if ids is None:
            try:
                listed[resource_type] = _LISTINGS[resource_type](shared, session.region_name)
            except (BotoCoreError, ClientError) as err:
                raise ListingFailed(resource_type, err) from err
            ids = list(listed[resource_type])
        if prefix and resource_type == BUCKET:  # a bucket's id is its name; a group's is no name
            ids = [i for i in ids if i.startswith(prefix)]
        targets.extend(ResourceRef(type=resource_type, id=i) for i in ids)
    fields = None if all_fields else fields_checks_use(settings)
    concurrent = per_bucket_threads or len(targets) < concurrency // 2

    def discover_options(resource: ResourceRef) -> dict[str, Any]:
        """A bucket reads only the fields a verdict uses, where the listing located it; a group is
        read whole, sequentially (no option)."""
        if resource.type != BUCKET:
            return {}
        located = None if all_fields else listed.get(BUCKET, {}).get(resource.id)
        return {"concurrent": concurrent, "fields": fields, "exists_in_region": located}

    def one(resource: ResourceRef) -> ResourceScan:
        result = scan_resource(resource, session, shared, settings, **discover_options(resource))
        if on_resource:
            on_resource(result)
        return result

    with ThreadPoolExecutor(
        max_workers=min(concurrency, max(1, len(targets))), thread_name_prefix="scan"
    ) as pool:
        results = list(pool.map(one, targets))

    def gone_since_listed(result: ResourceScan) -> bool:
        """Deleted between the listing and its read: not an error of the scan (a named one is)."""
        return result.not_found and result.resource.id in listed.get(result.resource.type, {})

    return ScanResult(
        resources=[r for r in results if not gone_since_listed(r)],
        seconds=time.perf_counter() - started,
        concurrency=concurrency,
        requests=shared.requests,
        skipped=[r.resource for r in results if gone_since_listed(r)],
        types=chosen,
    )
