"""The approval gate for a security group, on moto EC2: what a person approves is exactly what is
applied (the offending rule, by id, and nothing else), and a plan forged to open access, or to act
on another group, is refused whoever approved it."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest

from scripts.groups import create_open_group
from secagent.models import AgentSettings, Plan, ResourceRef
from secagent.models.errors import ApprovalInvalid
from secagent.models.records import ApplyProgress
from secagent.models.report import ApplyStatus
from secagent.workflow.apply import apply_plans
from secagent.workflow.gate import authorize, check_targets
from tests.unit.workflow.conftest import DECIDED_AT, REPORTS, SETTINGS, Storage

AUDIT = "audit-sg-0001"
ROLLBACK = "audit-sg-0002"
NOW = DECIDED_AT + timedelta(minutes=5)  # Apply soon after the decision


def _open_group(session: boto3.Session) -> tuple[ResourceRef, dict[str, str]]:
    """A group with SSH open to the internet, and HTTPS from one office range (left alone)."""
    group_id = create_open_group(session.client("ec2"), "web", in_use=False)
    return ResourceRef(type="AWS::EC2::SecurityGroup", id=group_id), _rule_ids(session, group_id)


def _rule_ids(session: boto3.Session, group_id: str) -> dict[str, str]:
    """Ingress rule id by "port source"."""
    rules = session.client("ec2").describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )["SecurityGroupRules"]
    return {
        f"{r['FromPort']} {r.get('CidrIpv4') or r.get('CidrIpv6')}": r["SecurityGroupRuleId"]
        for r in rules
        if not r["IsEgress"]
    }


def _approved(storage: Storage, group: ResourceRef, audit_id: str = AUDIT) -> None:
    storage.request(audit_id, resource=group)
    storage.discover_and_analyze(audit_id, group)
    storage.decide(audit_id)


def _apply(storage: Storage, audit_id: str) -> ApplyProgress:
    """What Apply does after the gate, with the deployment's settings (the storage's)."""
    authorized = authorize(audit_id, REPORTS, storage.settings, storage.sealer, storage.clients, now=NOW)
    return apply_plans(
        audit_id,
        authorized.plans,
        authorized.decision.plan_digest or "",
        None,
        lambda _: None,
        clients=storage.clients,
    )


def test_an_approved_audit_of_a_group_revokes_only_the_offending_rule(
    storage: Storage, session: boto3.Session
) -> None:
    # Given a group open on 22 to the internet, audited and approved by default
    group, before = _open_group(session)
    _approved(storage, group)
    # When Apply runs what the gate authorizes
    progress = _apply(storage, AUDIT)
    # Then one plan revoked the SSH rule by its id, and the office HTTPS rule is still there
    assert [r.status for r in progress.results] == [ApplyStatus.APPLIED]
    (plan,) = progress.plans
    assert plan.api_call.operation == "RevokeSecurityGroupIngress"
    assert plan.api_call.parameters == {"GroupId": group.id, "SecurityGroupRuleIds": [before["22 0.0.0.0/0"]]}
    assert _rule_ids(session, group.id) == {"443 198.51.100.0/24": before["443 198.51.100.0/24"]}


def test_a_rollback_authorizes_the_identical_rule_again(storage: Storage, session: boto3.Session) -> None:
    # Given the fix applied and recorded as Apply records it
    group, _ = _open_group(session)
    _approved(storage, group)
    storage.checkpoint(AUDIT, "applied", _apply(storage, AUDIT).to_json_dict())
    # When a rollback audit of it is approved and applied
    storage.request(ROLLBACK, resource=group, mode="rollback", rollback_of=AUDIT)
    storage.discover_and_analyze(ROLLBACK, group)
    storage.decide(ROLLBACK)
    progress = _apply(storage, ROLLBACK)
    # Then SSH from anywhere is back (under a new rule id), the office rule untouched
    assert [p.api_call.operation for p in progress.plans] == ["AuthorizeSecurityGroupIngress"]
    assert set(_rule_ids(session, group.id)) == {"22 0.0.0.0/0", "443 198.51.100.0/24"}


def _edited(plan: Plan, **call: Any) -> Plan:
    return plan.model_copy(update={"api_call": plan.api_call.model_copy(update=call)})


def test_attack_a_plan_that_opens_a_group_is_refused_outside_a_rollback(
    storage: Storage, session: boto3.Session
) -> None:
    # Given the honest plan of an approved group audit
    group, _ = _open_group(session)
    _approved(storage, group)
    (plan,) = authorize(AUDIT, REPORTS, SETTINGS, storage.sealer, storage.clients, now=NOW).plans
    request = storage.request("audit-sg-0003", resource=group)
    snapshot = storage.discover_and_analyze("audit-sg-0003", group)
    # When the plan is forged into one that opens the group, or acts on another group or service
    opening = _edited(
        plan,
        operation="AuthorizeSecurityGroupIngress",
        parameters={
            "GroupId": group.id,
            "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        },
    )
    other_group = _edited(plan, parameters={**plan.api_call.parameters, "GroupId": "sg-0fedcba9876543210"})
    widened = _edited(
        plan,
        operation="ModifySecurityGroupRules",
        parameters={
            "GroupId": group.id,
            "SecurityGroupRules": [
                {
                    "SecurityGroupRuleId": "sgr-0123456789abcdef0",
                    "SecurityGroupRule": {"IpProtocol": "-1", "CidrIpv6": "::/0"},
                }
            ],
        },
    )
    bucket_call = _edited(plan, service="s3", operation="PutBucketAcl", parameters={"Bucket": group.id})
    # Then each is refused
    for forged, message in (
        (opening, "opens access; only a rollback may"),
        (widened, "ModifySecurityGroupRules opens access; only a rollback may"),
        (other_group, "targets 'sg-0fedcba9876543210'"),
        (bucket_call, "s3:PutBucketAcl is not a fix"),
    ):
        with pytest.raises(ApprovalInvalid, match=message):
            check_targets([forged], request, snapshot)


def test_attack_a_bucket_audit_may_not_carry_a_security_group_call(
    storage: Storage, session: boto3.Session
) -> None:
    # Given a bucket audit (a bucket may be named like a group id)
    group, _ = _open_group(session)
    session.client("s3").create_bucket(Bucket=group.id)
    request = storage.request("audit-sg-0004", resource=group.id)
    snapshot = storage.discover_and_analyze("audit-sg-0004", group.id)
    revoke = Plan(
        plan_id="01-x",
        order=1,
        check_ids=["x"],
        remediation_id="x",
        title="x",
        resource_id=group.id,
        api_call={
            "service": "ec2",
            "operation": "RevokeSecurityGroupIngress",
            "parameters": {"GroupId": group.id},
        },
        cli_command="aws ec2 ...",
        risk="x",
        reversible=True,
    )
    # When / Then an EC2 call in it is no fix of a bucket
    with pytest.raises(ApprovalInvalid, match="ec2:RevokeSecurityGroupIngress is not a fix"):
        check_targets([revoke], request, snapshot)


def test_attack_a_rollback_of_a_narrowing_after_the_rule_changed_is_refused(
    storage: Storage, session: boto3.Session
) -> None:
    # Given a deployment that narrows instead of revoking, and SSH narrowed by an approved audit
    narrow = AgentSettings(narrow_ingress_cidr_ipv4="10.0.0.0/8")
    storage = replace(storage, settings=narrow)
    group, before = _open_group(session)
    _approved(storage, group)
    progress = _apply(storage, AUDIT)
    assert [p.api_call.operation for p in progress.plans] == ["ModifySecurityGroupRules"]
    storage.checkpoint(AUDIT, "applied", progress.to_json_dict())
    # And an administrator later repurposes the narrowed rule
    narrowed = before["22 0.0.0.0/0"]
    repurposed = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "CidrIpv4": "10.1.0.0/16"}
    session.client("ec2").modify_security_group_rules(
        GroupId=group.id,
        SecurityGroupRules=[{"SecurityGroupRuleId": narrowed, "SecurityGroupRule": repurposed}],
    )
    # When a rollback of the narrowing is requested and discovered
    storage.request(ROLLBACK, resource=group, mode="rollback", rollback_of=AUDIT)
    storage.discover_and_analyze(ROLLBACK, group)
    # Then nobody can approve it, and the repurposed rule stays as its owner left it
    with pytest.raises(ApprovalInvalid, match=f"rule {narrowed} changed since the fix"):
        storage.decide(ROLLBACK)
    assert _rule_ids(session, group.id)["5432 10.1.0.0/16"] == narrowed


def test_a_rollback_of_an_untouched_narrowing_restores_the_rule(
    storage: Storage, session: boto3.Session
) -> None:
    narrow = AgentSettings(narrow_ingress_cidr_ipv4="10.0.0.0/8")
    storage = replace(storage, settings=narrow)
    group, before = _open_group(session)
    _approved(storage, group)
    storage.checkpoint(AUDIT, "applied", _apply(storage, AUDIT).to_json_dict())
    assert "22 10.0.0.0/8" in _rule_ids(session, group.id)
    storage.request(ROLLBACK, resource=group, mode="rollback", rollback_of=AUDIT)
    storage.discover_and_analyze(ROLLBACK, group)
    storage.decide(ROLLBACK)
    _apply(storage, ROLLBACK)
    assert _rule_ids(session, group.id)["22 0.0.0.0/0"] == before["22 0.0.0.0/0"]  # the same rule, as it was


def test_attack_a_group_shared_from_another_account_is_never_authorized(
    storage: Storage, session: boto3.Session
) -> None:
    # Given the honest plan of a group, and the group as Discover records one shared by another
    # account (VPC sharing): owned by that account, read by the deployment's
    group, _ = _open_group(session)
    _approved(storage, group)
    (plan,) = authorize(AUDIT, REPORTS, SETTINGS, storage.sealer, storage.clients, now=NOW).plans
    request = storage.request("audit-sg-0005", resource=group)
    ours = storage.discover_and_analyze("audit-sg-0005", group)
    shared = ours.model_copy(update={"account_id": "999999999999"})
    # When / Then its plans are refused: the group is its owner's to change
    check_targets([plan], request, ours)
    with pytest.raises(ApprovalInvalid, match="belongs to account 999999999999"):
        check_targets([plan], request, shared)
