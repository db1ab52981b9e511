"""The README's main job: audit a deliberately misconfigured bucket on LocalStack, through the API.

Creates the bucket, starts an audit in remediate mode, follows its steps, shows the proposed
plans, approves them, and prints the final report and where its JSON is.
"""

from __future__ import annotations

import sys
import time

from scripts.buckets import create_public_bucket
from scripts.identities import person
from scripts.localstack_client import ENDPOINT, client, session, stack_outputs
from secagent.client import AuditApiClient
from secagent.models.report import Report
from secagent.render import render_pending_plans, render_report

APPROVER_ROLE = "secagent-demo-approver"


def make_misconfigured_bucket() -> str:
    """Public through its policy and an ACL grant, CORS open to any origin for writes."""
    s3 = client("s3")
    name = create_public_bucket(s3, "secagent-demo")
    s3.put_bucket_ownership_controls(
        Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"]}]},
    )
    return name


def follow(api: AuditApiClient, audit_id: str, until: set[str]) -> dict:
    last_step = None
    while True:
        response = api.get_audit(audit_id)
        if response.status != 200:
            raise SystemExit(f"error: GET /audits/{audit_id} answered {response.status}: {response.body}")
        body = response.body
        step = body.get("currentStep")
        if step and step != last_step:
            print(f"  ... {step}")
            last_step = step
        if body["status"] in until:
            return body
        time.sleep(0.3)


def main() -> int:
    outputs = stack_outputs()
    api = AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=session())
    bucket = make_misconfigured_bucket()
    print(f"Created s3://{bucket} on {ENDPOINT}: public policy, public-read ACL, open CORS.\n")

    started = time.perf_counter()
    response = api.start_audit(bucket, mode="remediate")
    if response.status != 202:
        raise SystemExit(f"error: POST /audits answered {response.status}: {response.body}")
    audit_id = response.body["auditId"]
    print(f"Audit {audit_id} started (POST /audits -> 202).")
    waiting = follow(api, audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"})
    if waiting["status"] == "AWAITING_APPROVAL":
        pending = waiting["pendingPlans"]
        print(f"\nAwaiting approval of {len(pending)} plan(s):\n{render_pending_plans(pending)}\n")
        # Four-eyes: the requester may not approve; a second person (another IAM role) does. A plain
        # approval covers the reversible plans scoped to the bucket, and quotes their digest.
        print(f"Approving as another person, role {APPROVER_ROLE} (POST /audits/{{id}}/approval).")
        approver = AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=person(APPROVER_ROLE))
        decided = approver.decide(audit_id, "approve", comment="make demo", plan_digest=waiting["planDigest"])
        if decided.status != 200:
            raise SystemExit(f"error: approval answered {decided.status}: {decided.body}")
        waiting = follow(api, audit_id, {"SUCCEEDED", "FAILED"})
    elapsed = time.perf_counter() - started

    report = waiting.get("report")
    if not report:
        print(
            f"error: the audit ended {waiting['status']} without a report: {waiting.get('error')}",
            file=sys.stderr,
        )
        return 1
    print("\n" + render_report(Report.model_validate(report)))
    print(f"\nPOST to report: {elapsed:.1f}s (including the approval).")
    print(f"JSON report: s3://{outputs['ReportBucketName']}/reports/{audit_id}.json")
    return 0 if waiting["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
