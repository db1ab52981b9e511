"""A security group through the deployed stack, the same state machine as a bucket: API Gateway ->
Step Functions -> tools -> EC2 on LocalStack -> report. Only the offending rule ever changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts.groups import OFFICE, create_open_group
from secagent.client import AuditApiClient
from tests.integration.conftest import wait_for

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())
GROUP = "AWS::EC2::SecurityGroup"
SSH_CHECK = "ec2_security_group_ssh_open_to_internet"


def _rules(aws: Callable[..., Any], group_id: str) -> set[tuple[int, str]]:
    """The group's ingress rules as (port, source)."""
    rules = aws("ec2").describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group_id]}])
    return {
        (r["FromPort"], r.get("CidrIpv4") or r.get("CidrIpv6") or "")
        for r in rules["SecurityGroupRules"]
        if not r["IsEgress"]
    }


@pytest.fixture()
def open_group(aws: Callable[..., Any]) -> str:
    """A group in use with SSH open to the internet and HTTPS from one office range."""
    return create_open_group(aws("ec2"), "audit-ssh")


def wait_status(api: AuditApiClient, audit_id: str, wanted: set[str], timeout: float = 120) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        response = api.get_audit(audit_id)
        assert response.status == 200, response.body
        return response.body if response.body["status"] in wanted else None

    body = wait_for(reached, timeout=timeout, interval=0.5)
    assert body, f"audit {audit_id} did not reach {wanted} in {timeout}s"
    return dict(body)


def finished_report(aws: Callable[..., Any], outputs: dict[str, str], audit_id: str) -> dict[str, Any]:
    obj = aws("s3").get_object(Bucket=outputs["ReportBucketName"], Key=f"reports/{audit_id}.json")
    report: dict[str, Any] = json.loads(obj["Body"].read())
    jsonschema.validate(report, SCHEMA)
    return report


def _approved_and_done(
    api: AuditApiClient, approver: AuditApiClient, group_id: str
) -> tuple[str, dict[str, Any]]:
    started = api.start_audit(group_id, mode="remediate", resource_type=GROUP)
    assert started.status == 202, started.body
    audit_id = started.body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"]).status == 200
    return audit_id, waiting


def test_an_approved_audit_of_a_group_open_on_22_ends_remediated_with_only_that_rule_gone(
    api, approver, aws, outputs, open_group
):
    # Given a group open on 22 to the internet, audited in remediate mode through the API
    audit_id, waiting = _approved_and_done(api, approver, open_group)
    # Then the person was shown one plan: revoke exactly that rule, by its id
    (plan,) = waiting["pendingPlans"]
    assert SSH_CHECK in plan["checkIds"] and plan["reversible"]
    done = wait_status(api, audit_id, {"SUCCEEDED", "FAILED"})
    assert done["status"] == "SUCCEEDED", done
    # And after approval the audit ends REMEDIATED, verified, with the office rule untouched
    report = finished_report(aws, outputs, audit_id)
    assert report["outcome"] == "REMEDIATED", report.get("verification")
    assert report["resource"] == {"type": GROUP, "id": open_group}
    assert report["resourceArn"].endswith(f":security-group/{open_group}")
    assert report["verification"]["stillFailing"] == []
    assert _rules(aws, open_group) == {(443, OFFICE)}


def test_a_rejected_audit_of_a_group_changes_nothing(api, aws, outputs, open_group):
    before = _rules(aws, open_group)
    audit_id = api.start_audit(open_group, mode="remediate", resource_type=GROUP).body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    assert api.decide(audit_id, "reject", comment="not now").status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    assert finished_report(aws, outputs, audit_id)["outcome"] == "REJECTED"
    assert _rules(aws, open_group) == before


def test_a_rollback_restores_the_revoked_rule_through_the_gate(api, approver, aws, outputs, open_group):
    # Given the SSH rule revoked by an approved audit
    audit_id, _ = _approved_and_done(api, approver, open_group)
    wait_status(api, audit_id, {"SUCCEEDED"})
    assert (22, "0.0.0.0/0") not in _rules(aws, open_group)
    # When its rollback is approved by another person
    rollback = api.rollback(audit_id)
    assert rollback.status == 202, rollback.body
    rollback_id = rollback.body["auditId"]
    pending = wait_status(api, rollback_id, {"AWAITING_APPROVAL"})
    assert approver.decide(rollback_id, "approve", plan_digest=pending["planDigest"]).status == 200
    wait_status(api, rollback_id, {"SUCCEEDED", "FAILED"})
    # Then the identical rule is back, verified
    report = finished_report(aws, outputs, rollback_id)
    assert report["outcome"] == "ROLLED_BACK", report.get("verification")
    assert _rules(aws, open_group) == {(22, "0.0.0.0/0"), (443, OFFICE)}


def test_a_missing_group_is_404_and_a_malformed_id_400(api):
    missing = api.start_audit("sg-0123456789abcdef0", resource_type=GROUP)
    assert missing.status == 404 and "does not exist" in missing.body["message"]
    malformed = api.start_audit("sg-XYZ", resource_type=GROUP)
    assert malformed.status == 400 and "is not a valid security group id" in malformed.body["message"]


def test_a_rule_opened_while_the_group_is_audited_is_audited_when_that_audit_ends(
    api, aws, outputs, open_group
):
    # Given an audit of the group waiting for its approval (it holds the group's lock)
    audit_id = api.start_audit(open_group, mode="remediate", resource_type=GROUP).body["auditId"]
    wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # When a rule is opened meanwhile (the CloudTrail event CloudTrail would deliver)
    detail = {
        "eventSource": "ec2.amazonaws.com",
        "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1",
        "requestParameters": {"groupId": open_group},
    }
    put = aws("events").put_events(
        Entries=[
            {"Source": "aws.ec2", "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(detail)}
        ]
    )
    event_id = put["Entries"][0]["EventId"]
    # Then no second audit runs beside the first
    arn = outputs["StateMachineArn"].replace(":stateMachine:", ":execution:") + f":{event_id}"
    sfn = aws("stepfunctions")

    def started() -> bool:
        try:
            sfn.describe_execution(executionArn=arn)
            return True
        except sfn.exceptions.ExecutionDoesNotExist:
            return False

    assert not wait_for(started, timeout=8, interval=0.5)
    # And once the first audit ends (rejected), the kept event starts its audit of the group
    assert api.decide(audit_id, "reject", comment="not now").status == 200
    wait_status(api, audit_id, {"SUCCEEDED"})
    assert wait_for(started, timeout=60, interval=0.5), "the kept event never started its audit"
    execution_input = json.loads(sfn.describe_execution(executionArn=arn)["input"])
    assert execution_input["resource"] == {"type": GROUP, "id": open_group}
