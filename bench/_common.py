"""Shared by the benches: which LocalStack, clients, machine figures, memory sampling, output."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PORT = os.environ.get("LOCALSTACK_PORT", "4566")
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{PORT}"
STATE_DIR = ROOT / (".localstack" if PORT == "4566" else f".localstack-{PORT}")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

# What scripts/localstack-env.sh exports; the benches' children (c7n, `secagent scan`) inherit it.
os.environ.setdefault("AWS_ENDPOINT_URL", ENDPOINT)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


def session() -> boto3.Session:
    return boto3.Session(region_name=REGION)


def client(service: str, pool: int = 20, session_: boto3.Session | None = None) -> Any:
    return (session_ or session()).client(
        service,
        endpoint_url=ENDPOINT,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=pool),
    )


def stack_outputs() -> dict[str, str]:
    stack = client("cloudformation").describe_stacks(StackName="SecurityAgent")["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# ---- statistics and output ------------------------------------------------------------------


def percentile(samples: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(1, round(p / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[_fmt(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(data, indent=2))
    return path


# ---- the machine ----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    meminfo = dict(
        line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line
    )
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {
        "cores": os.cpu_count(),
        "memTotalMiB": int(meminfo["MemTotal"].split()[0]) // 1024,
        "memAvailableMiB": int(meminfo["MemAvailable"].split()[0]) // 1024,
        "loadAvg1m": float(load[0]),
        "endpoint": ENDPOINT,
    }


def localstack_pid() -> int | None:
    pid_file = STATE_DIR / "localstack.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if Path(f"/proc/{pid}").exists() else None


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> tuple[int, int, int]:
    """(LocalStack's own RSS KiB, its descendants' RSS KiB, number of descendants)."""
    tree = _children()
    stack, descendants = list(tree.get(root, [])), []
    while stack:
        pid = stack.pop()
        descendants.append(pid)
        stack.extend(tree.get(pid, []))
    return _rss_kib(root), sum(_rss_kib(p) for p in descendants), len(descendants)


class RssSampler:
    """Samples the RSS of the LocalStack process tree (LocalStack + its Lambda processes) in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self.pid = localstack_pid()
        self.interval = interval
        self.peak_total = self.peak_main = self.peak_children = self.peak_processes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        if self.pid:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        assert self.pid
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        if not self.pid:
            return
        main, children, count = tree_rss(self.pid)
        self.samples += 1
        self.peak_main = max(self.peak_main, main)
        self.peak_children = max(self.peak_children, children)
        self.peak_processes = max(self.peak_processes, count)
        self.peak_total = max(self.peak_total, main + children)

    def figures(self) -> dict[str, Any]:
        mib = 1024
        return {
            "localstackPid": self.pid,
            "peakTotalMiB": round(self.peak_total / mib, 1),
            "peakLocalStackMiB": round(self.peak_main / mib, 1),
            "peakLambdaProcessesMiB": round(self.peak_children / mib, 1),
            "peakLambdaProcesses": self.peak_processes,
            "samples": self.samples,
        }


def now() -> float:
    return time.perf_counter()


# ---- peer tools in their own venvs (never project dependencies) --------------------------------

C7N_VENV = ROOT / "bench" / ".c7n-venv"
PROWLER_VENV = ROOT / "bench" / ".prowler-venv"
# Put on PYTHONPATH of the peer tools' processes: a sitecustomize that makes S3 Control reachable on
# a plain-IP endpoint (see its docstring). Nothing else in them is changed.
LOCALSTACK_SHIM = ROOT / "bench" / "localstack_shim"


def ensure_venv(venv: Path, package: str, executable: str) -> Path:
    """`venv/bin/<executable>`, installing `package` into a new venv at `venv` on first use."""
    exe = venv / "bin" / executable
    if not exe.exists():
        print(f"installing {package} into {venv.relative_to(ROOT)} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", package],
            check=True,
        )
    return exe


def ensure_c7n() -> Path:
    return ensure_venv(C7N_VENV, "c7n", "custodian")


def tool_env(access_key: str | None = None) -> dict[str, str]:
    """The environment of a peer tool's process: this LocalStack, the account of `access_key`
    (a 12-digit key id selects that account there), the S3 Control shim."""
    env = dict(os.environ)
    if access_key:
        env["AWS_ACCESS_KEY_ID"] = access_key
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(LOCALSTACK_SHIM), env.get("PYTHONPATH")) if p)
    return env


@dataclass
class CustodianRun:
    seconds: float
    returncode: int
    resources: dict[str, list[dict[str, Any]] | None]  # policy name -> matched resources (None: no output)
    errors: list[str]
    log: Path


def run_custodian(
    custodian: Path,
    policies: list[dict[str, Any]],
    work: Path,
    *,
    env: dict[str, str] | None = None,
    region: str = "us-east-1",
    warm_cache: bool = False,
) -> CustodianRun:
    """`custodian run` of `policies` with a file cache shared by them, cold unless `warm_cache`
    (then what the previous run in `work` fetched is reused); process start-up included."""
    work.mkdir(parents=True, exist_ok=True)
    out, cache = work / "c7n-out", work / "c7n.cache"
    shutil.rmtree(out, ignore_errors=True)
    if not warm_cache:
        cache.unlink(missing_ok=True)
    policy_file = work / "c7n-policies.yml"
    policy_file.write_text(json.dumps({"policies": policies}, indent=1))  # JSON is YAML
    started = now()
    proc = subprocess.run(
        [str(custodian), "run", "-s", str(out), "--cache", str(cache), "--cache-period", "15",
         "-r", region, str(policy_file)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    seconds = now() - started
    log = work / "c7n-last.log"
    log.write_text(proc.stdout + proc.stderr)
    resources: dict[str, list[dict[str, Any]] | None] = {}
    for policy in policies:
        found = out / policy["name"] / "resources.json"
        resources[policy["name"]] = json.loads(found.read_text()) if found.exists() else None
    errors = [line for line in proc.stderr.splitlines() if "ERROR" in line or "Traceback" in line]
    return CustodianRun(seconds, proc.returncode, resources, errors[:20], log)


def _noop_zip(code: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("noop.py", date_time=(1980, 1, 1, 0, 0, 0)), code)  # same bytes each run
    return buf.getvalue()


def ensure_noop_function(
    name: str,
    code: str,
    *,
    services: Sequence[str] = ("lambda.amazonaws.com",),
    timeout: int = 30,
    memory: int = 128,
) -> tuple[str, str]:
    """A benches' baseline: the Python function `name` running `code` (`noop.handler`) and its role,
    trusted by `services`; made again when an earlier run left other code. (function ARN, role ARN)"""
    iam, lam = client("iam"), client("lambda")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            for service in services
        ],
    }
    try:
        role = iam.get_role(RoleName=f"{name}-role")["Role"]["Arn"]
    except ClientError:
        role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
    package = _noop_zip(code)
    try:
        found = lam.get_function(FunctionName=name)["Configuration"]
    except ClientError:
        found = None
    if (
        found is not None
        and found["CodeSha256"] != base64.b64encode(hashlib.sha256(package).digest()).decode()
    ):
        lam.delete_function(FunctionName=name)  # an earlier bench's code: made again (same ARN)
        found = None
    if found is not None:
        return found["FunctionArn"], role
    arn = lam.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Handler="noop.handler",
        Role=role,
        Code={"ZipFile": package},
        Timeout=timeout,
        MemorySize=memory,
    )["FunctionArn"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return arn, role
