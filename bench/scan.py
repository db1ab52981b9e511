"""`secagent scan` on 200 misconfigured buckets vs Cloud Custodian, and the floor LocalStack allows.

Run: LOCALSTACK_PORT=4640 .venv/bin/python -m bench.scan [--repeats 2] [--buckets 200]

In one run, interleaved `--repeats` times:
  floor      the same S3 read calls `secagent scan` makes, from a bare boto3 ThreadPoolExecutor
             (one call per task, one shared client): calls/s LocalStack serves here;
  ours       `secagent.scan.domain.scan()` in-process over every bucket of the account;
  ours-cmd   the command (`secagent scan --format json`, or `python -m secagent.scan` while the
             console script is not wired), process start-up included;
  c7n        `custodian run` with equivalent S3 policies over every bucket (its file cache on, cold
             at the start of each run), process start-up included.
Cloud Custodian is installed in bench/.c7n-venv (git-ignored) on first use, never in the project.
The buckets (`bscan-NNN` + a log target) are created once and kept; a tag marks them done.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from bench._common import (
    ENDPOINT,
    RESULTS,
    ROOT,
    RssSampler,
    client,
    ensure_c7n,
    machine,
    median,
    now,
    run_custodian,
    session,
    table,
    write_result,
)
from secagent.discovery.s3 import bucket_readers
from secagent.models import AgentSettings
from secagent.scan.domain import DEFAULT_CONCURRENCY, fields_checks_use, list_buckets, scan

PREFIX = "bscan-"
LOG_TARGET = "bscan-logtarget"
MARK = ("bench-scan", "v2")
FOREIGN_ACCOUNT = "111122223333"
BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


# ---- the buckets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One bucket's deliberate configuration; the ground truth of the agreement table."""

    name: str
    bpa: str  # all | partial | none
    public_policy: bool
    acl: str  # private | public-read | public-read-write
    tls_deny: bool
    cross_account: bool
    versioning: str  # never | Enabled | Suspended
    logging: bool
    lifecycle: bool
    kms: bool
    website: bool

    def expected(self) -> dict[str, bool]:
        """control -> should fail."""
        return {
            "bucket BPA off": self.bpa != "all",
            "TLS not enforced": not self.tls_deny,
            "ACL public read": self.acl != "private",
            "ACL public write": self.acl == "public-read-write",
            "policy public": self.public_policy,
            "policy other account": self.cross_account or self.public_policy,
            "versioning off": self.versioning != "Enabled",
            "access logging off": not self.logging,
            "no lifecycle rule": not self.lifecycle,
            "website enabled": self.website,
            "no default encryption": False,  # S3 (and LocalStack) encrypt every bucket by default now
        }


def specs(count: int) -> list[Spec]:
    out = []
    for i in range(count):
        rng = random.Random(i)
        public = i % 5 == 0
        out.append(
            Spec(
                name=f"{PREFIX}{i:03d}",
                bpa="none" if public else rng.choices(["all", "partial", "none"], [6, 2, 2])[0],
                public_policy=public,
                acl="public-read-write" if i % 20 == 0 else "public-read" if i % 10 == 5 else "private",
                tls_deny=rng.random() < 0.5,
                cross_account=rng.random() < 0.15,
                versioning=rng.choices(["never", "Enabled", "Suspended"], [4, 5, 1])[0],
                logging=rng.random() < 0.3,
                lifecycle=rng.random() < 0.4,
                kms=rng.random() < 0.25,
                website=rng.random() < 0.1,
            )
        )
    return out


def _policy(spec: Spec) -> dict[str, Any] | None:
    arn = f"arn:aws:s3:::{spec.name}"
    statements: list[dict[str, Any]] = []
    if spec.public_policy:
        statements.append(
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"{arn}/*",
            }
        )
    if spec.cross_account:
        statements.append(
            {
                "Sid": "PartnerRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [arn, f"{arn}/*"],
            }
        )
    if spec.tls_deny:
        statements.append(
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements} if statements else None


def configure(s3: Any, spec: Spec) -> None:
    name = spec.name
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as err:
        if err.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    if spec.acl != "private":
        s3.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        s3.put_bucket_acl(Bucket=name, ACL=spec.acl)
    if policy := _policy(spec):
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    if spec.bpa == "all":
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(BPA_KEYS, True))
    elif spec.bpa == "none":  # new buckets get all four on by default (AWS since 2023, LocalStack too)
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(BPA_KEYS, False))
    elif spec.bpa == "partial":
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={**dict.fromkeys(BPA_KEYS, False), "BlockPublicAcls": True},
        )
    if spec.versioning != "never":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": spec.versioning})
    if spec.logging:
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": LOG_TARGET, "TargetPrefix": f"{name}/"}},
        )
    if spec.lifecycle:
        s3.put_bucket_lifecycle_configuration(
            Bucket=name,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "abort-incomplete-uploads",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                    }
                ]
            },
        )
    if spec.kms:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
    if spec.website:
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": MARK[0], "Value": MARK[1]}]})


def ensure_buckets(all_specs: list[Spec]) -> float:
    """Create and configure the buckets unless a previous run did; returns the seconds spent."""
    s3 = client("s3", pool=32)
    started = now()
    existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}

    def done(spec: Spec) -> bool:
        if spec.name not in existing:
            return False
        try:
            tags = s3.get_bucket_tagging(Bucket=spec.name)["TagSet"]
        except ClientError:
            return False
        return {"Key": MARK[0], "Value": MARK[1]} in tags

    todo = [s for s in all_specs if not done(s)]
    if todo:
        if LOG_TARGET not in existing:
            s3.create_bucket(Bucket=LOG_TARGET)
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda s: configure(s3, s), todo))
    print(
        f"buckets: {len(all_specs)} bench buckets ready ({len(todo)} configured now, {now() - started:.1f}s)"
    )
    return now() - started


# ---- the floor: the same calls from a bare thread pool ------------------------------------------


def floor(listed: dict[str, str | None], workers: int, all_fields: bool = False) -> dict[str, Any]:
    """Every S3 call `secagent scan` makes, one per task, on one shared client."""
    sess = session()
    s3 = client("s3", pool=workers + 4, session_=sess)
    sts = client("sts", session_=sess)
    s3control = client("s3control", session_=sess)
    from secagent.aws import _strip_account_host_prefix  # same LocalStack host fix as the product

    s3control.meta.events.register("before-sign.s3-control", _strip_account_host_prefix)
    used = fields_checks_use()
    calls: list[Callable[[], Any]] = []
    for name, region in listed.items():
        if all_fields or not region:
            calls.append(lambda n=name: s3.head_bucket(Bucket=n))
        readers = bucket_readers(s3, name)
        calls.extend(read for f, read in readers.items() if all_fields or f in used)
    errors = 0
    lock = threading.Lock()

    def call(fn: Callable[[], Any]) -> None:
        nonlocal errors
        try:
            fn()
        except ClientError:
            with lock:
                errors += 1  # "not configured" answers are answers too

    started = now()
    s3.list_buckets()
    account = sts.get_caller_identity()["Account"]
    call(lambda: s3control.get_public_access_block(AccountId=account))
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(call, calls))
    seconds = now() - started
    total = len(calls) + 3
    return {"seconds": seconds, "calls": total, "callsPerSecond": total / seconds, "workers": workers}


# ---- ours ---------------------------------------------------------------------------------------


def ours(
    concurrency: int, per_bucket_threads: bool = False, all_fields: bool = False
) -> tuple[dict[str, Any], dict[str, set[str]]]:
    result = scan(
        all_fields=all_fields,
        session=session(),
        endpoint_url=ENDPOINT,
        settings=AgentSettings(),
        concurrency=concurrency,
        per_bucket_threads=per_bucket_threads,
    )
    failing = {b.resource.id: {f.check_id for f in b.failing()} for b in result.resources}
    figures = {
        "seconds": result.seconds,
        "buckets": len(result.resources),
        "calls": result.requests,
        "callsPerSecond": result.requests / result.seconds,
        "errors": [f"{b.resource.id}: {b.error}" for b in result.errors],
        "concurrency": concurrency,
    }
    return figures, failing


def scan_command() -> list[str]:
    """The installed console script when `secagent scan` is wired, else the module."""
    exe = ROOT / ".venv" / "bin" / "secagent"
    if exe.exists():
        probe = subprocess.run([str(exe), "scan", "--help"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return [str(exe), "scan"]
    return [sys.executable, "-m", "secagent.scan"]


def ours_command(command: list[str]) -> dict[str, Any]:
    started = now()
    proc = subprocess.run([*command, "--format", "json"], capture_output=True, text=True, check=False)
    seconds = now() - started
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    out = json.loads(proc.stdout)
    return {
        "seconds": seconds,
        "buckets": out["totals"]["buckets"],
        "inProcessSeconds": out["timing"]["seconds"],
    }


# ---- Cloud Custodian ------------------------------------------------------------------------------

# control -> (c7n filters, our check ids whose FAIL means the same)
CONTROLS: dict[str, tuple[list[Any], set[str]]] = {
    "bucket BPA off": ([{"type": "check-public-block"}], {"s3_bucket_block_public_access_off"}),
    "TLS not enforced": (
        [
            {
                "not": [
                    {
                        "type": "has-statement",
                        "statements": [
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Principal": "*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ],
                    }
                ]
            }
        ],
        {"s3_bucket_tls_not_enforced"},
    ),
    "ACL public read": (
        [
            {
                "type": "global-grants",
                "allow_website": False,
                "permissions": ["READ", "READ_ACP", "FULL_CONTROL"],
            }
        ],
        {"s3_bucket_acl_public_read"},
    ),
    "ACL public write": (
        [
            {
                "type": "global-grants",
                "allow_website": False,
                "permissions": ["WRITE", "WRITE_ACP", "FULL_CONTROL"],
            }
        ],
        {"s3_bucket_acl_public_write"},
    ),
    "policy public": (
        [{"type": "has-statement", "statements": [{"Effect": "Allow", "Principal": "*"}]}],
        {"s3_bucket_policy_public"},
    ),
    # c7n's cross-account counts '*' as another account; ours splits it into public + cross-account.
    "policy other account": (
        [{"type": "cross-account"}],
        {"s3_bucket_policy_cross_account", "s3_bucket_policy_public"},
    ),
    "versioning off": (
        [{"not": [{"type": "value", "key": "Versioning.Status", "value": "Enabled"}]}],
        {"s3_bucket_versioning_disabled"},
    ),
    "access logging off": (
        [{"type": "value", "key": "Logging.TargetBucket", "value": "absent"}],
        {"s3_bucket_access_logging_disabled"},
    ),
    "no lifecycle rule": (
        [{"type": "value", "key": "Lifecycle.Rules[?Status=='Enabled'] | [0]", "value": "absent"}],
        {"s3_bucket_lifecycle_missing"},
    ),
    "website enabled": (
        [{"type": "value", "key": "Website", "value": "not-null"}],
        {"s3_bucket_website_enabled"},
    ),
    "no default encryption": (
        [{"type": "bucket-encryption", "state": False}],
        {"s3_bucket_default_encryption_missing"},
    ),
}


def _slug(control: str) -> str:
    return control.replace(" ", "-").lower()


def c7n_policies() -> list[dict[str, Any]]:
    return [{"name": _slug(c), "resource": "s3", "filters": filters} for c, (filters, _) in CONTROLS.items()]


def c7n_run(custodian: Path, work: Path) -> tuple[dict[str, Any], dict[str, set[str]]]:
    run = run_custodian(custodian, c7n_policies(), work)
    if run.returncode != 0:
        raise RuntimeError(f"custodian exited {run.returncode}; log: {run.log}")
    matched = {control: {r["Name"] for r in run.resources[_slug(control)] or []} for control in CONTROLS}
    return {"seconds": run.seconds, "errors": run.errors}, matched


# ---- comparison ------------------------------------------------------------------------------------


def agreement(
    all_specs: list[Spec], our_failing: dict[str, set[str]], c7n_matched: dict[str, set[str]]
) -> list[dict[str, Any]]:
    rows = []
    for control, (_, check_ids) in CONTROLS.items():
        row = dict.fromkeys(
            ("bothFail", "bothPass", "oursOnly", "c7nOnly", "oursWrong", "c7nWrong", "oursRight", "c7nRight"),
            0,
        )
        wrong_examples: list[str] = []
        for spec in all_specs:
            truth = spec.expected()[control]
            mine = bool(our_failing.get(spec.name, set()) & check_ids)
            theirs = spec.name in c7n_matched[control]
            key = "bothFail" if mine and theirs else "bothPass" if not (mine or theirs) else (
                "oursOnly" if mine else "c7nOnly"
            )  # fmt: skip
            row[key] += 1
            row["oursRight" if mine == truth else "oursWrong"] += 1
            row["c7nRight" if theirs == truth else "c7nWrong"] += 1
            if mine != truth and len(wrong_examples) < 3:
                wrong_examples.append(spec.name)
        agree = row["bothFail"] + row["bothPass"]
        rows.append(
            {
                "control": control,
                **row,
                "agreePct": round(100 * agree / len(all_specs), 1),
                "oursWrongExamples": wrong_examples,
            }
        )
    return rows


AGREEMENT_HEADERS = ["control", "both FAIL", "both PASS", "ours only", "c7n only", "agree %", "ours wrong"]
AGREEMENT_HEADERS.append("c7n wrong")


# ---- main ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.scan")
    parser.add_argument("--buckets", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    parser.add_argument("--sweep", default="4,8,16,32", help="extra concurrencies of ours, once each")
    parser.add_argument("--no-c7n", action="store_true")
    args = parser.parse_args()

    all_specs = specs(args.buckets)
    setup_seconds = ensure_buckets(all_specs)
    custodian = None if args.no_c7n else ensure_c7n()
    listed = list_buckets(client("s3"))
    names = list(listed)
    command = scan_command()
    work = RESULTS / "scan-work"
    work.mkdir(parents=True, exist_ok=True)

    ours(4)  # warm-up: imports, registry, LocalStack's first answers
    runs: list[dict[str, Any]] = []
    our_failing: dict[str, set[str]] = {}
    c7n_matched: dict[str, set[str]] = {}
    c7n_figures: dict[str, Any] = {}
    with RssSampler() as rss:
        for repeat in range(args.repeats):
            run: dict[str, Any] = {"repeat": repeat + 1}
            run["floor"] = floor(listed, args.concurrency)
            run["ours"], our_failing = ours(args.concurrency)
            run["floorAllFields"] = floor(listed, args.concurrency, all_fields=True)
            run["oursAllFields"], _ = ours(args.concurrency, all_fields=True)
            if custodian:
                c7n_figures, c7n_matched = c7n_run(custodian, work)
                run["c7n"] = c7n_figures
            run["oursCommand"] = ours_command(command)
            runs.append(run)
            line = ", ".join(f"{k} {v['seconds']:.2f}s" for k, v in run.items() if isinstance(v, dict))
            print(f"run {repeat + 1}: {line}")
        sweep = {}
        for c in [int(x) for x in args.sweep.split(",") if x]:
            seq, _ = ours(c)
            par, _ = ours(c, per_bucket_threads=True)
            sweep[c] = {"sequentialPerBucket": seq, "threadsPerBucket": par, "floor": floor(listed, c)}

    def med(path: tuple[str, str]) -> float:
        return median([r[path[0]][path[1]] for r in runs if path[0] in r])

    ratios_floor = [r["ours"]["callsPerSecond"] / r["floor"]["callsPerSecond"] for r in runs]
    summary: dict[str, Any] = {
        "bench": "scan",
        "machine": machine(),
        "buckets": {
            "bench": len(all_specs),
            "inAccount": len(names),
            "setupSeconds": round(setup_seconds, 1),
        },
        "command": " ".join(Path(c).name for c in command),
        "runs": runs,
        "median": {
            "oursSeconds": round(med(("ours", "seconds")), 3),
            "oursCommandSeconds": round(med(("oursCommand", "seconds")), 3),
            "floorCallsPerSecond": round(med(("floor", "callsPerSecond")), 1),
            "oursCallsPerSecond": round(med(("ours", "callsPerSecond")), 1),
            "oursOverFloorCallsPerSecond": round(median(ratios_floor), 3),
        },
        "sweep": sweep,
        "rss": rss.figures(),
    }
    if custodian:
        per_run_cmd = [r["c7n"]["seconds"] / r["oursCommand"]["seconds"] for r in runs]
        per_run_inproc = [r["c7n"]["seconds"] / r["ours"]["seconds"] for r in runs]
        summary["median"].update(
            c7nSeconds=round(med(("c7n", "seconds")), 3),
            c7nOverOursCommand=round(median(per_run_cmd), 2),
            c7nOverOursInProcess=round(median(per_run_inproc), 2),
            c7nOverOursAllFieldsInProcess=round(
                median([r["c7n"]["seconds"] / r["oursAllFields"]["seconds"] for r in runs]), 2
            ),
            perRunC7nOverOursCommand=[round(x, 2) for x in per_run_cmd],
        )
        summary["c7nErrors"] = c7n_figures.get("errors", [])
        summary["agreement"] = agreement(all_specs, our_failing, c7n_matched)

    m = summary["median"]
    print()
    rows = [
        ["ours in-process", m["oursSeconds"], m["oursCallsPerSecond"], "-"],
        ["ours command", m["oursCommandSeconds"], "-", "-"],
        ["floor (bare boto3 pool)", med(("floor", "seconds")), m["floorCallsPerSecond"], "-"],
        [
            "ours --all-fields (before)",
            med(("oursAllFields", "seconds")),
            med(("oursAllFields", "callsPerSecond")),
            "-",
        ],
        [
            "floor, all fields",
            med(("floorAllFields", "seconds")),
            med(("floorAllFields", "callsPerSecond")),
            "-",
        ],
    ]
    if custodian:
        rows.append(["Cloud Custodian", m["c7nSeconds"], "-", f"{m['c7nOverOursCommand']}x vs ours command"])
    print(f"scan of {len(names)} buckets ({len(all_specs)} bench), concurrency {args.concurrency}, ", end="")
    print(f"medians of {args.repeats}")
    print(table(["what", "seconds", "calls/s", "ratio"], rows))
    per_run = [round(x, 2) for x in ratios_floor]
    print(f"ours calls/s / floor calls/s: {m['oursOverFloorCallsPerSecond']:.2f} (per run {per_run})")
    print()
    sweep_rows = [
        [c, s["sequentialPerBucket"]["seconds"], s["sequentialPerBucket"]["callsPerSecond"],
         s["threadsPerBucket"]["seconds"], s["floor"]["callsPerSecond"]]
        for c, s in sweep.items()
    ]  # fmt: skip
    print(
        table(
            ["concurrency", "ours s", "ours calls/s", "ours+16 threads/bucket s", "floor calls/s"], sweep_rows
        )
    )
    if custodian:
        print()
        print(
            table(
                AGREEMENT_HEADERS,
                [
                    [a["control"], a["bothFail"], a["bothPass"], a["oursOnly"], a["c7nOnly"], a["agreePct"],
                     a["oursWrong"], a["c7nWrong"]]
                    for a in summary["agreement"]
                ],
            )
        )  # fmt: skip
    print(f"\npeak RSS LocalStack tree: {summary['rss']['peakTotalMiB']} MiB")
    path = write_result("scan", summary)
    print(f"(full figures: {path.relative_to(ROOT)})")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
