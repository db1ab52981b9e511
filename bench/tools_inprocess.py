"""In-process timings: Analyze+Remediate on one snapshot; Discover on moto, concurrent vs sequential.

Run: .venv/bin/python bench/tools_inprocess.py [repeats]
"""

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[key]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from secagent.aws import ClientFactory, client_factory  # noqa: E402
from secagent.checks import analyze, list_checks  # noqa: E402
from secagent.discovery import discover_bucket  # noqa: E402
from secagent.models import AgentSettings, parse_snapshot  # noqa: E402
from secagent.remediation import plan_remediations  # noqa: E402

EVENTS = Path(__file__).resolve().parents[1] / "tests" / "events"


def timed(fn: Callable[[], object], repeats: int) -> dict[str, float]:
    fn()  # warm-up (imports, registry discovery)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return {"medianMs": round(statistics.median(samples), 3), "minMs": round(min(samples), 3), "n": repeats}


def with_latency(session: boto3.Session, seconds: float) -> ClientFactory:
    """Clients that wait ``seconds`` before each request: moto answers in-process with no network
    round trip, so this stands in for the ~20 ms an S3 API call takes over the network."""
    inner = client_factory(session)

    def make(service: str, region: str | None = None) -> object:
        client = inner(service, region)
        client.meta.events.register_first("before-send", lambda **_: time.sleep(seconds))
        return client

    return make


def main(repeats: int = 20) -> None:
    snapshot = parse_snapshot(json.loads((EVENTS / "analyze.json").read_text())["snapshot"])
    settings = AgentSettings(require_kms=True, access_log_bucket="central-logs")
    results = {
        "checks": len(list_checks()),
        "analyzePlusRemediate": timed(
            lambda: plan_remediations(snapshot, analyze(snapshot, settings), settings), repeats
        ),
    }
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("s3").create_bucket(Bucket="bench-bucket")
        results["discoverConcurrent"] = timed(lambda: discover_bucket("bench-bucket", session), repeats)
        results["discoverSequential"] = timed(
            lambda: discover_bucket("bench-bucket", session, concurrent=False), repeats
        )
        slow = with_latency(session, 0.02)
        results["discoverConcurrent20msLatency"] = timed(
            lambda: discover_bucket("bench-bucket", session, clients=slow), max(3, repeats // 4)
        )
        results["discoverSequential20msLatency"] = timed(
            lambda: discover_bucket("bench-bucket", session, clients=slow, concurrent=False),
            max(3, repeats // 4),
        )
    results["sequentialOverConcurrent20msLatency"] = round(
        results["discoverSequential20msLatency"]["medianMs"]
        / results["discoverConcurrent20msLatency"]["medianMs"],
        2,
    )
    results["sequentialOverConcurrent"] = round(
        results["discoverSequential"]["medianMs"] / results["discoverConcurrent"]["medianMs"], 2
    )
    print(f"{'measure':<32}{'median ms':>12}{'min ms':>10}")
    names = ("analyzePlusRemediate", "discoverConcurrent", "discoverSequential")
    for name in (*names, "discoverConcurrent20msLatency", "discoverSequential20msLatency"):
        print(f"{name:<32}{results[name]['medianMs']:>12.2f}{results[name]['minMs']:>10.2f}")
    print(f"{'sequential/concurrent':<32}{results['sequentialOverConcurrent']:>12.2f}x")
    print(f"{'seq/conc, 20 ms latency':<32}{results['sequentialOverConcurrent20msLatency']:>12.2f}x")
    print(json.dumps(results))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
