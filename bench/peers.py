"""Our verdicts vs Cloud Custodian's and Prowler's, per control, on the labelled corpus.

Run: LOCALSTACK_PORT=4640 .venv/bin/python -m bench.peers [--only REGEX] [--keep] [--no-c7n]
     [--no-prowler] [--no-isolate]

1. Builds every corpus case (tests/corpus) on LocalStack with `tests.corpus.build.build`, bucket
   `<case id>-<run suffix>`, in the corpus's account for it (`account_for`) mapped to one of this
   run's own (the peers scan whole accounts: earlier runs' buckets stay out of their scans).
2. Per account, one after the other, timed side by side:
   ours     `tests.corpus.run.verdicts` on each case's bucket (Discover + analyze in-process,
            8 buckets at a time, as the corpus runner does);
   c7n      one `custodian run` (bench/.c7n-venv) of the policies in `C7N_RULES`, over every
            bucket of the account and the `account` resource;
   prowler  one `prowler aws --check <mapped S3 checks>` (bench/.prowler-venv), json-ocsf, over
            every bucket of the account; checks -> controls from bench/prowler_map.py.
3. Prints per control: labelled cases, and how many of them each tool agrees with; then every
   disagreement with the label (control, tool, case, its verdict, the label). A control a tool
   does not implement is "n/a", never a disagreement. Writes bench/results/peers-<time>.json;
   the last line is one JSON summary.

Both peer tools run with `bench/localstack_shim` on PYTHONPATH (S3 Control's account-id host
prefix cannot resolve on 127.0.0.1; see the shim). Buckets are deleted at the end (`--keep`
keeps them). bench/README.md ("peers") has the details and the choices made for each tool.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from bench import prowler_map
from bench._common import (
    ENDPOINT,
    PROWLER_VENV,
    RESULTS,
    ROOT,
    ensure_c7n,
    ensure_venv,
    machine,
    now,
    run_custodian,
    table,
    tool_env,
    write_result,
)
from bench.scan import CONTROLS as SCAN_CONTROLS
from secagent.aws import ClientFactory, client_factory
from secagent.checks.registry import list_checks
from tests.corpus.build import SHARED_ACCOUNT, account_for, build
from tests.corpus.cases import CASES, REGION, Case
from tests.corpus.run import bucket_name, cached, localstack_session, run_suffix, verdicts

TOOLS = ("ours", "c7n", "prowler")
WORK = RESULTS / "peers-work"  # the tools' own outputs and logs, per account (git-ignored)
NA = "n/a"  # the tool implements no check for the control
NONE = "NONE"  # it implements the control but said nothing about this bucket
ERROR = "ERROR"  # it failed while deciding (policy error, process error, build error)


# ---- Cloud Custodian: one policy per control ---------------------------------------------------

BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
# Action names handed to `cross-account`'s `actions` (a statement's Action is matched against them
# as a pattern, so `s3:*` or `s3:Get*` in a policy matches).
READ_ACTIONS = [
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAcl", "s3:GetObjectTagging",
    "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads",
    "s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:GetBucketLocation",
]  # fmt: skip
WRITE_ACTIONS = [
    "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectAcl",
    "s3:PutObjectTagging", "s3:RestoreObject", "s3:AbortMultipartUpload",
    "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:DeleteBucket",
    "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration", "s3:PutBucketTagging",
]  # fmt: skip
BLACKLISTED = [  # Security Hub S3.6's blacklistedActionPatterns
    "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration", "s3:PutObjectAcl",
]  # fmt: skip


@dataclass(frozen=True)
class Term:
    """Filters on a bucket (resource `s3`) and on its account (resource `account`); the term
    matches when every part given matches. Custodian cannot join the two resources in one policy:
    each part is its own policy and the bench joins them."""

    bucket: list[Any] | None = None
    account: list[Any] | None = None


@dataclass(frozen=True)
class C7nRule:
    """A control in Custodian: FAIL when any of its terms matches."""

    terms: tuple[Term, ...]


def bucket_only(filters: list[Any]) -> C7nRule:
    return C7nRule((Term(bucket=filters),))


def _account_setting_off(key: str) -> list[Any]:
    return [{"not": [{"type": "s3-public-block", "key": key, "value": True}]}]


def _public(acl_permissions: list[str], actions: list[str]) -> C7nRule:
    """A public ACL grant that neither the bucket's nor the account's IgnorePublicAcls neutralises,
    or a policy statement to everyone (Custodian's own condition handling) that neither
    RestrictPublicBuckets neutralises."""
    acl = Term(
        bucket=[
            {"type": "global-grants", "allow_website": False, "permissions": acl_permissions},
            {"type": "check-public-block", "IgnorePublicAcls": False},
        ],
        account=_account_setting_off("IgnorePublicAcls"),
    )
    policy = Term(
        bucket=[
            {"type": "cross-account", "everyone_only": True, "actions": actions},
            {"type": "check-public-block", "RestrictPublicBuckets": False},
        ],
        account=_account_setting_off("RestrictPublicBuckets"),
    )
    return C7nRule((acl, policy))


ACCOUNT_BPA_NOT_ALL_ON = [
    {"not": [{"and": [{"type": "s3-public-block", "key": k, "value": True} for k in BPA_KEYS]}]}
]
MFA_DELETE_OFF = [{"not": [{"type": "value", "key": "Versioning.MFADelete", "value": "Enabled"}]}]
TLS_NOT_ENFORCED = SCAN_CONTROLS["TLS not enforced"][0]
NO_NOTIFICATIONS = [
    *(
        {"type": "value", "key": f"Notification.{k}", "value": "empty"}
        for k in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations")
    ),
    # enabled EventBridge delivery is an empty object: `empty` would match it
    {"type": "value", "key": "Notification.EventBridgeConfiguration", "value": "absent"},
]

C7N_RULES: dict[str, C7nRule] = {
    "FSBP:S3.1": C7nRule((Term(account=ACCOUNT_BPA_NOT_ALL_ON),)),
    "FSBP:S3.2": _public(["READ", "READ_ACP", "FULL_CONTROL"], READ_ACTIONS),
    "FSBP:S3.3": _public(["WRITE", "WRITE_ACP", "FULL_CONTROL"], WRITE_ACTIONS),
    "FSBP:S3.5": bucket_only(TLS_NOT_ENFORCED),
    "FSBP:S3.6": bucket_only([{"type": "cross-account", "actions": BLACKLISTED}]),
    "FSBP:S3.8": bucket_only([{"type": "check-public-block"}]),
    "FSBP:S3.9": bucket_only(SCAN_CONTROLS["access logging off"][0]),
    "FSBP:S3.10": bucket_only(
        [
            {"type": "value", "key": "Versioning.Status", "value": "Enabled"},
            *SCAN_CONTROLS["no lifecycle rule"][0],
        ]
    ),
    "FSBP:S3.11": bucket_only(NO_NOTIFICATIONS),
    "FSBP:S3.12": bucket_only([{"type": "ownership", "op": "ne", "value": "BucketOwnerEnforced"}]),
    "FSBP:S3.13": bucket_only(SCAN_CONTROLS["no lifecycle rule"][0]),
    "FSBP:S3.14": bucket_only(SCAN_CONTROLS["versioning off"][0]),
    # `lock-configuration` never matches a bucket without one (its value is None): negate "Enabled".
    "FSBP:S3.15": bucket_only(
        [{"not": [{"type": "lock-configuration", "key": "ObjectLockEnabled", "value": "Enabled"}]}]
    ),
    "FSBP:S3.17": bucket_only([{"not": [{"type": "bucket-encryption", "state": True, "crypto": "aws:kms"}]}]),
    "FSBP:S3.20": bucket_only(MFA_DELETE_OFF),
    "CIS-3.0:2.1.1": bucket_only(TLS_NOT_ENFORCED),
    "CIS-3.0:2.1.2": bucket_only(MFA_DELETE_OFF),
    # CIS 2.1.4 is met by the bucket's or the account's settings: FAIL when neither has all four on.
    "CIS-3.0:2.1.4": C7nRule(
        (Term(bucket=[{"type": "check-public-block"}], account=ACCOUNT_BPA_NOT_ALL_ON),)
    ),
}
SEEN = "peers-every-bucket"  # no filters: which buckets Custodian listed at all


def _slug(control: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", control.lower()).strip("-")


def _policy_name(control: str, term: int, resource: str) -> str:
    return f"{_slug(control)}-t{term}-{resource}"


def c7n_policies(controls: list[str]) -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = [{"name": SEEN, "resource": "s3"}]
    for control in controls:
        for i, term in enumerate(C7N_RULES[control].terms if control in C7N_RULES else ()):
            for resource, filters in (("s3", term.bucket), ("account", term.account)):
                if filters is not None:
                    policies.append(
                        {"name": _policy_name(control, i, resource), "resource": resource, "filters": filters}
                    )
    return policies


# ---- the run's targets ----------------------------------------------------------------------------


@dataclass
class Target:
    case: Case
    bucket: str
    account: str
    build_error: str | None = None
    verdicts: dict[str, dict[str, str]] = field(default_factory=dict)  # tool -> control -> verdict
    errors: dict[str, str] = field(default_factory=dict)  # tool -> why it has no verdicts here


@dataclass
class Account:
    account: str
    session: boto3.Session
    clients: ClientFactory

    @property
    def s3(self) -> Any:
        return self.clients("s3", REGION)


def run_account(account: str, suffix: str) -> str:
    """The account this run builds `account`'s cases in: the corpus's own id mixed with the run's
    suffix, so that the peer tools (which scan whole accounts) see this run's buckets only, not
    those of earlier runs or of other corpus runs on the same LocalStack."""
    digest = int(hashlib.sha256(f"{account}-{suffix}".encode()).hexdigest(), 16)
    return "7" + str(digest % 10**11).zfill(11)


def accounts_for(targets: list[Target], shared: str, workers: int) -> dict[str, Account]:
    out = {}
    for account in sorted({t.account for t in targets} | {shared}):
        session = localstack_session(account)
        make = cached(client_factory(session, endpoint_url=ENDPOINT, max_pool=max(20, workers * 4)))
        out[account] = Account(account, session, make)
    return out


def build_all(targets: list[Target], accounts: dict[str, Account], shared: str, workers: int) -> float:
    started = now()
    # the shared account carries no account-level Block Public Access (as the corpus runner does)
    with contextlib.suppress(ClientError):
        accounts[shared].clients("s3control", REGION).delete_public_access_block(AccountId=shared)

    def one(t: Target) -> None:
        acct = accounts[t.account]
        try:
            build(
                t.case,
                acct.s3,
                acct.clients("s3control", REGION),
                bucket=t.bucket,
                account=t.account,
                sqs=acct.clients("sqs", REGION),
            )
        except Exception as err:  # kept per case; the others still run
            t.build_error = f"{type(err).__name__}: {err}"

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, targets))
    return now() - started


def cleanup(targets: list[Target], accounts: dict[str, Account]) -> int:
    """Delete the run's buckets (case buckets and their `-logs` targets), queues and account-level
    Block Public Access settings; best effort."""
    deleted = 0
    by_account: dict[str, list[Target]] = defaultdict(list)
    for t in targets:
        by_account[t.account].append(t)
    for account, items in by_account.items():
        s3 = accounts[account].s3
        names = {t.bucket for t in items}
        listed = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        mine = [n for n in listed if n in names or n.removesuffix("-logs") in names]

        def drop(name: str, s3: Any = s3) -> int:
            try:
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                    objects = [
                        {"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                    ]
                    if objects:
                        s3.delete_objects(Bucket=name, Delete={"Objects": objects})
                s3.delete_bucket(Bucket=name)
                return 1
            except ClientError:
                return 0

        with ThreadPoolExecutor(8) as pool:
            deleted += sum(pool.map(drop, mine))
        sqs = accounts[account].clients("sqs", REGION)
        for t in items:
            if t.case.notifications is None:
                continue
            with contextlib.suppress(ClientError):
                sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=t.bucket)["QueueUrl"])
        if any(t.case.account_public_access_block is not None for t in items):
            with contextlib.suppress(ClientError):
                accounts[account].clients("s3control", REGION).delete_public_access_block(AccountId=account)
    return deleted


# ---- ours ------------------------------------------------------------------------------------------


def implemented_by_us() -> set[str]:
    return {control for meta in list_checks() for control in meta.controls}


def run_ours(items: list[Target], acct: Account, workers: int) -> float:
    started = now()

    def one(t: Target) -> None:
        try:
            t.verdicts["ours"] = verdicts(t.case, bucket=t.bucket, clients=acct.clients, session=acct.session)
        except Exception as err:
            t.verdicts["ours"] = {c: ERROR for c in t.case.expected}
            t.errors["ours"] = f"{type(err).__name__}: {err}"

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, items))
    return now() - started


# ---- Cloud Custodian -----------------------------------------------------------------------------


def run_c7n(custodian: Path, items: list[Target], account: str, controls: list[str]) -> dict[str, Any]:
    """One `custodian run` over the account. A policy that errors (its filter raised on some
    bucket: Custodian then drops the whole policy) is run again, once per bucket, in one more
    process on the warm cache, so only the buckets it cannot judge are ERROR."""
    work = WORK / f"c7n-{account}"
    policies = c7n_policies(controls)
    env = tool_env(account)
    run = run_custodian(custodian, policies, work, env=env)
    figures: dict[str, Any] = {"seconds": run.seconds, "returncode": run.returncode, "errors": run.errors}
    seen = {r["Name"] for r in run.resources.get(SEEN) or []}
    matched: dict[str, set[str] | None] = {
        p["name"]: None if run.resources[p["name"]] is None else
        {r.get("Name", r.get("account_id", "")) for r in run.resources[p["name"]] or []}
        for p in policies
    }  # fmt: skip
    per_bucket_errors: dict[str, set[str]] = {}
    failed = [p for p in policies if matched[p["name"]] is None and p["resource"] == "s3"]
    if failed:
        names = [t.bucket for t in items if t.bucket in seen]
        retry = [
            {**p, "name": f"{p['name']}-b{i}",
             "filters": [{"type": "value", "key": "Name", "value": name}, *p.get("filters", [])]}
            for p in failed for i, name in enumerate(names)
        ]  # fmt: skip
        run.log.rename(work / "c7n-first.log")
        again = run_custodian(custodian, retry, work, env=env, warm_cache=True)
        figures["retry"] = {"seconds": again.seconds, "policies": len(retry), "returncode": again.returncode}
        for p in failed:
            ok: set[str] = set()
            errored: set[str] = set()
            for i, name in enumerate(names):
                found = again.resources[f"{p['name']}-b{i}"]
                if found is None:
                    errored.add(name)
                elif found:
                    ok.add(name)
            matched[p["name"]] = ok
            per_bucket_errors[p["name"]] = errored
        figures["policyErrors"] = {k: sorted(v) for k, v in per_bucket_errors.items()}
    for t in items:
        out: dict[str, str] = {}
        for control in t.case.expected:
            rule = C7N_RULES.get(control)
            if rule is None:
                out[control] = NA
                continue
            out[control] = _c7n_verdict(control, rule, t, account, seen, matched, per_bucket_errors)
        t.verdicts["c7n"] = out
    return figures


def _c7n_verdict(
    control: str,
    rule: C7nRule,
    t: Target,
    account: str,
    seen: set[str],
    matched: dict[str, set[str] | None],
    errors: dict[str, set[str]],
) -> str:
    fails = []
    for i, term in enumerate(rule.terms):
        parts: list[bool] = []
        if term.bucket is not None:
            name = _policy_name(control, i, "s3")
            hits = matched.get(name)
            if hits is None or t.bucket in errors.get(name, set()):
                return ERROR
            if t.bucket not in seen:
                return NONE
            parts.append(t.bucket in hits)
        if term.account is not None:
            hits = matched.get(_policy_name(control, i, "account"))
            if hits is None:
                return ERROR
            parts.append(account in hits)
        fails.append(all(parts))
    return "FAIL" if any(fails) else "PASS"


# ---- Prowler ---------------------------------------------------------------------------------------


def ensure_prowler() -> Path:
    return ensure_venv(PROWLER_VENV, "prowler", "prowler")


def prowler_version(prowler: Path) -> str:
    out = subprocess.run([str(prowler), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


@dataclass
class ProwlerRun:
    seconds: float
    returncode: int
    scan_seconds: float | None
    errors: list[str]  # its ERROR log lines
    errored: set[str]  # checks that raised (Prowler then reports nothing for that check)
    by_bucket: dict[str, dict[str, list[str]]]  # bucket -> check -> statuses (None: no output)
    account_level: dict[str, list[str]]  # check -> statuses of findings on the account itself
    ok: bool


def prowler_once(
    prowler: Path, account: str, checks: list[str], work: Path, buckets: list[str] | None = None
) -> ProwlerRun:
    """One `prowler aws` process over the account (or only `buckets`, by `--resource-arn`)."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*"):
        if old.is_file():
            old.unlink()
    log = work / "prowler.log"
    command = [
        str(prowler), "aws", "--check", *checks, "--region", REGION,
        "--output-formats", "json-ocsf", "--output-directory", str(work), "--output-filename", "findings",
        "--no-banner", "--no-color", "--ignore-exit-code-3", "--log-level", "INFO", "--log-file", str(log),
    ]  # fmt: skip
    if buckets:
        command += ["--resource-arn", *(f"arn:aws:s3:::{b}" for b in buckets)]
    started = now()
    proc = subprocess.run(command, capture_output=True, text=True, check=False, env=tool_env(account))
    seconds = now() - started
    (work / "stdout.log").write_text(proc.stdout + proc.stderr)
    entries = _prowler_log(log)
    errors = [e.get("message", "") for e in entries if e.get("level") == "ERROR"]
    errored = {c for c in checks for m in errors if m.startswith(f"{c} -- ")}
    found = work / "findings.ocsf.json"
    findings = json.loads(found.read_text()) if proc.returncode == 0 and found.exists() else []
    by_bucket: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    account_level: dict[str, list[str]] = defaultdict(list)
    for f in findings:
        check, status = f["metadata"]["event_code"], f["status_code"]
        uids = [r.get("uid", "") for r in f.get("resources", [])]
        names = [u.removeprefix("arn:aws:s3:::") for u in uids if u.startswith("arn:aws:s3:::")]
        for b in names:
            by_bucket[b][check].append(status)
        if not names:  # reported once for the account (e.g. its Block Public Access covers every bucket)
            account_level[check].append(status)
    ok = proc.returncode == 0 and found.exists()
    return ProwlerRun(
        seconds,
        proc.returncode,
        _prowler_scan_seconds(entries),
        errors,
        errored,
        by_bucket,
        account_level,
        ok,
    )


def run_prowler(
    prowler: Path, items: list[Target], account: str, controls: list[str], *, isolate: bool = True
) -> dict[str, Any]:
    """One Prowler run over the account. A check that raises reports nothing for any bucket of the
    account; such checks are run again on halves of the case buckets (`--resource-arn`, two
    processes at a time) until each bucket has its findings or is alone with the error (ERROR)."""
    mapping = prowler_map.control_checks()
    checks = sorted({c for control in controls for c in mapping.get(control, ())})
    work = WORK / f"prowler-{account}"
    run = prowler_once(prowler, account, checks, work)
    figures: dict[str, Any] = {
        "seconds": run.seconds,
        "returncode": run.returncode,
        "checks": len(checks),
        "scanSeconds": run.scan_seconds,
        "errors": [m[:300] for m in run.errors[:20]],
    }
    if not run.ok:
        figures["error"] = f"prowler exited {run.returncode}; see {work / 'stdout.log'}"
    # check -> bucket -> statuses, and check -> account-level statuses, from whichever run judged it
    judged: dict[str, dict[str, list[str]]] = defaultdict(dict)
    account_level: dict[str, list[str]] = defaultdict(list)
    culprits: dict[str, set[str]] = defaultdict(set)
    names = [t.bucket for t in items]

    def keep(r: ProwlerRun, for_checks: set[str], buckets: list[str]) -> None:
        for c in for_checks:
            for b in buckets:
                judged[c][b] = r.by_bucket.get(b, {}).get(c, [])
            account_level[c] += r.account_level.get(c, [])

    if run.ok:
        keep(run, set(checks) - run.errored, names)
        # the whole set is known to fail: start from its halves
        pending = [(half, run.errored) for half in _halves(names)] if run.errored and isolate else []
        if run.errored and not isolate:  # every case bucket: Prowler judged none of them
            for c in run.errored:
                culprits[c] = set(names)
        isolation = {"runs": 0, "seconds": 0.0}
        while pending:
            batch, pending = pending[:2], pending[2:]
            with ThreadPoolExecutor(2) as pool:
                outs = list(pool.map(
                    lambda job: prowler_once(
                        prowler, account, sorted(job[1][1]), work / f"isolate-{job[0]}", job[1][0]
                    ),
                    enumerate(batch),
                ))  # fmt: skip
            isolation["runs"] += len(outs)
            isolation["seconds"] += max(o.seconds for o in outs)
            for (subset, wanted), out in zip(batch, outs, strict=True):
                bad = wanted if not out.ok else out.errored & wanted
                keep(out, wanted - bad, subset)
                if bad and len(subset) == 1:
                    for c in bad:
                        culprits[c].add(subset[0])
                elif bad:
                    pending += [(half, bad) for half in _halves(subset)]
            print(
                f"  prowler {account}: isolating {sorted(run.errored)} "
                f"({isolation['runs']} runs, {len(pending)} subsets pending)",
                flush=True,
            )
        if run.errored:
            figures["isolation"] = {
                **isolation,
                "erroredChecks": sorted(run.errored),
                "culprits": {c: sorted(b) for c, b in culprits.items()} if isolate else "not isolated",
            }
    for t in items:
        out: dict[str, str] = {}
        for control in t.case.expected:
            mapped = mapping.get(control, ())
            if not mapped:
                out[control] = NA
            elif not run.ok or any(t.bucket in culprits[c] for c in mapped):
                out[control] = ERROR
            else:
                statuses = [s for c in mapped for s in judged[c].get(t.bucket, []) + account_level[c]]
                out[control] = (
                    "FAIL" if "FAIL" in statuses else "PASS" if "PASS" in statuses
                    else statuses[0] if statuses else NONE
                )  # fmt: skip
        t.verdicts["prowler"] = out
    return figures


def _halves(names: list[str]) -> list[list[str]]:
    half = len(names) // 2
    return [names[:half], names[half:]] if len(names) > 1 else [names]


def _prowler_log(log: Path) -> list[dict[str, Any]]:
    """Prowler's `--log-file`: one JSON object per line (timestamp, level, message, ...)."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def _prowler_scan_seconds(entries: list[dict[str, Any]]) -> float | None:
    """From the provider's start to the end of the checks (Prowler's own log): the run without
    its start-up (imports, loading every compliance framework) and its output writing."""
    start = None
    for e in entries:
        message, stamp = e.get("message", ""), e.get("timestamp", "")
        if start is None and message.startswith("Initializing AWS provider"):
            start = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
        elif start and message.startswith("Extracting audit statistics"):
            end = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            return round((end - start).total_seconds(), 2)
    return None


# ---- comparison ------------------------------------------------------------------------------------


def compare(targets: list[Target], controls: list[str], ours_implements: set[str]) -> dict[str, Any]:
    rows = []
    disagreements = []
    for control in controls:
        labelled = [t for t in targets if control in t.case.expected and not t.build_error]
        row: dict[str, Any] = {"control": control, "cases": len(labelled)}
        for tool in TOOLS:
            implemented = {
                "ours": control in ours_implements,
                "c7n": control in C7N_RULES,
                "prowler": bool(prowler_map.control_checks().get(control)),
            }[tool]
            said = [(t, t.verdicts.get(tool, {}).get(control)) for t in labelled]
            if not implemented:
                row[tool] = None
                continue
            if any(v is None for _, v in said):  # the tool was not run
                row[tool] = None
                continue
            agree = sum(v == t.case.expected[control] for t, v in said)
            row[tool] = {"agree": agree, "pct": round(100 * agree / len(labelled), 1) if labelled else None}
            row[tool]["verdicts"] = dict(Counter(v for _, v in said))
            for t, v in said:
                if v != t.case.expected[control]:
                    disagreements.append(
                        {"case": t.case.id, "control": control, "tool": tool, "verdict": v,
                         "label": t.case.expected[control], "source": t.case.source}
                    )  # fmt: skip
        rows.append(row)
    return {"rows": rows, "disagreements": disagreements}


def _cell(entry: dict[str, Any] | None, cases: int) -> str:
    if entry is None:
        return NA
    return f"{entry['agree']}/{cases} {entry['pct']:.0f}%"


# ---- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.peers")
    parser.add_argument("--only", help="regex on case ids")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="leave the buckets on LocalStack")
    parser.add_argument("--no-c7n", action="store_true")
    parser.add_argument("--no-prowler", action="store_true")
    parser.add_argument(
        "--no-isolate",
        action="store_true",
        help="don't re-run a Prowler check that raised on halves of the buckets (its controls: ERROR)",
    )
    args = parser.parse_args()

    cases = [c for c in CASES if "localstack" in c.backends]
    skipped = [c.id for c in CASES if "localstack" not in c.backends]
    if args.only:
        cases = [c for c in cases if re.search(args.only, c.id)]
    controls = sorted({k for c in cases for k in c.expected}, key=_control_order)
    custodian = None if args.no_c7n else ensure_c7n()
    prowler = None if args.no_prowler else ensure_prowler()

    shutil.rmtree(WORK, ignore_errors=True)  # the previous run's tool outputs (accounts differ per run)
    suffix = run_suffix()
    targets = [Target(c, bucket_name(c, suffix), run_account(account_for(c), suffix)) for c in cases]
    shared = run_account(SHARED_ACCOUNT, suffix)
    accounts = accounts_for(targets, shared, args.workers)
    build_seconds = build_all(targets, accounts, shared, args.workers)
    built = [t for t in targets if not t.build_error]
    by_account: dict[str, list[Target]] = defaultdict(list)
    for t in built:
        by_account[t.account].append(t)
    print(
        f"built {len(built)}/{len(targets)} cases in {len(by_account)} accounts "
        f"({build_seconds:.1f}s, suffix {suffix})",
        flush=True,
    )

    seconds: dict[str, float] = dict.fromkeys(TOOLS, 0.0)
    per_account: dict[str, dict[str, Any]] = {}
    runs: list[tuple[str, Callable[[list[Target], str], Any]]] = [
        ("ours", lambda items, a: {"seconds": run_ours(items, accounts[a], args.workers)})
    ]
    if custodian:
        runs.append(("c7n", lambda items, a: run_c7n(custodian, items, a, controls)))
    if prowler:
        runs.append(
            (
                "prowler",
                lambda items, a: run_prowler(prowler, items, a, controls, isolate=not args.no_isolate),
            )
        )
    try:
        for account, items in sorted(by_account.items(), key=lambda kv: -len(kv[1])):
            per_account[account] = {"cases": len(items)}
            for tool, run in runs:
                figures = run(items, account)
                per_account[account][tool] = figures
                seconds[tool] += figures["seconds"]
            line = ", ".join(f"{tool} {per_account[account][tool]['seconds']:.1f}s" for tool, _ in runs)
            print(f"account {account} ({len(items)} cases): {line}", flush=True)
    finally:
        deleted = 0 if args.keep else cleanup(targets, accounts)

    result = compare(built, controls, implemented_by_us())
    ran = [tool for tool, _ in runs]
    print()
    headers = ["control", "cases", *(f"{t} agrees" for t in TOOLS)]
    print(
        table(
            headers,
            [[r["control"], r["cases"], *(_cell(r[t], r["cases"]) for t in TOOLS)] for r in result["rows"]],
        )
    )
    totals = {
        t: {
            "agree": sum(r[t]["agree"] for r in result["rows"] if r[t]),
            "judged": sum(r["cases"] for r in result["rows"] if r[t]),
        }
        for t in TOOLS
    }
    print(
        "all judged: "
        + ", ".join(f"{t} {v['agree']}/{v['judged']}" for t, v in totals.items() if v["judged"])
    )

    print(f"\ndisagreements with the label ({len(result['disagreements'])}):")
    for d in sorted(
        result["disagreements"], key=lambda d: (_control_order(d["control"]), d["tool"], d["case"])
    ):
        print(f"  {d['control']:14} {d['tool']:8} {d['case']:44} says {d['verdict']:6} label {d['label']}")
    errors = {t.case.id: t.build_error for t in targets if t.build_error}
    if errors:
        print(f"\nbuild errors ({len(errors)}):")
        for case_id, err in errors.items():
            print(f"  {case_id}: {err[:200]}")

    print("\nwall time over the corpus (each tool, one account after the other):")
    timing_rows = []
    for tool in ran:
        extra = ""
        if tool == "prowler":
            scan = sum(a["prowler"].get("scanSeconds") or 0 for a in per_account.values())
            extra = f"from its provider start to the end of its checks (its log): {scan:.1f}s"
            isolate = [a["prowler"]["isolation"] for a in per_account.values() if "isolation" in a["prowler"]]
            if isolate and args.no_isolate:
                extra += "; its crashing checks not isolated (--no-isolate)"
            elif isolate:
                spent, runs_ = sum(i["seconds"] for i in isolate), sum(i["runs"] for i in isolate)
                extra += f"; + {spent:.0f}s in {runs_} runs isolating its crashing checks (not counted)"
        if tool == "c7n":
            retry = sum(a["c7n"].get("retry", {}).get("seconds", 0) for a in per_account.values())
            extra = f"+ {retry:.1f}s re-running failed policies per bucket (not counted)" if retry else ""
        ratio = seconds[tool] / seconds["ours"] if seconds["ours"] else float("nan")
        timing_rows.append([tool, seconds[tool], f"{ratio:.1f}x", extra])
    print(table(["tool", "seconds", "vs ours", "note"], timing_rows))

    versions = {"prowler": prowler_version(prowler) if prowler else None}
    summary: dict[str, Any] = {
        "bench": "peers",
        "machine": machine(),
        "suffix": suffix,
        "sharedAccount": shared,
        "cases": len(targets),
        "built": len(built),
        "skippedNotOnLocalStack": skipped,
        "accounts": len(by_account),
        "buildSeconds": round(build_seconds, 2),
        "seconds": {t: round(seconds[t], 2) for t in ran},
        "versions": versions,
        "agreement": result["rows"],
        "totals": totals,
        "disagreements": result["disagreements"],
        "buildErrors": errors,
        "perAccount": per_account,
        "verdicts": {
            t.case.id: {
                "bucket": t.bucket,
                "account": t.account,
                "label": t.case.expected,
                **t.verdicts,
                **({"errors": t.errors} if t.errors else {}),
            }
            for t in targets
        },
        "prowlerMapping": {c: list(v) for c, v in prowler_map.control_checks().items()},
        "c7nPolicies": c7n_policies(controls),
        "deletedBuckets": deleted,
    }
    path = write_result("peers", summary)
    print(f"(full figures: {path.relative_to(ROOT)})")
    line = {
        "bench": "peers",
        "cases": len(built),
        "seconds": summary["seconds"],
        "agreePct": {r["control"]: {t: r[t]["pct"] if r[t] else NA for t in TOOLS} for r in result["rows"]},
        "totals": totals,
        "disagreements": dict(Counter(d["tool"] for d in result["disagreements"])),
    }
    print(json.dumps(line))
    return 0


def _control_order(control: str) -> tuple[bool, tuple[int, ...]]:
    standard, _, number = control.partition(":")
    return standard != "FSBP", tuple(int(x) for x in re.findall(r"\d+", number))


if __name__ == "__main__":
    sys.exit(main())
