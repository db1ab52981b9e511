"""Shared by the benches: which LocalStack, clients, machine figures, memory sampling, output."""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

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
