"""Sweeps on the deployed stack: three member accounts (LocalStack makes a 12-digit access key id an
account), two with the member stack and one without it; the posture report, OCSF and ASFF; a
remediate audit started from a sweep's finding waits at the approval gate."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts.buckets import create_public_bucket
from scripts.members import account_client, deploy, member_template, remove
from secagent.client import AuditApiClient
from secagent.models.sweep import items_key
from tests.integration.conftest import wait_for
from tests.unit.outputs.test_asff import model_errors
from tests.unit.outputs.test_ocsf import validator

GOOD_MEMBERS = ("111111111111", "222222222222")
BROKEN_MEMBER = "333333333333"  # named in scripts/test.sh's memberAccounts, with no member stack
POSTURE_SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "posture.schema.json").read_text())
BUCKET = "AWS::S3::Bucket"


@pytest.fixture(scope="module")
def members() -> dict[str, str]:
    """The member stack in two accounts, none in the third; a public bucket in each good member."""
    template = member_template()
    buckets = {}
    for account in GOOD_MEMBERS:
        deploy(account, template)
        buckets[account] = create_public_bucket(account_client(account, "s3"), f"sweep-{account[:3]}")
    remove(BROKEN_MEMBER)
    return buckets


def finished(api: AuditApiClient, sweep_id: str, timeout: float = 240) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        response = api.get_sweep(sweep_id)
        assert response.status == 200, response.body
        return response.body if response.body["status"] != "RUNNING" else None

    body = wait_for(done, timeout=timeout, interval=1.0)
    assert body, f"sweep {sweep_id} did not end in {timeout}s"
    return dict(body)


def all_pages(api: AuditApiClient, sweep_id: str, fmt: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page: int | None = 0
    while page is not None:
        response = api.sweep_findings(sweep_id, fmt, page)
        assert response.status == 200, response.body
        assert len(response.body["findings"]) <= 100
        found += response.body["findings"]
        page = response.body["nextPage"]
    return found


def test_a_sweep_of_three_accounts_with_one_broken_member_reports_the_other_two_and_names_it(
    api: AuditApiClient, members: dict[str, str]
) -> None:
    started = api.start_sweep(accounts=[*GOOD_MEMBERS, BROKEN_MEMBER])  # buckets and groups
    assert started.status == 202, started.body
    sweep_id = started.body["sweepId"]
    status = finished(api, sweep_id)

    assert status["status"] == "SUCCEEDED"
    listing = {a["accountId"]: a for a in status["listing"]}
    assert listing[BROKEN_MEMBER]["status"] == "FAILED"
    assert listing[BROKEN_MEMBER]["error"]["error"] == "MemberRoleMissing"
    for account in GOOD_MEMBERS:
        assert listing[account]["status"] == "LISTED" and listing[account]["resources"] >= 1
    assert status["progress"]["remaining"] == 0
    assert status["progress"]["done"] == sum(listing[a]["resources"] for a in GOOD_MEMBERS)

    posture = api.sweep_report(sweep_id).body
    jsonschema.validate(posture, POSTURE_SCHEMA)
    assert posture["complete"] is False  # an account was not seen: never a complete posture
    assert any(r.get("accountId") == BROKEN_MEMBER for r in posture["incompleteReasons"])
    failing = {(r["accountId"], r["resource"]["id"]) for r in posture["failingResources"]}
    assert {(account, bucket) for account, bucket in members.items()} <= failing

    markdown = api.sweep_report(sweep_id, "markdown").body["body"]
    assert BROKEN_MEMBER in markdown and members[GOOD_MEMBERS[0]] in markdown

    ocsf = all_pages(api, sweep_id, "ocsf")
    schema = validator()
    assert ocsf and all(not list(schema.iter_errors(f)) for f in ocsf)
    assert {f["cloud"]["account"]["uid"] for f in ocsf} == set(GOOD_MEMBERS)
    asff = all_pages(api, sweep_id, "asff")
    assert asff and not model_errors(asff)
    public = [
        f
        for f in asff
        if f["Resources"][0]["Id"].endswith(f":::{members[GOOD_MEMBERS[0]]}")
        and f["Compliance"]["Status"] == "FAILED"
    ]
    assert public, "the public bucket's failing findings are in the ASFF"


def test_a_sweep_starts_a_remediate_audit_of_its_finding_that_waits_for_approval(
    api: AuditApiClient, aws: Callable[..., Any], outputs: dict[str, str], members: dict[str, str]
) -> None:
    own = create_public_bucket(aws("s3"), "sweep-own")
    own_account = outputs["SweepStateMachineArn"].split(":")[4]
    started = api.start_sweep(accounts=[own_account])  # buckets and groups
    assert started.status == 202, started.body
    sweep_id = started.body["sweepId"]
    status = finished(api, sweep_id)
    assert status["status"] == "SUCCEEDED"
    assert status["deploymentAccountId"] == own_account

    member = api.start_sweep_audit(sweep_id, BUCKET, members[GOOD_MEMBERS[0]], account_id=GOOD_MEMBERS[0])
    assert member.status == 400, member.body  # a member account is swept read-only
    unknown = api.start_sweep_audit(sweep_id, BUCKET, f"not-swept-{uuid.uuid4().hex[:8]}")
    assert unknown.status == 404, unknown.body

    audit = api.start_sweep_audit(sweep_id, BUCKET, own, account_id=own_account)
    assert audit.status == 202, audit.body
    audit_id = audit.body["auditId"]

    def awaiting() -> dict[str, Any] | None:
        body = api.get_audit(audit_id).body
        return body if body.get("status") == "AWAITING_APPROVAL" else None

    assert wait_for(awaiting, timeout=120, interval=0.5), "the audit did not stop at the approval gate"
    # Nothing was changed: the bucket is still public until a person approves.
    assert aws("s3").get_bucket_policy(Bucket=own)["Policy"]
    approval = aws("s3").get_object(Bucket=outputs["ReportBucketName"], Key=f"approvals/{audit_id}.json")
    assert json.loads(approval["Body"].read())["status"] == "PENDING"


def test_attack_a_sweep_started_without_the_api_reads_nothing(
    aws: Callable[..., Any], outputs: dict[str, str]
) -> None:
    """StartExecution straight on the sweep machine, with a name no sealed request has: List
    Resources refuses, and no item is written (no account was read)."""
    name = str(uuid.uuid4())
    sfn = aws("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=outputs["SweepStateMachineArn"], name=name, input=json.dumps({"sweepId": name})
    )["executionArn"]

    def ended() -> dict[str, Any] | None:
        described = sfn.describe_execution(executionArn=arn)
        return described if described["status"] != "RUNNING" else None

    described = wait_for(ended, timeout=60, interval=0.5)
    assert described and described["status"] == "FAILED"
    history = sfn.get_execution_history(executionArn=arn)["events"]
    errors = [
        e["lambdaFunctionFailedEventDetails"].get("error")
        for e in history
        if e["type"] == "LambdaFunctionFailed"
    ]
    assert "AuditNotRequested" in errors
    listed = aws("s3").list_objects_v2(Bucket=outputs["ReportBucketName"], Prefix=items_key(name))
    assert listed.get("KeyCount", 0) == 0
