"""100 CreateBucket events on the bus at once: every bucket audited exactly once, every report written.

Run (the trigger in plan mode, so each audit ends with a report instead of waiting for approval):
    LOCALSTACK_PORT=4640 scripts/deploy.sh -c triggerMode=plan
    LOCALSTACK_PORT=4640 .venv/bin/python -m bench.burst [--buckets 100]

Creates `--buckets` new buckets (every 4th public: BPA off + a public policy; the rest private),
then puts one CloudTrail-shaped CreateBucket event per bucket on the default bus, 10 entries per
PutEvents call, all calls at once. Waits until each bucket has an execution of the audit state
machine that ended and its report `reports/{auditId}.json` exists (or, with a remediate-mode
trigger, waits at the approval gate), then a grace period for late duplicates, and counts:
executions per bucket (exactly one each), reports, time to drain, audits per minute, and the peak
RSS of LocalStack plus its Lambda processes (sampled every 250 ms from /proc).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from bench._common import ROOT, RssSampler, client, machine, now, stack_outputs, table, write_result

BPA_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def make_buckets(names: list[str]) -> None:
    s3 = client("s3", pool=16)

    def one(i_name: tuple[int, str]) -> None:
        i, name = i_name
        s3.create_bucket(Bucket=name)
        if i % 4 == 0:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=dict.fromkeys(BPA_KEYS, False)
            )
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{name}/*",
                    }
                ],
            }
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, enumerate(names)))


def event(name: str) -> dict[str, Any]:
    detail = {
        "eventVersion": "1.09",
        "eventSource": "s3.amazonaws.com",
        "eventName": "CreateBucket",
        "awsRegion": "us-east-1",
        "requestParameters": {"bucketName": name, "Host": f"{name}.s3.amazonaws.com"},
        "eventID": str(uuid.uuid4()),
        "eventType": "AwsApiCall",
    }
    return {
        "Source": "aws.s3",
        "DetailType": "AWS API Call via CloudTrail",
        "Detail": json.dumps(detail),
        "Resources": [f"arn:aws:s3:::{name}"],
    }


def put_all(names: list[str]) -> dict[str, Any]:
    events = client("events", pool=16)
    batches = [names[i : i + 10] for i in range(0, len(names), 10)]

    def put(batch: list[str]) -> int:
        return int(events.put_events(Entries=[event(n) for n in batch])["FailedEntryCount"])

    started = now()
    with ThreadPoolExecutor(len(batches)) as pool:
        failed = sum(pool.map(put, batches))
    return {"seconds": now() - started, "calls": len(batches), "failedEntries": failed}


def executions(sfn: Any, machine_arn: str, since: datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"stateMachineArn": machine_arn, "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        out.extend(e for e in page["executions"] if e["startDate"] >= since)
        if not page.get("nextToken"):
            return out
        kwargs["nextToken"] = page["nextToken"]


def bucket_of(sfn: Any, arn: str, cache: dict[str, str]) -> str:
    if arn not in cache:
        cache[arn] = json.loads(sfn.describe_execution(executionArn=arn)["input"])["resource"]["id"]
    return cache[arn]


def reports(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="reports/"):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def approvals(s3: Any, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="approvals/"):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.burst")
    parser.add_argument("--buckets", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--grace", type=float, default=20, help="seconds to watch for late duplicates")
    args = parser.parse_args()

    outputs = stack_outputs()
    machine_arn, report_bucket = outputs["StateMachineArn"], outputs["ReportBucketName"]
    sfn, s3 = client("stepfunctions", pool=16), client("s3", pool=16)
    run_id = uuid.uuid4().hex[:6]
    names = [f"bburst-{run_id}-{i:03d}" for i in range(args.buckets)]
    make_buckets(names)
    before_reports = reports(s3, report_bucket)
    before_approvals = approvals(s3, report_bucket)
    since = datetime.now(UTC).replace(microsecond=0)
    time.sleep(1)  # executions of this run start after `since` (second resolution)

    wanted = set(names)
    arn_bucket: dict[str, str] = {}
    timeline: list[tuple[float, int]] = []
    with RssSampler() as rss:
        started = now()
        put = put_all(names)
        done_at = last_report = None
        while now() - started < args.timeout:
            execs = [e for e in executions(sfn, machine_arn, since)]
            mine = {
                e["executionArn"]: e for e in execs if bucket_of(sfn, e["executionArn"], arn_bucket) in wanted
            }
            finished = {a for a, e in mine.items() if e["status"] != "RUNNING"}
            new_reports = reports(s3, report_bucket) - before_reports
            new_approvals = approvals(s3, report_bucket) - before_approvals
            # ended: stopped (with or without its report: counted below), or waiting at the approval gate
            ended = {
                a for a, e in mine.items() if a in finished or f"approvals/{e['name']}.json" in new_approvals
            }
            reported = {a for a, e in mine.items() if f"reports/{e['name']}.json" in new_reports}
            audited = {arn_bucket[a] for a in ended}
            timeline.append((now() - started, len(audited)))
            if len(reported) >= len(wanted) and last_report is None:
                last_report = now() - started
            if audited >= wanted:
                done_at = now() - started
                break
            time.sleep(0.5)
        if done_at is None:
            print(f"error: not drained after {args.timeout}s", file=sys.stderr)
        time.sleep(args.grace)  # late duplicates (EventBridge retries) would show here

    execs = [
        e
        for e in executions(sfn, machine_arn, since)
        if bucket_of(sfn, e["executionArn"], arn_bucket) in wanted
    ]
    per_bucket = Counter(arn_bucket[e["executionArn"]] for e in execs)
    statuses = Counter(e["status"] for e in execs)
    new_reports = reports(s3, report_bucket) - before_reports
    new_approvals = approvals(s3, report_bucket) - before_approvals
    names_of = {e["name"] for e in execs}
    my_reports = {k for k in new_reports if k.removeprefix("reports/").removesuffix(".json") in names_of}
    my_approvals = {
        k for k in new_approvals if k.removeprefix("approvals/").removesuffix(".json") in names_of
    }
    stops = [e["stopDate"] for e in execs if e.get("stopDate")]
    outcomes: Counter[str] = Counter()
    for key in sorted(my_reports)[:1000]:
        body = json.loads(s3.get_object(Bucket=report_bucket, Key=key)["Body"].read())
        outcomes[body.get("outcome", "?")] += 1
    result = {
        "bench": "burst",
        "machine": machine(),
        "buckets": args.buckets,
        "public": sum(1 for i in range(args.buckets) if i % 4 == 0),
        "putEvents": put,
        "drainSeconds": round(done_at, 2) if done_at is not None else None,
        "allReportsSeconds": round(last_report, 2) if last_report is not None else None,
        "auditsPerMinute": round(args.buckets / done_at * 60, 1) if done_at else None,
        "executions": len(execs),
        "bucketsWithExactlyOne": sum(1 for n in names if per_bucket[n] == 1),
        "lost": sorted(n for n in names if per_bucket[n] == 0),
        "withoutReport": len(execs) - len(my_reports) - len(my_approvals),
        "duplicated": sorted(n for n in names if per_bucket[n] > 1),
        "statuses": dict(statuses),
        "reports": len(my_reports),
        "awaitingApproval": len(my_approvals - {k.replace("reports/", "approvals/") for k in my_reports}),
        "outcomes": dict(outcomes),
        "lastStopAfterFirstStartSeconds": (
            round((max(stops) - min(e["startDate"] for e in execs)).total_seconds(), 2) if stops else None
        ),
        "rss": rss.figures(),
        "timeline": [(round(t, 1), n) for t, n in timeline[:: max(1, len(timeline) // 40)]],
    }
    print(f"{args.buckets} CreateBucket events ({result['public']} public buckets), ", end="")
    print(f"PutEvents x{put['calls']} at once")
    print(
        table(
            ["measure", "value"],
            [
                ["PutEvents (all batches) s", round(put["seconds"], 2)],
                ["failed entries", put["failedEntries"]],
                ["time to drain s", result["drainSeconds"]],
                ["audits per minute", result["auditsPerMinute"]],
                ["executions", result["executions"]],
                ["buckets with exactly one audit", result["bucketsWithExactlyOne"]],
                ["lost", len(result["lost"])],
                ["duplicated", len(result["duplicated"])],
                ["reports", result["reports"]],
                ["ended without a report", result["withoutReport"]],
                ["waiting at approval", result["awaitingApproval"]],
                ["statuses", json.dumps(result["statuses"])],
                ["outcomes", json.dumps(result["outcomes"])],
                ["peak RSS LocalStack + Lambda MiB", result["rss"]["peakTotalMiB"]],
                ["  LocalStack MiB", result["rss"]["peakLocalStackMiB"]],
                ["  Lambda processes MiB (peak count)",
                 f"{result['rss']['peakLambdaProcessesMiB']} ({result['rss']['peakLambdaProcesses']})"],
            ],
        )
    )  # fmt: skip
    path = write_result("burst", result)
    print(f"(full figures: {path.relative_to(ROOT)})")
    print(json.dumps({k: v for k, v in result.items() if k != "timeline"}))
    ok = (
        not result["lost"]
        and not result["duplicated"]
        and done_at is not None
        and not result["withoutReport"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
