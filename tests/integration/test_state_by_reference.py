"""State by reference on the deployed stack: the state stays under 8 KB at every step, whatever the
bucket holds, because each tool stores its output and passes a summary; and a denied access ends
the audit ACCESS_DENIED (not a FAILED that invites a resume)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.deployed import start_direct
from tests.integration.test_audit_workflow import finished_report, wait_status

STATE_LIMIT = 8 * 1024  # bytes; Step Functions' own limit is 256 KiB


def _maximal_bucket(aws: Any, account: str) -> str:
    """A bucket at S3's limits: a ~20 KB policy, 1,000 lifecycle rules, 100 CORS rules, 50 tags."""
    s3 = aws("s3")
    bucket = f"state-max-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    statements = [
        {
            "Sid": f"ReadPrefix{i:03d}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
            "Resource": f"arn:aws:s3:::{bucket}/team-{i:03d}/reports/quarterly/*",
        }
        for i in range(200)
    ]
    while len(json.dumps({"Version": "2012-10-17", "Statement": statements})) > 20 * 1024 - 200:
        statements.pop()
    policy = json.dumps({"Version": "2012-10-17", "Statement": statements})
    assert len(policy) > 19 * 1024
    s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": f"expire-prefix-{i:04d}",
                    "Filter": {"Prefix": f"logs/{i:04d}/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": 30 + i % 300},
                }
                for i in range(1000)
            ]
        },
    )
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["GET", "HEAD"],
                    "AllowedOrigins": [f"https://app-{i:03d}.example.com"],
                    "AllowedHeaders": ["Authorization", "Content-Type"],
                    "MaxAgeSeconds": 3000,
                }
                for i in range(100)
            ]
        },
    )
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={
            "TagSet": [
                {"Key": f"cost-centre-{i:02d}", "Value": f"value-{i:02d}-" + "x" * 40} for i in range(50)
            ]
        },
    )
    return bucket


def _states_seen(aws: Any, outputs: dict[str, str], audit_id: str) -> dict[str, int]:
    """The largest input and output of each state in the execution's history, in bytes."""
    arn = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{audit_id}"
    sfn = aws("stepfunctions")
    events, kwargs = [], {"executionArn": arn, "maxResults": 1000, "includeExecutionData": True}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events += page["events"]
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    sizes: dict[str, int] = {}
    for event in events:
        for key, field in (("stateEnteredEventDetails", "input"), ("stateExitedEventDetails", "output")):
            details = event.get(key)
            if details and details.get(field) is not None:
                size = len(details[field].encode())
                sizes[details["name"]] = max(sizes.get(details["name"], 0), size)
    return sizes


def test_the_state_stays_under_8_kb_at_every_step_for_a_bucket_at_s3_s_limits(api, approver, aws, outputs):
    # Given a bucket whose configuration alone is far over 8 KB (its policy is 20 KB)
    account = aws("sts").get_caller_identity()["Account"]
    bucket = _maximal_bucket(aws, account)
    # When it is audited in remediate mode, approved, applied and verified
    started = api.start_audit(bucket, mode="remediate")
    assert started.status == 202, started.body
    audit_id = started.body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"}, timeout=180)
    assert waiting["status"] == "AWAITING_APPROVAL", waiting
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"}, timeout=240)
    assert done["status"] == "SUCCEEDED", done
    # Then no state's input or output reached 8 KB, while the report holds everything
    sizes = _states_seen(aws, outputs, audit_id)
    assert {"Discover Bucket", "Analyze Configuration", "Apply Fixes", "Verify Fixes", "Write Report"} <= set(
        sizes
    )
    print("largest state per step (bytes):", json.dumps(sizes, sort_keys=True))
    assert max(sizes.values()) < STATE_LIMIT, sizes
    report = finished_report(aws, outputs, audit_id)
    assert report["verification"] is not None and report["remediations"]
    stored = aws("s3").get_object(
        Bucket=outputs["ReportBucketName"], Key=f"checkpoints/{audit_id}/discovery.json"
    )
    snapshot = json.loads(stored["Body"].read())
    assert len(json.dumps(snapshot)) > 4 * STATE_LIMIT  # what no longer travels in the state
    assert len(snapshot["config"]["lifecycleRules"]["value"]) == 1000


def test_a_denied_access_ends_access_denied_and_is_not_offered_a_resume(api, aws, outputs, fault_injection):
    # Given an audit whose Analyze is refused access (a fault injected by a test deployment)
    name = f"state-denied-{uuid.uuid4().hex[:10]}"
    aws("s3").create_bucket(Bucket=name)
    audit_id = start_direct(
        aws,
        outputs,
        {
            "resource": {"type": "AWS::S3::Bucket", "id": name},
            "faults": {"analyze": {"kind": "error", "error": "AccessDenied"}},
        },
    )
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then it ends with its own outcome and a failure that names the step, not a resumable FAILED
    assert (done["status"], done["outcome"]) == ("SUCCEEDED", "ACCESS_DENIED"), done
    assert done["failure"]["step"] == "Analyze Configuration" and done["failure"]["resumable"] is False
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "ACCESS_DENIED" and report["failure"]["error"] == "AccessDenied"
    assert api.resume(audit_id).status == 409
