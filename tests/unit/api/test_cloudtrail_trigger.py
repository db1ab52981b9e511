"""CloudTrail events (CreateBucket, CreateSecurityGroup, AuthorizeSecurityGroupIngress) start one
audit per event of the resource they name; every other event starts nothing and says why."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from secagent.api import ApiSettings, RecordStore, triggers
from secagent.api.triggers import AUDIT_TRIGGERS, audit_id_for_event, start_deferred, start_from_cloudtrail
from tests.unit.api.conftest import REPORT_BUCKET, STATE_MACHINE_ARN
from tests.unit.api.fakes import FakeStepFunctions

EVENTS = Path(__file__).resolve().parents[2] / "events"
APPLY_ROLE = "arn:aws:iam::123456789012:role/SecurityAgent-ToolsApplyRole-1A2B3C"


def event(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"cloudtrail_{name}.json").read_text())
    return loaded


def started_input(sfn: FakeStepFunctions) -> dict[str, Any]:
    [started] = sfn.called("StartExecution")
    loaded: dict[str, Any] = json.loads(started["input"])
    return loaded


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("create_bucket", {"type": "AWS::S3::Bucket", "id": "team-new-bucket"}),
        # the new group's id is in the answer: responseElements.groupId
        ("create_security_group", {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123456789abcdef0"}),
        # the group a rule was added to: requestParameters.groupId
        ("authorize_security_group_ingress", {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123abcd"}),
    ],
)
def test_each_trigger_event_starts_one_audit_of_the_resource_it_names(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    name: str,
    resource: dict[str, str],
) -> None:
    # Given the event as EventBridge delivers it, When it arrives twice (at-least-once delivery)
    delivered = event(name)
    first = start_from_cloudtrail(delivered, "remediate", sfn, s3, settings, records)
    again = start_from_cloudtrail(delivered, "remediate", sfn, s3, settings, records)
    # Then one audit of that resource started, named after the event; the redelivery started nothing
    assert (first.outcome, first.audit_id) == ("started", audit_id_for_event(delivered["id"]))
    assert (again.outcome, again.audit_id) == ("duplicate", first.audit_id)
    assert started_input(sfn)["resource"] == resource
    assert started_input(sfn)["mode"] == "remediate"


def test_the_triggers_are_the_documented_calls() -> None:
    assert [(t.source, t.event_name, t.resource_type) for t in AUDIT_TRIGGERS] == [
        ("aws.s3", "CreateBucket", "AWS::S3::Bucket"),
        ("aws.ec2", "CreateSecurityGroup", "AWS::EC2::SecurityGroup"),
        ("aws.ec2", "AuthorizeSecurityGroupIngress", "AWS::EC2::SecurityGroup"),
        ("aws.ec2", "AuthorizeSecurityGroupEgress", "AWS::EC2::SecurityGroup"),
        ("aws.ec2", "ModifySecurityGroupRules", "AWS::EC2::SecurityGroup"),
    ]


@pytest.mark.parametrize(
    ("event_name", "request_parameters"),
    [
        ("AuthorizeSecurityGroupEgress", {"groupId": "sg-0123abcd"}),
        # as CloudTrail records newer EC2 calls: the request wrapped in "<Operation>Request"
        (
            "ModifySecurityGroupRules",
            {
                "ModifySecurityGroupRulesRequest": {
                    "GroupId": "sg-0123abcd",
                    "SecurityGroupRule": {"SecurityGroupRuleId": "sgr-0fedcba9876543210", "tag": 1},
                }
            },
        ),
        ("ModifySecurityGroupRules", {"groupId": "sg-0123abcd"}),
    ],
)
def test_a_rule_let_out_or_changed_in_place_starts_an_audit_of_its_group(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    event_name: str,
    request_parameters: dict[str, Any],
) -> None:
    delivered = mutated("authorize_security_group_ingress", ("detail", "eventName"), event_name)
    delivered["detail"]["requestParameters"] = request_parameters
    delivered["detail"]["responseElements"] = {"_return": True}
    result = start_from_cloudtrail(delivered, "plan", sfn, s3, settings, records)
    assert result.outcome == "started", result.reason
    assert started_input(sfn)["resource"] == {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123abcd"}


@pytest.mark.parametrize(
    "name", ["create_bucket", "create_security_group", "authorize_security_group_ingress"]
)
def test_a_failed_call_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, name: str
) -> None:
    # The rule matches no errorCode; an invocation with one anyway (the function invoked directly)
    failed = event(name)
    failed["detail"]["errorCode"] = "Client.UnauthorizedOperation"
    result = start_from_cloudtrail(failed, "remediate", sfn, s3, settings, records)
    assert result.outcome == "skipped" and "not a successful call" in (result.reason or "")
    assert sfn.called("StartExecution") == []


def mutated(name: str | dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """The event (a sample's name, or an event) with the value at ``path`` replaced (None: removed)."""
    changed = copy.deepcopy(event(name) if isinstance(name, str) else name)
    *parents, last = path
    target = changed
    for key in parents:
        target = target[key]
    if value is None:
        target.pop(last)
    else:
        target[last] = value
    return changed


@pytest.mark.parametrize(
    ("delivered", "reason"),
    [
        # another call, or another service's call of the same name
        (mutated("create_bucket", ("detail", "eventName"), "DeleteBucket"), "not a successful call of"),
        (
            mutated("create_security_group", ("detail", "eventSource"), "s3.amazonaws.com"),
            "not a successful call",
        ),
        # an ingress rule event naming the group neither in the request nor in the answer
        (
            mutated(
                mutated("authorize_security_group_ingress", ("detail", "requestParameters", "groupId"), None),
                ("detail", "responseElements"),
                None,
            ),
            "names no requestParameters.groupId or responseElements.securityGroupRuleSet.items.0.groupId",
        ),
        # an event of another account, or of another region, than the deployment's
        (mutated("create_bucket", ("account",), "999999999999"), "another account or region"),
        (mutated("create_bucket", ("detail", "awsRegion"), "ap-south-1"), "another account or region"),
        (
            mutated("create_security_group", ("detail", "responseElements"), None),
            "names no responseElements.groupId",
        ),
        # not an event at all
        ({"detail": {}}, "not a CloudTrail event (at id)"),
        ({"id": "e-1", "detail": "CreateBucket"}, "not a CloudTrail event (at detail)"),
        (
            mutated("create_bucket", ("detail", "requestParameters"), "team-new-bucket"),
            "at detail.requestParameters",
        ),
    ],
)
def test_an_event_that_names_nothing_to_audit_is_skipped_with_the_reason(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, delivered: Any, reason: str
) -> None:
    result = start_from_cloudtrail(delivered, "remediate", sfn, s3, settings, records)
    assert result.outcome == "skipped" and reason in (result.reason or ""), result.reason
    assert sfn.called("StartExecution") == []


def test_an_event_naming_an_invalid_group_id_is_skipped_not_raised(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    delivered = mutated(
        "authorize_security_group_ingress", ("detail", "requestParameters", "groupId"), "sg-12"
    )
    result = start_from_cloudtrail(delivered, "remediate", sfn, s3, settings, records)
    assert result.outcome == "skipped" and "not an auditable security group" in (result.reason or "")
    assert sfn.called("StartExecution") == []


def test_a_rule_added_by_the_agents_own_apply_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given the event of a rollback: Apply's role authorized the revoked rules again
    delivered = mutated(
        "authorize_security_group_ingress",
        ("detail", "userIdentity", "sessionContext", "sessionIssuer", "arn"),
        APPLY_ROLE,
    )
    # Then no audit proposes to revoke them again; a person's call still starts one
    ignored = frozenset({APPLY_ROLE})
    result = start_from_cloudtrail(delivered, "remediate", sfn, s3, settings, records, ignored_roles=ignored)
    assert result.outcome == "skipped" and APPLY_ROLE in (result.reason or "")
    person = event("authorize_security_group_ingress")
    assert start_from_cloudtrail(
        person, "plan", sfn, s3, settings, records, ignored_roles=ignored
    ).outcome == ("started")


def test_an_event_for_a_group_being_audited_is_kept_and_audited_when_that_audit_completes(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    """Attack: hold the group's lock with an audit that waits days for approval, then open SSH: the
    event of the opening must not be dropped."""
    # Given an audit of a new group, still running (waiting for an approval)
    created = start_from_cloudtrail(event("create_security_group"), "plan", sfn, s3, settings, records)
    assert created.outcome == "started" and created.audit_id
    # When a rule is added to the group meanwhile
    opened = mutated(
        "authorize_security_group_ingress", ("detail", "requestParameters", "groupId"), "sg-0123456789abcdef0"
    )
    opened["id"] = "opened-ssh"
    kept = start_from_cloudtrail(opened, "plan", sfn, s3, settings, records)
    # Then nothing starts yet, the event is kept, naming the running audit
    assert (kept.outcome, kept.audit_id) == ("deferred", created.audit_id)
    assert len(sfn.called("StartExecution")) == 1
    # And when that audit completes, the kept event starts its audit, once
    sfn.executions[settings.execution_arn(created.audit_id)].status = "SUCCEEDED"
    completed = {
        "source": "secagent",
        "detail-type": "Audit Completed",
        "detail": {
            "auditId": created.audit_id,
            "resource": {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123456789abcdef0"},
        },
    }
    started = start_deferred(completed, sfn, s3, settings, records)
    assert (started.outcome, started.audit_id) == ("started", audit_id_for_event("opened-ssh"))
    assert start_deferred(completed, sfn, s3, settings, records).outcome == "skipped"  # a redelivery
    assert len(sfn.called("StartExecution")) == 2


def test_a_forged_completion_while_the_audit_runs_starts_nothing_and_keeps_the_event(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(triggers, "COMPLETION_GRACE_SECONDS", 0.0)
    created = start_from_cloudtrail(event("create_security_group"), "plan", sfn, s3, settings, records)
    opened = mutated(
        "authorize_security_group_ingress", ("detail", "requestParameters", "groupId"), "sg-0123456789abcdef0"
    )
    opened["id"] = "opened-ssh"
    start_from_cloudtrail(opened, "plan", sfn, s3, settings, records)
    forged = {
        "source": "secagent",
        "detail-type": "Audit Completed",
        "detail": {
            "auditId": created.audit_id,
            "resource": {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123456789abcdef0"},
        },
    }
    # The lock still holds: nothing starts, and the event stays kept for the real completion
    assert start_deferred(forged, sfn, s3, settings, records).outcome == "deferred"
    assert len(sfn.called("StartExecution")) == 1


def test_a_rule_added_to_a_group_named_by_name_audits_the_group_the_answer_names(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given AuthorizeSecurityGroupIngress called with --group-name (the default VPC allows it): the
    # request names no group id, the answer's rule set does
    by_name = mutated("authorize_security_group_ingress", ("detail", "requestParameters", "groupId"), None)
    by_name["detail"]["requestParameters"]["groupName"] = "web"
    # When it is delivered, Then the group is audited all the same
    result = start_from_cloudtrail(by_name, "plan", sfn, s3, settings, records)
    assert result.outcome == "started"
    assert started_input(sfn)["resource"] == {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123abcd"}


def test_a_group_event_outside_the_remediation_scope_starts_a_plan_audit(
    sfn: FakeStepFunctions, s3: Any, records: RecordStore
) -> None:
    # Given a deployment whose remediation scope names buckets (so no security group)
    scoped = ApiSettings.model_validate(
        {
            "stateMachineArn": STATE_MACHINE_ARN,
            "reportBucket": REPORT_BUCKET,
            "scope": {"remediationPrefixes": ["sandbox-"]},
        }
    )
    # When a group is opened, Then it is audited all the same, in plan mode
    result = start_from_cloudtrail(
        event("authorize_security_group_ingress"), "remediate", sfn, s3, scoped, records
    )
    assert result.outcome == "started" and started_input(sfn)["mode"] == "plan"
