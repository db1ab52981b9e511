"""The audit API under load: POST /audits latency, GET /audits/{id} throughput with 32 clients.

Run: LOCALSTACK_PORT=4640 .venv/bin/python -m bench.api [--posts 20] [--clients 32] [--rate 50]
                                                        [--seconds 10] [--warmup 5] [--rounds 2]

Needs the default deployment (`LOCALSTACK_PORT=4640 scripts/deploy.sh`). In the same run the bench
deploys (boto3, not CDK) its baseline: `secagent-bench-api-noop`, a REST API whose `/noop` route
(GET and POST, IAM authorization like ours) is a Lambda proxy to a no-op python3.13 function that
answers `200` with a body of `?bytes=N` bytes. Every request to it is signed the way ours are
(SigV4, and an identity proof on POST) and its GET answer is as large as the audits', so the ratio
ours / no-op is what the API's own work costs over API Gateway -> Lambda on this machine. A second
floor: a bare DescribeExecution loop with as many threads (no API, no Lambda).

Figures (bench/README.md, "api"):
  POST /audits   one plan-mode audit at a time, each of its own bucket (`bapi-post-NNN`, created
                 once), each right after a no-op POST; each audit is left to end before the next
                 POST, so none runs beside the measurement; one warm-up POST of each first.
                 Median and p95, ratio to the no-op.
  GET /audits/{id}   `--clients` threads for `--seconds` after a warm-up of the same load (every
                 Lambda environment the load needs is started before it is measured), back to back
                 (the most answered) and paced at `--rate` requests/s in all: requests/s, p50, p95,
                 non-200 answers, and the SYNs the machine's full listen queues dropped meanwhile.
                 Targets: a running audit (remediate mode, waiting at the approval gate:
                 `bapi-running`, reused across runs) and a finished one (plan mode, SUCCEEDED:
                 `bapi-finished`); the no-op GET and the DescribeExecution loop are the floors.
                 Rounds interleave them: no-op, running, finished, describe.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from bench._common import (
    ENDPOINT,
    REGION,
    ROOT,
    client,
    ensure_noop_function,
    machine,
    median,
    now,
    percentile,
    session,
    stack_outputs,
    table,
    write_result,
)
from secagent.client import AuditApiClient

NOOP = "secagent-bench-api-noop"
NOOP_CODE = """
import json


def handler(event, context):
    # ?bytes=N: an answer of about N bytes (as large as the audit's), so the ratio leaves out what
    # carrying the answer through API Gateway costs
    size = int((event.get("queryStringParameters") or {}).get("bytes") or 0)
    body = json.dumps({"pad": "x" * max(0, size - 10)})
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": body}
"""
POST_BUCKETS = "bapi-post-{:03d}"
RUNNING_BUCKET = "bapi-running"
FINISHED_BUCKET = "bapi-finished"
BPA_OFF = dict.fromkeys(
    ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], False
)
ENDED = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


# ---- the baseline: API Gateway -> a no-op Lambda ----------------------------------------------


def ensure_noop_api() -> str:
    """The no-op function and its REST API (GET and POST /noop, IAM authorization); its base URL."""
    apigw = client("apigateway")
    fn, _ = ensure_noop_function(NOOP, NOOP_CODE, timeout=10, memory=256)  # the API function's memory
    api_id = next((a["id"] for a in apigw.get_rest_apis(limit=500)["items"] if a["name"] == NOOP), None)
    if api_id is None:
        api_id = apigw.create_rest_api(name=NOOP, endpointConfiguration={"types": ["REGIONAL"]})["id"]
        root = next(r["id"] for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        resource = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="noop")["id"]
        uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{fn}/invocations"
        for method in ("GET", "POST"):
            apigw.put_method(
                restApiId=api_id, resourceId=resource, httpMethod=method, authorizationType="AWS_IAM"
            )
            apigw.put_integration(
                restApiId=api_id,
                resourceId=resource,
                httpMethod=method,
                type="AWS_PROXY",
                integrationHttpMethod="POST",
                uri=uri,
            )
        apigw.create_deployment(restApiId=api_id, stageName="v1")
    return f"{ENDPOINT}/_aws/execute-api/{api_id}/v1"


# ---- buckets and audits -----------------------------------------------------------------------


def ensure_bucket(s3: Any, name: str, *, public: bool = False) -> None:
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as err:
        if err.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
        return
    if public:  # failing checks, so a remediate audit has plans to wait on
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=BPA_OFF)
        statement = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{name}/*",
        }
        s3.put_bucket_policy(
            Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        )


def wait_status(api: AuditApiClient, audit_id: str, wanted: set[str], timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = api.get_audit(audit_id)
        if answer.status == 200 and answer.body["status"] in wanted:
            return dict(answer.body)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"audit {audit_id} not {wanted} after {timeout}s: {answer.status} {answer.body}"
            )
        time.sleep(0.2)


def wait_ended(sfn: Any, execution_arn: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(sfn.describe_execution(executionArn=execution_arn)["status"])
        if status in ENDED:
            return status
        time.sleep(0.1)
    raise TimeoutError(f"{execution_arn} still running after {timeout}s")


def running_audit(api: AuditApiClient) -> str:
    """An audit waiting at the approval gate (for a week): the one of an earlier run, or a new one."""
    started = api.start_audit(RUNNING_BUCKET, mode="remediate", approval_timeout_seconds=604800)
    if started.status == 409:  # an earlier run's audit still waits: follow that one
        audit_id = str(started.body["runningAuditId"])
    elif started.status == 202:
        audit_id = str(started.body["auditId"])
    else:
        raise RuntimeError(f"POST /audits answered {started.status}: {started.body}")
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    return audit_id


def finished_audit(api: AuditApiClient) -> str:
    started = api.start_audit(FINISHED_BUCKET, mode="plan")
    if started.status != 202:
        raise RuntimeError(f"POST /audits answered {started.status}: {started.body}")
    audit_id = str(started.body["auditId"])
    body = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    if body["status"] != "SUCCEEDED":
        raise RuntimeError(f"audit {audit_id} ended {body['status']}: {body.get('failure')}")
    return audit_id


# ---- POST /audits -----------------------------------------------------------------------------


def bench_posts(
    api: AuditApiClient, noop: AuditApiClient, sfn: Any, machine_arn: str, n: int
) -> dict[str, Any]:
    s3 = client("s3", pool=16)
    names = [POST_BUCKETS.format(i) for i in range(n + 1)]  # the first one warms
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: ensure_bucket(s3, name), names))
    executions = machine_arn.replace(":stateMachine:", ":execution:")
    ours: list[float] = []
    base: list[float] = []
    body = {"resource": {"type": "AWS::S3::Bucket", "id": "bapi-noop"}, "mode": "plan"}
    noop.request("POST", "/noop", body)  # cold starts are not measured (as in bench.e2e)
    warm = api.start_audit(names[0], mode="plan")
    if warm.status == 202:
        wait_ended(sfn, f"{executions}:{warm.body['auditId']}")
    for name in names[1:]:
        started = now()
        answer = noop.request("POST", "/noop", body)
        base.append(now() - started)
        if answer.status != 200:
            raise RuntimeError(f"no-op POST answered {answer.status}: {answer.body}")
        started = now()
        answer = api.start_audit(name, mode="plan")
        ours.append(now() - started)
        if answer.status != 202:
            raise RuntimeError(f"POST /audits {name} answered {answer.status}: {answer.body}")
        wait_ended(sfn, f"{executions}:{answer.body['auditId']}")  # nothing runs beside the next POST
    return {
        "n": n,
        "ours": {"median": median(ours), "p95": percentile(ours, 95), "samples": ours},
        "noop": {"median": median(base), "p95": percentile(base, 95), "samples": base},
        "ratioMedian": round(median(ours) / median(base), 2),
        "ratioP95": round(percentile(ours, 95) / percentile(base, 95), 2),
    }


# ---- GET under load ---------------------------------------------------------------------------


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    syns_dropped: int = 0  # connection attempts a full listen queue dropped meanwhile (whole machine)

    def figures(self) -> dict[str, Any]:
        done = len(self.latencies)
        return {
            "requests": done,
            "perSecond": round(done / self.seconds, 1) if self.seconds else 0.0,
            "p50": percentile(self.latencies, 50),
            "p95": percentile(self.latencies, 95),
            "over1s": sum(x > 1.0 for x in self.latencies),
            "synsDropped": self.syns_dropped,
            "errors": dict(self.errors),
        }


def listen_overflows() -> int:
    """TcpExt ListenOverflows of the machine: a connection whose SYN found the listen queue full is
    retried by the client 1 s later (then 3 s): LocalStack answers `Connection: close`, so every call
    is a new connection, and its gateway's queue holds 100."""
    lines = Path("/proc/net/netstat").read_text().splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split(), values.split(), strict=True)).get("ListenOverflows", 0))
    return 0


def hammer(
    make: Callable[[], Callable[[], str | None]], clients: int, seconds: float, rate: float | None = None
) -> Load:
    """`clients` threads call their own `make()`d request for `seconds`: back to back (`rate` None:
    the most the system answers), or each at `rate / clients` per second from a random phase, a
    slot missed while the last request was out skipped (then fewer than `rate` per second are
    answered: saturated). A request answers None when fine, else an error label; latencies count
    the requests answered within the window."""
    load = Load()
    lock = threading.Lock()
    stop = threading.Event()
    barrier = threading.Barrier(clients + 1)
    interval = clients / rate if rate else 0.0

    def worker(phase: float) -> None:
        call = make()
        barrier.wait()
        due = now() + phase * interval
        while not stop.is_set():
            if interval:
                if stop.wait(max(0.0, due - now())):
                    return
                due += interval * max(1, math.ceil((now() - due) / interval))
            started = now()
            try:
                problem = call()
            except Exception as err:
                problem = type(err).__name__
            took = now() - started
            with lock:
                if stop.is_set():
                    return  # answered after the window: not counted
                if problem is None:
                    load.latencies.append(took)
                else:
                    load.errors[problem] = load.errors.get(problem, 0) + 1

    phases = random.Random(7)
    threads = [threading.Thread(target=worker, args=(phases.random(),), daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started, overflows = now(), listen_overflows()
    time.sleep(seconds)
    with lock:
        stop.set()
        load.seconds = now() - started
        load.syns_dropped = listen_overflows() - overflows
    for t in threads:
        t.join(timeout=60)
    return load


def api_get(base_url: str, path: str) -> Callable[[], Callable[[], str | None]]:
    def make() -> Callable[[], str | None]:
        own = AuditApiClient(base_url, session=session(), timeout=60)

        def call() -> str | None:
            answer = own.request("GET", path)
            return None if answer.status == 200 else str(answer.status)

        return call

    return make


def describe_loop(execution_arn: str, clients: int) -> Callable[[], Callable[[], str | None]]:
    sfn = client("stepfunctions", pool=clients)

    def make() -> Callable[[], str | None]:
        def call() -> str | None:
            sfn.describe_execution(executionArn=execution_arn)
            return None

        return call

    return make


NOOP_GET = "no-op GET (API Gateway -> Lambda)"
RUNNING_GET = "GET running audit"
FINISHED_GET = "GET finished audit"
DESCRIBE = "DescribeExecution loop"


def merged(loads: list[Load]) -> dict[str, Any]:
    joined = Load(
        latencies=[x for load in loads for x in load.latencies],
        seconds=sum(load.seconds for load in loads),
        syns_dropped=sum(load.syns_dropped for load in loads),
    )
    for load in loads:
        for k, v in load.errors.items():
            joined.errors[k] = joined.errors.get(k, 0) + v
    return joined.figures() | {"rounds": [load.figures() for load in loads]}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.api")
    parser.add_argument("--posts", type=int, default=20, help="POST /audits samples")
    parser.add_argument("--clients", type=int, default=32, help="concurrent GET clients")
    parser.add_argument(
        "--rate", type=float, default=50.0, help="the paced load: requests/s over all clients"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per GET load and round")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    outputs = stack_outputs()
    sfn = client("stepfunctions")
    s3 = client("s3")
    base_url = AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT).base_url
    api = AuditApiClient(base_url, session=session(), timeout=60)
    noop_url = ensure_noop_api()
    noop = AuditApiClient(noop_url, session=session(), timeout=60)
    ensure_bucket(s3, RUNNING_BUCKET, public=True)
    ensure_bucket(s3, FINISHED_BUCKET)

    print(f"POST /audits: {args.posts} plan-mode audits one at a time, each after a no-op POST", flush=True)
    posts = bench_posts(api, noop, sfn, outputs["StateMachineArn"], args.posts)

    running = running_audit(api)
    finished = finished_audit(api)
    execution = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{finished}"
    answers = [api.get_audit(audit_id).body for audit_id in (running, finished)]
    answer_bytes = round(sum(len(json.dumps(a)) for a in answers) / len(answers))
    targets: dict[str, Callable[[], Callable[[], str | None]]] = {
        NOOP_GET: api_get(noop_url, f"/noop?bytes={answer_bytes}"),
        RUNNING_GET: api_get(base_url, f"/audits/{running}"),
        FINISHED_GET: api_get(base_url, f"/audits/{finished}"),
        DESCRIBE: describe_loop(execution, args.clients),
    }
    # (target, rate): back to back (None) for all; paced at --rate for the API's three
    loads_of = [(name, None) for name in targets] + [
        (name, args.rate) for name in targets if name != DESCRIBE
    ]
    loads: dict[tuple[str, float | None], list[Load]] = {key: [] for key in loads_of}
    for r in range(args.rounds):
        for name, rate in loads_of:
            hammer(targets[name], args.clients, args.warmup, rate)
            load = hammer(targets[name], args.clients, args.seconds, rate)
            loads[(name, rate)].append(load)
            f = load.figures()
            print(
                f"round {r + 1} {name} {'at ' + str(rate) + '/s' if rate else 'back to back'}: "
                f"{f['perSecond']} req/s, p50 {f['p50']:.3f}s, p95 {f['p95']:.3f}s, "
                f"{f['over1s']} over 1 s, {f['synsDropped']} SYNs dropped"
                + (f", errors {f['errors']}" if f["errors"] else ""),
                flush=True,
            )
    most = {name: merged(loads[(name, None)]) for name in targets}
    paced = {name: merged(loads[(name, args.rate)]) for name in targets if name != DESCRIBE}
    ratios: dict[str, float] = {
        "postMedianOverNoop": posts["ratioMedian"],
        "postP95OverNoop": posts["ratioP95"],
    }
    for which, name in (("Running", RUNNING_GET), ("Finished", FINISHED_GET)):
        ratios[f"get{which}MostPerSecondOverNoop"] = round(
            most[name]["perSecond"] / most[NOOP_GET]["perSecond"], 2
        )
        ratios[f"get{which}PacedP95OverNoop"] = round(paced[name]["p95"] / paced[NOOP_GET]["p95"], 2)
    result = {
        "bench": "api",
        "machine": machine(),
        "clients": args.clients,
        "rate": args.rate,
        "secondsPerRound": args.seconds,
        "rounds": args.rounds,
        "post": {
            **posts,
            "ours": {k: v for k, v in posts["ours"].items() if k != "samples"},
            "noop": {k: v for k, v in posts["noop"].items() if k != "samples"},
        },
        "getBackToBack": most,
        "getPaced": paced,
        "ratio": ratios,
        "audits": {"running": running, "finished": finished},
        "noopAnswerBytes": answer_bytes,
    }
    print()
    print(f"POST /audits, {args.posts} samples (seconds)")
    print(
        table(
            ["", "median", "p95"],
            [
                ["POST /audits", posts["ours"]["median"], posts["ours"]["p95"]],
                ["no-op POST", posts["noop"]["median"], posts["noop"]["p95"]],
                ["ratio ours / no-op", posts["ratioMedian"], posts["ratioP95"]],
            ],
        )
    )
    print()
    print(
        f"GET, {args.clients} clients, {args.rounds} x {args.seconds:.0f}s each: back to back (the most "
        f"answered), and paced at {args.rate:.0f} requests/s in all (seconds)"
    )
    rows: list[list[Any]] = []
    for name in targets:
        m = most[name]
        p = paced.get(name)
        rows.append(
            [name, m["perSecond"], m["p50"], m["p95"]]
            + ([p["perSecond"], p["p50"], p["p95"]] if p else ["-", "-", "-"])
            + [sum(m["errors"].values()) + (sum(p["errors"].values()) if p else 0)]
            + [m["synsDropped"] + (p["synsDropped"] if p else 0)]
        )
    for which in ("Running", "Finished"):
        most_ratio, paced_ratio = (
            ratios[f"get{which}MostPerSecondOverNoop"],
            ratios[f"get{which}PacedP95OverNoop"],
        )
        rows.append([f"ratio {which.lower()} / no-op", most_ratio, "-", "-", "-", "-", paced_ratio, "-", "-"])
    headers = ["", "most req/s", "p50", "p95", "paced req/s", "p50", "p95", "errors", "SYNs dropped"]
    print(table(headers, rows))
    path = write_result("api", result)
    print(f"(full figures: {path.relative_to(ROOT)})")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
