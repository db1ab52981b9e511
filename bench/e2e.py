"""20 audits in plan mode through the API, POST to report, against a no-op state machine of the same shape.

Run: LOCALSTACK_PORT=4640 .venv/bin/python -m bench.e2e [--audits 20]

Needs the default deployment (`LOCALSTACK_PORT=4640 scripts/deploy.sh`). In the same run the bench
deploys (boto3, not CDK) `SecurityAgentAuditBaseline`: statemachine/audit.asl.json with every Task
pointing at one no-op Lambda (python3.13) whose answer makes it take the same path in plan mode
(Discover, Analyze with summary.fail > 0, Propose Fixes, Plan Only? -> Write Report). Audits run
one at a time, baseline and ours interleaved, after one warm-up of each (cold starts excluded).

Figures per audit:
  POST to report   ours: POST /audits -> reports/{auditId}.json exists (polled every 50 ms);
  execution        startDate -> stopDate of the execution (both machines): the like-for-like
                   ratio, since the baseline has no API in front;
  step share       TaskStateEntered -> TaskStateExited per Task state, over the execution time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from collections import defaultdict
from typing import Any

from botocore.exceptions import ClientError

from bench._common import (
    ENDPOINT,
    ROOT,
    RssSampler,
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

BASELINE = "SecurityAgentAuditBaseline"
NOOP = "secagent-bench-noop"
TARGET = "be2e-target"
NOOP_CODE = """
def handler(event, context):
    # Enough of each tool's summary for the later states (secagent/models/state.py): Discover's
    # request in plan mode, Analyze's summary.fail > 0 sends the execution through Propose Fixes,
    # planCount 0 and mode plan end at Write Report.
    return {
        "request": {"mode": "plan", "approvalTimeoutSeconds": 3600},
        "checksRun": 2,
        "summary": {"pass": 1, "fail": 1, "unknown": 0, "exempt": 0},
        "planCount": 0,
        "unplanned": [],
        "outcome": "NON_COMPLIANT",
        "reportKey": "none",
    }
"""


def ensure_baseline() -> str:
    """The no-op function and the baseline state machine; returns the machine's ARN."""
    sfn = client("stepfunctions")
    fn, role = ensure_noop_function(
        NOOP, NOOP_CODE, services=("lambda.amazonaws.com", "states.amazonaws.com")
    )
    definition = (ROOT / "statemachine" / "audit.asl.json").read_text()
    # Every function the ASL names (${XFunctionArn}) becomes the no-op: same shape, no work.
    definition = re.sub(r"\$\{\w+FunctionArn\}", fn, definition)
    arn = f"arn:aws:states:us-east-1:000000000000:stateMachine:{BASELINE}"
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
        sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role)
    except ClientError:
        arn = sfn.create_state_machine(name=BASELINE, definition=definition, roleArn=role, type="STANDARD")[
            "stateMachineArn"
        ]
    return arn


def ensure_target() -> None:
    s3 = client("s3")
    try:
        s3.create_bucket(Bucket=TARGET)
    except ClientError as err:
        if err.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise
        return
    s3.put_public_access_block(
        Bucket=TARGET,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], False
        ),
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{TARGET}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=TARGET, Policy=json.dumps(policy))


def steps(sfn: Any, execution_arn: str) -> dict[str, float]:
    """Task state name -> seconds from TaskStateEntered to TaskStateExited."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    entered: dict[str, float] = {}
    out: dict[str, float] = defaultdict(float)
    for e in events:
        if e["type"] == "TaskStateEntered":
            entered[e["stateEnteredEventDetails"]["name"]] = e["timestamp"].timestamp()
        elif e["type"] == "TaskStateExited":
            name = e["stateExitedEventDetails"]["name"]
            out[name] += e["timestamp"].timestamp() - entered.pop(name)
    return dict(out)


def wait_execution(sfn: Any, arn: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    raise TimeoutError(f"{arn} still running after {timeout}s")


def run_baseline(sfn: Any, machine_arn: str) -> dict[str, Any]:
    body = {"resource": {"type": "AWS::S3::Bucket", "id": TARGET}, "mode": "plan", "requestedBy": "bench"}
    started = now()
    arn = sfn.start_execution(
        stateMachineArn=machine_arn, name=f"base-{uuid.uuid4()}", input=json.dumps(body)
    )["executionArn"]
    d = wait_execution(sfn, arn)
    wall = now() - started
    if d["status"] != "SUCCEEDED":
        raise RuntimeError(f"baseline execution {d['status']}: {d.get('error')} {d.get('cause')}")
    return {
        "wall": wall,
        "execution": (d["stopDate"] - d["startDate"]).total_seconds(),
        "steps": steps(sfn, arn),
    }


def run_ours(api: AuditApiClient, sfn: Any, s3: Any, outputs: dict[str, str]) -> dict[str, Any]:
    started = now()
    response = api.start_audit(TARGET, mode="plan")
    if response.status != 202:
        raise RuntimeError(f"POST /audits answered {response.status}: {response.body}")
    posted = now() - started
    audit_id = response.body["auditId"]
    key = f"reports/{audit_id}.json"
    deadline = time.monotonic() + 120
    while True:
        try:
            s3.head_object(Bucket=outputs["ReportBucketName"], Key=key)
            break
        except ClientError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no report for {audit_id} after 120s") from None
            time.sleep(0.05)
    to_report = now() - started
    arn = f"{outputs['StateMachineArn'].replace(':stateMachine:', ':execution:')}:{audit_id}"
    d = wait_execution(sfn, arn)
    if d["status"] != "SUCCEEDED":
        raise RuntimeError(f"audit {audit_id} {d['status']}: {d.get('error')} {d.get('cause')}")
    return {
        "wall": to_report,
        "post": posted,
        "execution": (d["stopDate"] - d["startDate"]).total_seconds(),
        "steps": steps(sfn, arn),
    }


def summarize(samples: list[dict[str, Any]]) -> dict[str, Any]:
    walls = [s["wall"] for s in samples]
    execs = [s["execution"] for s in samples]
    names = sorted(
        {n for s in samples for n in s["steps"]},
        key=lambda n: -median([s["steps"].get(n, 0) for s in samples]),
    )
    return {
        "n": len(samples),
        "wallMedian": median(walls),
        "wallP95": percentile(walls, 95),
        "executionMedian": median(execs),
        "executionP95": percentile(execs, 95),
        "steps": {
            n: {
                "medianSeconds": median([s["steps"].get(n, 0.0) for s in samples]),
                "share": median([s["steps"].get(n, 0.0) / s["execution"] for s in samples if s["execution"]]),
            }
            for n in names
        }
        | {
            "(between tasks)": {
                "medianSeconds": median([s["execution"] - sum(s["steps"].values()) for s in samples]),
                "share": median(
                    [1 - sum(s["steps"].values()) / s["execution"] for s in samples if s["execution"]]
                ),
            }
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.e2e")
    parser.add_argument("--audits", type=int, default=20)
    args = parser.parse_args()
    outputs = stack_outputs()
    sfn, s3 = client("stepfunctions"), client("s3")
    api = AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=session())
    baseline_arn = ensure_baseline()
    ensure_target()

    cold = {"baseline": run_baseline(sfn, baseline_arn), "ours": run_ours(api, sfn, s3, outputs)}
    base: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    with RssSampler() as rss:
        for i in range(args.audits):
            base.append(run_baseline(sfn, baseline_arn))
            ours.append(run_ours(api, sfn, s3, outputs))
            mine, theirs = ours[-1], base[-1]
            print(
                f"audit {i + 1:>2}: POST->report {mine['wall']:.2f}s, execution {mine['execution']:.2f}s;",
                end="",
            )
            print(f" baseline execution {theirs['execution']:.2f}s")
    b, o = summarize(base), summarize(ours)
    pairs = [x["execution"] / y["execution"] for x, y in zip(ours, base, strict=True) if y["execution"]]
    result = {
        "bench": "e2e",
        "machine": machine(),
        "audits": args.audits,
        "ours": o,
        "baseline": b,
        "ratio": {
            "executionMedian": round(o["executionMedian"] / b["executionMedian"], 2),
            "executionP95": round(o["executionP95"] / b["executionP95"], 2),
            "postToReportOverBaselineExecutionMedian": round(o["wallMedian"] / b["executionMedian"], 2),
            "pairedExecutionMedian": round(median(pairs), 2),
        },
        "postMedianSeconds": median([s["post"] for s in ours]),
        "cold": {"ours": cold["ours"]["wall"], "baseline": cold["baseline"]["execution"]},
        "rss": rss.figures(),
    }
    print()
    print(f"{args.audits} plan-mode audits, interleaved with the no-op baseline (seconds)")
    print(
        table(
            ["", "median", "p95"],
            [
                ["ours POST -> report", o["wallMedian"], o["wallP95"]],
                ["ours execution", o["executionMedian"], o["executionP95"]],
                ["baseline execution", b["executionMedian"], b["executionP95"]],
                [
                    "ratio ours / baseline (execution)",
                    result["ratio"]["executionMedian"],
                    result["ratio"]["executionP95"],
                ],
                [
                    "ratio POST->report / baseline",
                    result["ratio"]["postToReportOverBaselineExecutionMedian"],
                    "-",
                ],
            ],
        )
    )
    print()
    rows = []
    for name in o["steps"]:
        bs = b["steps"].get(name, {"medianSeconds": 0.0, "share": 0.0})
        rows.append([name, o["steps"][name]["medianSeconds"], f"{o['steps'][name]['share']:.0%}",
                     bs["medianSeconds"], f"{bs['share']:.0%}"])  # fmt: skip
    print(table(["step", "ours s", "ours share", "baseline s", "baseline share"], rows))
    paired = result["ratio"]["pairedExecutionMedian"]
    print(f"\nPOST /audits alone: median {result['postMedianSeconds']:.2f}s; paired ratio {paired}")
    path = write_result("e2e", result)
    print(f"(full figures: {path.relative_to(ROOT)})")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
