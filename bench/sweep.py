"""A sweep of N buckets over 3 accounts through the API, against `secagent scan` and c7n-org.

Run: LOCALSTACK_PORT=4640 .venv/bin/python -u -m bench.sweep [--buckets 1000] [--repeats 2]

The stack must be deployed with the member accounts (`-c memberAccounts=... -c sweepExternalId=...`,
`-c sweepMaxConcurrency=N`) and the member stack deployed in each account (scripts/members.py).

Per repeat, interleaved (the order rotates each repeat):
  sweep     `POST /sweeps` (buckets of the accounts) -> `GET /sweeps/{id}` polled until it ends:
            wall time, resources/s, each parent state's duration (execution history), the three
            functions' billed durations (their REPORT log lines), the findings written, peak RSS of
            LocalStack + its Lambda processes;
  scan      `secagent.scan.domain.scan()` in process, one account after the other (each with that
            account's session), summed;
  c7n-org   `c7n-org run` over the same accounts (a profile per account in a temporary AWS config)
            with the S3 policies of bench/scan.py, its cache cold each run, process start-up included.
The buckets `bsweep-NNNN` (and one log target per account) are created once, spread round-robin
over the accounts with bench/scan.py's mix of misconfigurations, and tagged so later runs reuse them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from bench._common import (
    C7N_VENV,
    ENDPOINT,
    RESULTS,
    ROOT,
    RssSampler,
    client,
    ensure_c7n,
    machine,
    median,
    now,
    percentile,
    stack_outputs,
    table,
    tool_env,
    write_result,
)
from bench.scan import CONTROLS, Spec, c7n_policies, specs
from bench.scan import _slug as control_slug
from bench.scan import configure as configure_bucket
from scripts.members import HUB_ACCOUNT, account_session
from secagent.aws import client_factory
from secagent.models import AgentSettings
from secagent.scan.domain import DEFAULT_CONCURRENCY, scan
from secagent.sweep.report import findings_index_key
from secagent.sweep.store import read_results
from secagent.workflow.store import read_object
from tests.deployed import requester_api

PREFIX = "bsweep-"
MARK = ("bench-sweep", "v1")
MEMBERS = ("111111111111", "222222222222", "333333333333")
BUCKET_TYPE = "AWS::S3::Bucket"
SWEEP_TOOLS = ("ListResources", "ScanResource", "WritePostureReport")


# ---- the buckets ----------------------------------------------------------------------------------


def log_target(account: str) -> str:
    """Logging targets must be in the bucket's own account (LocalStack checks it; names are global)."""
    return f"{PREFIX}logs-{account}"


def placed_specs(count: int, accounts: list[str]) -> list[tuple[str, Spec]]:
    """bench/scan.py's deterministic mix, renamed `bsweep-NNNN`, round-robin over the accounts."""
    return [
        (accounts[i % len(accounts)], replace(spec, name=f"{PREFIX}{i:04d}"))
        for i, spec in enumerate(specs(count))
    ]


def s3_of(account: str, pool: int = 32) -> Any:
    return account_session(account).client(
        "s3",
        endpoint_url=ENDPOINT,
        config=Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=pool),
    )


def ensure_buckets(placed: list[tuple[str, Spec]], workers: int = 16) -> dict[str, Any]:
    """Create and configure the buckets a previous run did not (a tag marks each one done)."""
    started = now()
    clients = {account: s3_of(account) for account in {a for a, _ in placed}}
    existing = {account: {b["Name"] for b in s3.list_buckets()["Buckets"]} for account, s3 in clients.items()}
    for account, s3 in clients.items():
        if log_target(account) not in existing[account]:
            s3.create_bucket(Bucket=log_target(account))

    def done(account: str, spec: Spec) -> bool:
        if spec.name not in existing[account]:
            return False
        try:
            tags = clients[account].get_bucket_tagging(Bucket=spec.name)["TagSet"]
        except ClientError:
            return False
        return {"Key": MARK[0], "Value": MARK[1]} in tags

    def make(placed_spec: tuple[str, Spec]) -> None:
        account, spec = placed_spec
        s3 = clients[account]
        configure_bucket(s3, replace(spec, logging=False))  # its log target is per account
        if spec.logging:
            s3.put_bucket_logging(
                Bucket=spec.name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": log_target(account), "TargetPrefix": f"{spec.name}/"}
                },
            )
        s3.put_bucket_tagging(Bucket=spec.name, Tagging={"TagSet": [{"Key": MARK[0], "Value": MARK[1]}]})

    with ThreadPoolExecutor(workers) as pool:
        todo = [
            p for p, is_done in zip(placed, pool.map(lambda p: done(*p), placed), strict=True) if not is_done
        ]
        list(pool.map(make, todo))
    seconds = now() - started
    print(
        f"buckets: {len(placed)} bench buckets ready ({len(todo)} configured now, {seconds:.1f}s)", flush=True
    )
    return {"configuredNow": len(todo), "seconds": round(seconds, 1), "workers": workers}


# ---- the sweep through the API ----------------------------------------------------------------------


def _state_durations(sfn: Any, execution_arn: str) -> dict[str, float]:
    """Each parent state's seconds from its StateEntered to its StateExited event."""
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    entered: dict[str, datetime] = {}
    durations: dict[str, float] = {}
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif kind.endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            if name in entered:
                durations[name] = (event["timestamp"] - entered[name]).total_seconds()
    return durations


def _children(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """The map run's item counts and its child executions' durations."""
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:
        return {}
    run_arn = runs[0]["mapRunArn"]
    counts = sfn.describe_map_run(mapRunArn=run_arn).get("itemCounts", {})
    item_counts = {k: counts.get(k) for k in ("total", "succeeded", "failed", "timedOut", "aborted")}
    durations = []
    try:
        for page in sfn.get_paginator("list_executions").paginate(mapRunArn=run_arn):
            for execution in page["executions"]:
                if execution.get("stopDate"):
                    durations.append((execution["stopDate"] - execution["startDate"]).total_seconds())
    except ClientError as err:  # LocalStack 4.14: ListExecutions by mapRunArn answers InternalError
        return {"itemCounts": item_counts, "childDurations": f"not available: {err}"[:200]}
    return {
        "itemCounts": item_counts,
        "childExecutions": len(durations),
        "childSecondsMedian": round(median(durations), 3),
        "childSecondsP95": round(percentile(durations, 95), 3),
        "childSecondsSum": round(sum(durations), 1),
    }


def _lambda_durations(logs: Any, function_name: str, since_ms: int) -> dict[str, Any]:
    """Duration / billed duration / max memory from the function's REPORT log lines, when the
    Lambda executor writes them (AWS does); empty otherwise."""
    group = f"/aws/lambda/{function_name}"
    durations, max_memory = [], []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, startTime=since_ms, filterPattern="REPORT"
        ):
            for event in page["events"]:
                parts = dict(p.strip().split(": ", 1) for p in event["message"].split("\t") if ": " in p)
                if "Duration" in parts:
                    durations.append(float(parts["Duration"].split()[0]))
                if "Max Memory Used" in parts:
                    max_memory.append(float(parts["Max Memory Used"].split()[0]))
    except ClientError:
        return {}
    if not durations:
        return {}
    return {
        "invocations": len(durations),
        "durationMsMedian": round(median(durations), 1),
        "durationMsP95": round(percentile(durations, 95), 1),
        "durationMsSum": round(sum(durations)),
        "maxMemoryMiBMax": max(max_memory) if max_memory else None,
    }


def _sweep_functions() -> dict[str, str]:
    """The sweep's three functions (the stack outputs do not name them)."""
    names = [f["FunctionName"] for page in client("lambda").get_paginator("list_functions").paginate()
             for f in page["Functions"]]  # fmt: skip
    return {tool: n for tool in SWEEP_TOOLS for n in names if f"-Tools{tool}" in n}


def sweep_once(outputs: dict[str, str], accounts: list[str], timeout: float) -> tuple[dict[str, Any], dict]:
    api = requester_api(outputs)
    sfn = client("stepfunctions")
    since_ms = int(time.time() * 1000)
    with RssSampler() as rss:
        started = now()
        answer = api.start_sweep(accounts=accounts, resource_types=[BUCKET_TYPE])
        if not answer.ok:
            raise RuntimeError(f"POST /sweeps answered {answer.status}: {answer.body}")
        sweep_id = answer.body["sweepId"]
        status, polls = "RUNNING", 0
        while status == "RUNNING":
            if now() - started > timeout:
                raise TimeoutError(f"sweep {sweep_id} still running after {timeout:.0f} s")
            time.sleep(1.0)
            got = api.get_sweep(sweep_id)
            polls += 1
            if got.ok:
                status = got.body["status"]
                body = got.body
        wall = now() - started
    arn = outputs.get("SweepStateMachineArn", "").replace(":stateMachine:", ":execution:", 1) + f":{sweep_id}"
    described = sfn.describe_execution(executionArn=arn)
    resources = (body.get("summary") or {}).get("resources") or sum(a["resources"] for a in body["listing"])
    figures: dict[str, Any] = {
        "sweepId": sweep_id,
        "status": status,
        "seconds": round(wall, 2),
        "executionSeconds": round((described["stopDate"] - described["startDate"]).total_seconds(), 2),
        "resources": resources,
        "resourcesPerSecond": round(resources / wall, 2),
        "polls": polls,
        "summary": body.get("summary"),
        "states": {k: round(v, 2) for k, v in _state_durations(sfn, arn).items()},
        "map": _children(sfn, arn),
        "rss": rss.figures(),
    }
    logs = client("logs")
    figures["lambda"] = {
        tool: _lambda_durations(logs, name, since_ms) for tool, name in _sweep_functions().items()
    }
    hub = client_factory(account_session(HUB_ACCOUNT), endpoint_url=ENDPOINT)
    results = read_results(outputs["ReportBucketName"], sweep_id, hub)
    failing = {(r.account_id, r.resource.id): {f.check_id for f in r.failing} for r in results}
    figures["outcomes"] = dict(Counter(str(r.outcome) for r in results))
    index = read_object(outputs["ReportBucketName"], findings_index_key(sweep_id), hub)
    figures["findingsIndex"] = index  # failing findings and pages (of 100) per format: the cost model's
    return figures, failing


# ---- `secagent scan`, one account after the other ---------------------------------------------------


def scan_once(accounts: list[str], concurrency: int) -> tuple[dict[str, Any], dict]:
    per_account, failing, errors = {}, {}, []
    for account in accounts:
        result = scan(
            session=account_session(account),
            endpoint_url=ENDPOINT,
            settings=AgentSettings(),
            concurrency=concurrency,
        )
        per_account[account] = {
            "seconds": round(result.seconds, 2),
            "buckets": len(result.resources),
            "calls": result.requests,
        }
        for b in result.resources:
            failing[(account, b.resource.id)] = {f.check_id for f in b.failing()}
        errors += [f"{account}/{b.resource.id}: {b.error}" for b in result.errors][:5]
    seconds = sum(a["seconds"] for a in per_account.values())
    resources = sum(a["buckets"] for a in per_account.values())
    return {
        "seconds": round(seconds, 2),
        "resources": resources,
        "resourcesPerSecond": round(resources / seconds, 2),
        "calls": sum(a["calls"] for a in per_account.values()),
        "concurrency": concurrency,
        "accountsAtOnce": 1,
        "perAccount": per_account,
        "errors": errors,
    }, failing


# ---- c7n-org ------------------------------------------------------------------------------------------


def ensure_c7n_org() -> Path:
    """c7n-org in the same venv as Cloud Custodian (bench/.c7n-venv), installed on first use."""
    ensure_c7n()
    exe = C7N_VENV / "bin" / "c7n-org"
    if not exe.exists():
        print("installing c7n-org into bench/.c7n-venv (once)", flush=True)
        subprocess.run(
            [str(C7N_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", "c7n-org"],
            check=True,
        )
    return exe


def c7n_org_files(work: Path, accounts: list[str]) -> dict[str, str]:
    """accounts.yml (a profile per account), the AWS config and credentials files it names, the
    policies; returns the environment that points the AWS SDK at them."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "accounts.yml").write_text(
        json.dumps(
            {
                "accounts": [
                    {"account_id": a, "name": f"acct-{a}", "profile": f"bench-{a}", "regions": ["us-east-1"]}
                    for a in accounts
                ]
            },
            indent=1,
        )
    )
    (work / "credentials").write_text(
        "".join(f"[bench-{a}]\naws_access_key_id = {a}\naws_secret_access_key = test\n" for a in accounts)
    )
    (work / "config").write_text("".join(f"[profile bench-{a}]\nregion = us-east-1\n" for a in accounts))
    (work / "policies.yml").write_text(json.dumps({"policies": c7n_policies()}, indent=1))
    env = tool_env()
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(key, None)
    env.update(
        AWS_CONFIG_FILE=str(work / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "credentials"),
        AWS_ENDPOINT_URL=ENDPOINT,
    )
    return env


def c7n_org_once(
    exe: Path, work: Path, accounts: list[str], env: dict[str, str]
) -> tuple[dict[str, Any], dict]:
    out, cache = work / "out", work / "cache"
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    started = now()
    proc = subprocess.run(
        [str(exe), "run", "-c", str(work / "accounts.yml"), "-s", str(out), "-u", str(work / "policies.yml"),
         "-r", "us-east-1", "--cache-path", str(cache)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    seconds = now() - started
    (work / "c7n-org-last.log").write_text(proc.stdout + proc.stderr)
    matched: dict[str, set[tuple[str, str]]] = {c: set() for c in CONTROLS}
    missing = []
    for account in accounts:
        for control in CONTROLS:
            found = out / f"acct-{account}" / "us-east-1" / control_slug(control) / "resources.json"
            if not found.exists():
                missing.append(f"acct-{account}/{control_slug(control)}")
                continue
            matched[control] |= {(account, r["Name"]) for r in json.loads(found.read_text())}
    errors = [
        ln for ln in proc.stderr.splitlines() if "ERROR" in ln or "Traceback" in ln or "Error running" in ln
    ]
    return {
        "seconds": round(seconds, 2),
        "returncode": proc.returncode,
        "workers": min(int(env.get("C7N_ORG_PARALLEL", (os.cpu_count() or 1) * 4)), len(accounts)),
        "missingOutputs": missing[:10],
        "errors": errors[:10],
    }, matched


# ---- agreement --------------------------------------------------------------------------------------------


def agreement(
    bench: set[tuple[str, str]],
    sweep_failing: dict,
    scan_failing: dict,
    c7n_matched: dict[str, set[tuple[str, str]]],
) -> list[dict[str, Any]]:
    """Per control, the bench buckets each tool finds failing, and where sweep and the others differ."""
    rows = []
    for control, (_, check_ids) in CONTROLS.items():
        by_sweep = {k for k in bench if sweep_failing.get(k, set()) & check_ids}
        by_scan = {k for k in bench if scan_failing.get(k, set()) & check_ids}
        by_c7n = c7n_matched.get(control, set()) & bench
        rows.append(
            {
                "control": control,
                "sweep": len(by_sweep),
                "scan": len(by_scan),
                "c7nOrg": len(by_c7n),
                "sweepVsScanDiffer": len(by_sweep ^ by_scan),
                "sweepVsC7nDiffer": len(by_sweep ^ by_c7n),
                "examples": sorted(f"{a}/{b}" for a, b in by_sweep ^ by_c7n)[:3],
            }
        )
    return rows


# ---- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.sweep")
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--accounts", default=",".join(MEMBERS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY, help="of `secagent scan`")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--no-c7n", action="store_true")
    parser.add_argument(
        "--label", default="", help="recorded with the figures (e.g. the deploy's MaxConcurrency)"
    )
    args = parser.parse_args()
    accounts = [a.strip() for a in args.accounts.split(",") if a.strip()]

    placed = placed_specs(args.buckets, accounts)
    setup = ensure_buckets(placed)
    bench = {(account, spec.name) for account, spec in placed}
    outputs = stack_outputs()
    max_concurrency = _map_max_concurrency(outputs)
    c7n_org = None if args.no_c7n else ensure_c7n_org()
    work = RESULTS / "sweep-work"
    env = c7n_org_files(work, accounts) if c7n_org else {}

    for account in accounts:  # warm-up of the in-process scan: imports, registry, first answers
        scan([log_target(account)], session=account_session(account), endpoint_url=ENDPOINT, concurrency=2)

    runs: list[dict[str, Any]] = []
    sweep_failing: dict = {}
    scan_failing: dict = {}
    c7n_matched: dict = {}
    for repeat in range(args.repeats):
        order = ["sweep", "scan", "c7n-org"] if c7n_org else ["sweep", "scan"]
        order = order[repeat % len(order) :] + order[: repeat % len(order)]
        run: dict[str, Any] = {"repeat": repeat + 1, "order": order}
        for what in order:
            if what == "sweep":
                run["sweep"], sweep_failing = sweep_once(outputs, accounts, args.timeout)
            elif what == "scan":
                run["scan"], scan_failing = scan_once(accounts, args.concurrency)
            else:
                assert c7n_org
                run["c7nOrg"], c7n_matched = c7n_org_once(c7n_org, work, accounts, env)
            print(f"  repeat {repeat + 1}: {what} {run[_key(what)]['seconds']:.1f}s", flush=True)
        run["sweepOverScan"] = round(run["sweep"]["seconds"] / run["scan"]["seconds"], 2)
        if "c7nOrg" in run:
            run["sweepOverC7nOrg"] = round(run["sweep"]["seconds"] / run["c7nOrg"]["seconds"], 2)
        runs.append(run)

    summary: dict[str, Any] = {
        "bench": "sweep",
        "label": args.label,
        "machine": machine(),
        "buckets": {"bench": len(placed), "accounts": accounts, "setup": setup},
        "mapMaxConcurrency": max_concurrency,
        "runs": runs,
        "median": {
            "sweepSeconds": median([r["sweep"]["seconds"] for r in runs]),
            "sweepResourcesPerSecond": median([r["sweep"]["resourcesPerSecond"] for r in runs]),
            "scanSeconds": median([r["scan"]["seconds"] for r in runs]),
            "sweepOverScan": median([r["sweepOverScan"] for r in runs]),
            "peakRssMiB": max(r["sweep"]["rss"]["peakTotalMiB"] for r in runs),
        },
        "agreement": agreement(bench, sweep_failing, scan_failing, c7n_matched) if c7n_org else None,
    }
    if c7n_org:
        summary["median"]["c7nOrgSeconds"] = median([r["c7nOrg"]["seconds"] for r in runs])
        summary["median"]["sweepOverC7nOrg"] = median([r["sweepOverC7nOrg"] for r in runs])
    _print(summary, args)
    path = write_result("sweep", summary)
    print(f"(full figures: {path.relative_to(ROOT)})")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, default=str))
    return 0


def _key(what: str) -> str:
    return {"sweep": "sweep", "scan": "scan", "c7n-org": "c7nOrg"}[what]


def _map_max_concurrency(outputs: dict[str, str]) -> int | None:
    arn = outputs.get("SweepStateMachineArn")
    if not arn:
        return None
    definition = json.loads(client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"])
    return definition["States"]["Scan Each Resource"].get("MaxConcurrency")


def _print(summary: dict[str, Any], args: argparse.Namespace) -> None:
    runs = summary["runs"]
    print()
    print(
        f"sweep of {len(summary['buckets']['accounts'])} accounts, "
        f"{summary['buckets']['bench']} bench buckets, map MaxConcurrency {summary['mapMaxConcurrency']}, "
        f"scan concurrency {args.concurrency}"
    )
    rows = []
    for r in runs:
        s = r["sweep"]
        rows.append(
            [f"{r['repeat']} sweep (API)", s["seconds"], s["resources"], s["resourcesPerSecond"],
             s["rss"]["peakTotalMiB"], "-"]
        )  # fmt: skip
        rows.append(
            [f"{r['repeat']} secagent scan", r["scan"]["seconds"], r["scan"]["resources"],
             r["scan"]["resourcesPerSecond"], "-", f"sweep/scan {r['sweepOverScan']}x"]
        )  # fmt: skip
        if "c7nOrg" in r:
            rows.append(
                [f"{r['repeat']} c7n-org", r["c7nOrg"]["seconds"], "-", "-", "-",
                 f"sweep/c7n-org {r['sweepOverC7nOrg']}x"]
            )  # fmt: skip
    print(table(["run", "seconds", "resources", "resources/s", "peak RSS MiB", "ratio"], rows))
    print()
    state_rows = []
    for r in runs:
        s = r["sweep"]
        scan_fn = s.get("lambda", {}).get("ScanResource", {})
        state_rows.append(
            [r["repeat"], s["states"].get("List Resources", "-"), s["states"].get("Scan Each Resource", "-"),
             s["states"].get("Write Posture Report", "-"), scan_fn.get("durationMsMedian", "-"),
             scan_fn.get("durationMsP95", "-"), s["rss"]["peakLambdaProcesses"]]
        )  # fmt: skip
    print(
        table(
            ["repeat", "List Resources s", "Map s", "Write Posture Report s", "ScanResource p50 ms",
             "ScanResource p95 ms", "peak processes"],
            state_rows,
        )
    )  # fmt: skip
    if summary["agreement"]:
        print()
        print(
            table(
                ["control", "sweep FAIL", "scan FAIL", "c7n-org FAIL", "sweep/scan differ",
                 "sweep/c7n differ"],
                [[a["control"], a["sweep"], a["scan"], a["c7nOrg"], a["sweepVsScanDiffer"],
                  a["sweepVsC7nDiffer"]] for a in summary["agreement"]],
            )
        )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
