"""Attacks on the approval gate, run against the deployed stack; each target bucket must stay unchanged.

LocalStack enforces no IAM (a bucket policy or key policy Deny is stored, not applied), so an
attack here may write anything anywhere: these tests prove the defences that hold without IAM
(sealed records, re-derivation from storage, four-eyes on the authenticated principal). The IAM
half (who may write which prefix, who may seal) is asserted on the synthesized template in
tests/infra/test_stack.py. docs/security.md maps each attack to its defence.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from scripts.buckets import create_public_bucket
from scripts.identities import person
from scripts.localstack_client import ENDPOINT, session
from secagent.aws import client_factory
from secagent.client import AuditApiClient
from tests.deployed import approver_api, requester_api, start_direct
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

PUBLIC_POLICY_SID = "Attacker"


@pytest.fixture(scope="module")
def api(outputs: dict[str, str]) -> AuditApiClient:
    return requester_api(outputs)


@pytest.fixture(scope="module")
def approver(outputs: dict[str, str]) -> AuditApiClient:
    return approver_api(outputs)


def private_bucket(aws: Any) -> str:
    name = f"victim-{uuid.uuid4().hex[:10]}"
    aws("s3").create_bucket(Bucket=name)
    return name


def configuration(aws: Any, bucket: str) -> dict[str, Any]:
    """What the attacks try to change: the policy, Block Public Access, versioning, Object Lock."""
    s3 = aws("s3")

    def read(call: Any, key: str, **kwargs: Any) -> Any:
        try:
            return call(Bucket=bucket, **kwargs).get(key)
        except s3.exceptions.ClientError as err:
            return err.response["Error"]["Code"]

    return {
        "policy": read(s3.get_bucket_policy, "Policy"),
        "publicAccessBlock": read(s3.get_public_access_block, "PublicAccessBlockConfiguration"),
        "versioning": read(s3.get_bucket_versioning, "Status"),
        "objectLock": read(s3.get_object_lock_configuration, "ObjectLockConfiguration"),
    }


def public_policy_plan(bucket: str) -> dict[str, Any]:
    """A 'plan' an attacker hands the workflow: make `bucket` readable by anyone."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": PUBLIC_POLICY_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    return {
        "planId": "01-s3.restrict_public_policy_statements",
        "order": 1,
        "checkIds": ["s3_bucket_policy_public"],
        "remediationId": "s3.restrict_public_policy_statements",
        "title": "Looks harmless",
        "resourceId": bucket,
        "apiCall": {
            "service": "s3",
            "operation": "PutBucketPolicy",
            "parameters": {"Bucket": bucket, "Policy": json.dumps(policy)},
        },
        "cliCommand": "true",
        "risk": "none",
        "reversible": True,
    }


def execution_arn(outputs: dict[str, str], name: str) -> str:
    return outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{name}"


def ended(aws: Any, outputs: dict[str, str], name: str, timeout: float = 90) -> dict[str, Any]:
    sfn = aws("stepfunctions")

    def done() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=execution_arn(outputs, name))
        return described if described["status"] != "RUNNING" else None

    result = wait_for(done, timeout=timeout, interval=0.5)
    assert result, f"execution {name} still running after {timeout}s"
    return result


def wait_status(api: AuditApiClient, audit_id: str, wanted: set[str], timeout: float = 90) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        body = api.get_audit(audit_id).body
        return body if body.get("status") in wanted else None

    body = wait_for(reached, timeout=timeout, interval=0.5)
    assert body, f"audit {audit_id} did not reach {wanted}"
    return body


def report(aws: Any, outputs: dict[str, str], audit_id: str) -> dict[str, Any]:
    key = f"reports/{audit_id}.json"
    obj = aws("s3").get_object(Bucket=outputs["ReportBucketName"], Key=key)
    return json.loads(obj["Body"].read())


# --- 1. StartExecution with forged input --------------------------------------------------------


def test_start_execution_with_forged_rollback_plans_changes_nothing(aws, outputs):
    # Given a private bucket nobody ever audited
    victim = private_bucket(aws)
    before = configuration(aws, victim)
    # When someone with states:StartExecution starts a "rollback" whose plans make it public
    name = str(uuid.uuid4())
    forged = {
        "resource": {"type": "AWS::S3::Bucket", "id": victim},
        "mode": "rollback",
        "rollbackPlans": [public_policy_plan(victim)],
        "rollbackExpected": {},
        "requestedBy": "someone-else",
    }
    aws("stepfunctions").start_execution(
        stateMachineArn=outputs["StateMachineArn"], name=name, input=json.dumps(forged)
    )
    # Then the audit ends at Discover (no request record the API sealed) and the bucket is unchanged
    described = ended(aws, outputs, name)
    assert described["status"] == "FAILED" and described["error"] == "AuditNotRequested"
    assert configuration(aws, victim) == before


def test_forged_resume_checkpoints_in_the_input_are_not_used(aws, outputs, api, approver):
    # Given a real audit of bucket A awaiting approval, and a second, private bucket B
    target = create_public_bucket(aws("s3"), "gate-a")
    victim = private_bucket(aws)
    before = configuration(aws, victim)
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    api.decide(audit_id, "reject", comment="end it")  # the requester may withdraw their own audit
    wait_status(api, audit_id, {"SUCCEEDED"})
    # When a "resume" of it is started directly, with its real request but forged checkpoints:
    # a remediation that makes B public, and an approval of it
    forged = {
        "resource": {"type": "AWS::S3::Bucket", "id": target},
        "mode": "remediate",
        "approvalTimeoutSeconds": 3600,
        "resume": {
            "checkpoints": {
                "remediation": {"plans": [public_policy_plan(victim)], "unplanned": []},
                "approval": {"decision": "approve", "approver": "nobody"},
            }
        },
    }
    name = f"{audit_id}_r1"
    aws("stepfunctions").start_execution(
        stateMachineArn=outputs["StateMachineArn"], name=name, input=json.dumps(forged)
    )
    # Then it is refused before anything is read: a resume follows only a failed execution of the
    # audit, and the checkpoints it handed in are not even looked at
    described = ended(aws, outputs, name)
    assert described["status"] == "FAILED" and described["error"] == "NotInvokedByWorkflow", described
    assert configuration(aws, victim) == before


# --- 2. Records planted in the report bucket ------------------------------------------------------


def test_planted_checkpoint_and_decision_with_resume_change_nothing(aws, outputs, api, approver):
    # Given an audit of bucket A that failed in Propose Fixes (an injected fault), and a private bucket B
    target = create_public_bucket(aws("s3"), "gate-a")
    victim = private_bucket(aws)
    before = configuration(aws, victim)
    faults = {"remediate": {"kind": "error", "error": "InjectedFault"}}
    audit_id = start_direct(
        aws,
        outputs,
        {"resource": {"type": "AWS::S3::Bucket", "id": target}, "mode": "remediate", "faults": faults},
    )
    assert ended(aws, outputs, audit_id)["status"] == "FAILED"
    target_before = configuration(aws, target)
    # When someone who can write the report bucket plants a remediation checkpoint (a plan on B)
    # and an approval of it, then resumes the audit through the API
    s3, bucket = aws("s3"), outputs["ReportBucketName"]
    planted = {"auditId": audit_id, "plans": [public_policy_plan(victim)], "unplanned": [], "expected": {}}
    s3.put_object(Bucket=bucket, Key=f"checkpoints/{audit_id}/remediation.json", Body=json.dumps(planted))
    decision = {
        "auditId": audit_id,
        "resource": {"type": "AWS::S3::Bucket", "id": target},
        "mode": "remediate",
        "decision": "approve",
        "remediationIds": ["s3.restrict_public_policy_statements"],
        "selection": "named",
        "planDigest": "0" * 64,
        "approver": "arn:aws:iam::000000000000:role/nobody",
        "requestedBy": "tests:start_direct",
        "decidedAt": "2026-01-01T00:00:00Z",
    }
    s3.put_object(
        Bucket=bucket, Key=f"decisions/{audit_id}.json", Body=json.dumps({"record": decision, "seal": "AAAA"})
    )
    assert api.resume(audit_id).status == 202
    # Then the planted decision is not believed: the resumed audit waits for a person
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"})
    assert waiting["status"] == "AWAITING_APPROVAL", waiting
    # and the plans a person is shown are re-derived from the snapshot: none targets B
    assert waiting["pendingPlans"] and all(p["resourceId"] == target for p in waiting["pendingPlans"])
    time.sleep(2)
    assert configuration(aws, victim) == before and configuration(aws, target) == target_before
    aws("stepfunctions").stop_execution(executionArn=execution_arn(outputs, f"{audit_id}_r1"))


def test_direct_invocation_of_apply_without_a_decision_changes_nothing(aws, outputs, api):
    # Given a real audit of a public bucket that nobody decided yet
    target = create_public_bucket(aws("s3"), "gate-apply")
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    before = configuration(aws, target)
    # When someone with lambda:InvokeFunction calls Apply directly for it, naming its execution
    event = {"auditId": audit_id, "executionArn": execution_arn(outputs, audit_id)}
    answer = aws("lambda").invoke(FunctionName=outputs["ApplyFunctionName"], Payload=json.dumps(event))
    error = json.loads(answer["Payload"].read())
    # Then Apply refuses before reading anything: that execution is waiting for approval, not applying
    assert error["errorType"] == "NotInvokedByWorkflow", error
    assert configuration(aws, target) == before
    api.decide(audit_id, "reject")


def test_task_token_from_the_history_only_wakes_the_audit_and_nothing_is_applied(aws, outputs, api):
    # Given an audit awaiting approval, and a token read from its execution history with data
    target = create_public_bucket(aws("s3"), "gate-token")
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    before = configuration(aws, target)
    sfn = aws("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution_arn(outputs, audit_id), maxResults=1000)[
        "events"
    ]
    scheduled = [e for e in events if e["type"] == "TaskScheduled"]
    token = json.loads(scheduled[-1]["taskScheduledEventDetails"]["parameters"])["Payload"]["taskToken"]
    # When the holder of the token sends an "approval" straight to Step Functions
    sfn.send_task_success(taskToken=token, output=json.dumps({"decision": "approve", "approver": "me"}))
    # Then the audit ends APPROVAL_INVALID, and the bucket is unchanged
    described = ended(aws, outputs, audit_id)
    assert json.loads(described["output"])["outcome"] == "APPROVAL_INVALID", described
    assert configuration(aws, target) == before
    assert report(aws, outputs, audit_id)["approval"] is None  # the report never claims an approval


def test_no_task_token_in_stored_approvals_or_api_answers(aws, outputs, api):
    target = create_public_bucket(aws("s3"), "gate-token")
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    stored = aws("s3").get_object(Bucket=outputs["ReportBucketName"], Key=f"approvals/{audit_id}.json")
    assert "taskToken" not in stored["Body"].read().decode()
    assert "taskToken" not in json.dumps(waiting)
    # the token is kept apart, and the bucket policy lets only the API's role read it
    policy = json.loads(aws("s3").get_bucket_policy(Bucket=outputs["ReportBucketName"])["Policy"])
    token_rules = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny" and "s3:GetObject" in json.dumps(s["Action"]) and "tokens/" in json.dumps(s)
    ]
    assert token_rules, policy
    api.decide(audit_id, "reject")


# --- 3. Only a person, not the requester, approves ------------------------------------------------


def test_same_role_with_another_session_name_cannot_approve(aws, outputs):
    # Given an audit requested as assumed-role/Admin/ops-1
    admin_1 = AuditApiClient.for_stack(
        outputs, endpoint_url=ENDPOINT, session=person("secagent-admin", "ops-1")
    )
    admin_2 = AuditApiClient.for_stack(
        outputs, endpoint_url=ENDPOINT, session=person("secagent-admin", "ops-2")
    )
    target = create_public_bucket(aws("s3"), "gate-4eyes")
    before = configuration(aws, target)
    audit_id = admin_1.start_audit(target, mode="remediate").body["auditId"]
    waiting = wait_status(admin_1, audit_id, {"AWAITING_APPROVAL"})
    # When the same role approves with another session name
    refused = admin_2.decide(audit_id, "approve", plan_digest=waiting["planDigest"])
    # Then it is refused, and nothing changes
    assert refused.status == 403 and "four-eyes" in refused.body["message"], refused.body
    assert wait_status(admin_1, audit_id, {"AWAITING_APPROVAL"})
    assert configuration(aws, target) == before
    admin_1.decide(audit_id, "reject")


def test_rollback_requester_cannot_approve_the_rollback(aws, outputs, api, approver):
    # Given a remediated audit (requested by one person, approved by another)
    target = create_public_bucket(aws("s3"), "gate-rollback")
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    fixed = configuration(aws, target)
    # When the approver asks for a rollback and tries to approve it too
    rollback_id = approver.rollback(audit_id).body["auditId"]
    pending = wait_status(approver, rollback_id, {"AWAITING_APPROVAL"})
    refused = approver.decide(rollback_id, "approve", plan_digest=pending["planDigest"])
    # Then it is refused and nothing is rolled back
    assert refused.status == 403, refused.body
    assert configuration(aws, target) == fixed
    approver.decide(rollback_id, "reject")


# --- 4. An approval names what it approves; a subset is re-planned -------------------------------


def test_plain_approval_does_not_enable_object_lock_or_touch_the_account(aws, outputs, api, approver):
    # Given a public bucket whose fixes include Object Lock (irreversible) and the account's BPA
    target = create_public_bucket(aws("s3"), "gate-default")
    s3control = client_factory(session(), endpoint_url=ENDPOINT)("s3control")  # the account-id host fix
    s3control.delete_public_access_block(AccountId="000000000000")  # so the account's fix is proposed
    account_before = None
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    named_only = {p["remediationId"] for p in waiting["pendingPlans"] if not p["approvedByDefault"]}
    assert {"s3.enable_object_lock", "s3control.put_public_access_block"} <= named_only
    # When a person approves without naming plans
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then Object Lock stays off and the account-wide setting is untouched
    assert configuration(aws, target)["objectLock"] in ("ObjectLockConfigurationNotFoundError", None)
    try:
        account_after = s3control.get_public_access_block(AccountId="000000000000")[
            "PublicAccessBlockConfiguration"
        ]
    except s3control.exceptions.ClientError:
        account_after = None
    assert account_after == account_before
    results = {
        r["plan"]["remediationId"]: r["result"] for r in report(aws, outputs, audit_id)["remediations"]
    }
    assert results["s3.enable_object_lock"] == "NOT_APPROVED"


def test_a_subset_applies_only_its_own_content_and_its_rollback_restores_the_original(
    aws, outputs, api, approver
):
    # Given a public bucket: two fixes edit its policy (remove the public statement; deny plain HTTP)
    target = create_public_bucket(aws("s3"), "gate-subset")
    original = json.loads(aws("s3").get_bucket_policy(Bucket=target)["Policy"])
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # When only the TLS fix is approved (its re-planned digest, shown first)
    chosen = "s3.add_deny_insecure_transport"
    preview = approver.request("GET", f"/audits/{audit_id}/approval?remediationIds={chosen}").body
    assert (
        approver.decide(
            audit_id, "approve", plan_digest=preview["planDigest"], remediation_ids=[chosen]
        ).status
        == 200
    )
    wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    # Then the policy gained the TLS statement and kept the public one (its removal was not approved)
    applied = json.loads(aws("s3").get_bucket_policy(Bucket=target)["Policy"])
    sids = [s.get("Sid") for s in applied["Statement"]]
    assert "PublicRead" in sids and len(sids) == 2, applied
    # And its rollback restores exactly the original policy
    rollback_id = api.rollback(audit_id).body["auditId"]
    pending = wait_status(api, rollback_id, {"AWAITING_APPROVAL"})
    assert approver.decide(rollback_id, "approve", plan_digest=pending["planDigest"]).status == 200
    wait_status(api, rollback_id, {"SUCCEEDED", "FAILED"})
    assert json.loads(aws("s3").get_bucket_policy(Bucket=target)["Policy"]) == original


# --- 5. Bounded blast radius ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["ReportBucketName", "AccessLogBucketName", "cdk-bootstrap"])
def test_the_stacks_own_and_cdk_buckets_are_never_audited(aws, outputs, api, which):
    bucket = "cdk-hnb659fds-assets-000000000000-us-east-1" if which == "cdk-bootstrap" else outputs[which]
    started = api.start_audit(bucket, mode="remediate")
    assert started.status == 403 and started.body["field"] == "resource.id", started.body


# --- 6. Smaller holes ---------------------------------------------------------------------------------


def test_idempotency_key_reused_with_another_body_is_422(aws, api):
    key = str(uuid.uuid4())
    first_bucket, other_bucket = private_bucket(aws), private_bucket(aws)
    assert api.start_audit(first_bucket, mode="plan", idempotency_key=key).status == 202
    reused = api.start_audit(other_bucket, mode="plan", idempotency_key=key)
    assert reused.status == 422 and reused.body["field"] == "Idempotency-Key", reused.body


def test_resume_takes_the_resource_lock(aws, outputs, api):
    # Given a failed audit of a bucket, and a new audit of that bucket running
    target = create_public_bucket(aws("s3"), "gate-lock")
    faults = {"analyze": {"kind": "error", "error": "InjectedFault"}}
    failed = start_direct(
        aws, outputs, {"resource": {"type": "AWS::S3::Bucket", "id": target}, "faults": faults}
    )
    assert ended(aws, outputs, failed)["status"] == "FAILED"
    running = api.start_audit(target, mode="remediate").body["auditId"]
    # When the failed one is resumed, Then it is refused while the other runs
    refused = api.resume(failed)
    assert refused.status == 409 and refused.body.get("runningAuditId") == running, refused.body
    wait_status(api, running, {"AWAITING_APPROVAL"})
    api.decide(running, "reject")


def test_names_with_a_trailing_newline_are_refused(api):
    answer = api.request("POST", "/audits", {"resource": {"type": "AWS::S3::Bucket", "id": "good-bucket\n"}})
    assert answer.status == 400 and answer.body["field"] == "resource.id", answer.body


def test_a_fake_approval_requested_on_the_default_bus_reaches_nobody(aws, outputs):
    # Given a queue subscribed to the approval topic
    sqs = aws("sqs")
    queue_url = sqs.create_queue(QueueName=f"fake-approvals-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws("sns").subscribe(
        TopicArn=outputs["ApprovalTopicArn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    # When someone puts an "Approval Requested" that looks like ours on the default bus
    marker = str(uuid.uuid4())
    detail = {"auditId": marker, "howToDecide": "visit http://phishing.example"}
    aws("events").put_events(
        Entries=[{"Source": "secagent", "DetailType": "Approval Requested", "Detail": json.dumps(detail)}]
    )
    # Then it does not reach the product's subscribers (they listen on the product's own bus)
    time.sleep(3)
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
    assert not any(marker in m["Body"] for m in messages)


def test_a_failed_create_bucket_call_starts_no_audit(aws, outputs):
    bucket = f"never-created-{uuid.uuid4().hex[:10]}"
    detail = {
        "eventSource": "s3.amazonaws.com",
        "eventName": "CreateBucket",
        "errorCode": "BucketAlreadyExists",
        "requestParameters": {"bucketName": bucket},
    }
    put = aws("events").put_events(
        Entries=[
            {"Source": "aws.s3", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(detail)}
        ]
    )
    event_id = put["Entries"][0]["EventId"]
    time.sleep(3)
    sfn = aws("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionDoesNotExist):
        sfn.describe_execution(executionArn=execution_arn(outputs, event_id))


def test_invoking_the_api_function_directly_with_a_forged_caller_cannot_approve(aws, outputs, api):
    # Given an audit awaiting approval, requested through the API
    target = create_public_bucket(aws("s3"), "gate-invoke-api")
    audit_id = api.start_audit(target, mode="remediate").body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    before = configuration(aws, target)
    # When the requester invokes the API function directly, naming another person as the caller
    body = json.dumps({"decision": "approve", "planDigest": waiting["planDigest"]})
    event = {
        "resource": "/audits/{auditId}/approval",
        "path": f"/audits/{audit_id}/approval",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json"},
        "pathParameters": {"auditId": audit_id},
        "requestContext": {
            "requestId": "forged",
            "identity": {"userArn": "arn:aws:sts::000000000000:assumed-role/secagent-approver/bob"},
        },
        "body": body,
        "isBase64Encoded": False,
    }
    answer = json.loads(
        aws("lambda")
        .invoke(FunctionName=outputs["ApiFunctionName"], Payload=json.dumps(event))["Payload"]
        .read()
    )
    # Then the function wants proof of who sends it, which only the named caller's credentials make
    assert answer["statusCode"] == 403, answer
    assert "prove who sends it" in json.loads(answer["body"])["message"]
    assert wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert configuration(aws, target) == before
    api.decide(audit_id, "reject")
