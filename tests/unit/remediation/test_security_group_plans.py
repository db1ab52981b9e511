"""Plans for security groups: one revoke per offending rule, shared by every check that flags it."""

import pytest

from secagent.checks import analyze
from secagent.models import AgentSettings, Plan, Probe, RemediationPlanSet, SecurityGroupSnapshot, Status
from secagent.remediation import cli_command, plan_remediations
from tests.unit.checks.groups import (
    ANY_IPV4,
    ANY_IPV6,
    GROUP_ID,
    HTTPS_IN,
    PREFIX_LIST,
    all_traffic,
    default_group,
    group,
    ingress,
    open_to,
    prefix_list,
    rule,
)

SSH = rule("tcp", 22, ANY_IPV4, rule_id="sgr-0000000000000ssh4", description="admin access")
DNS = rule("udp", 53, "10.0.0.0/8", rule_id="sgr-00000000000000053")
SSH_FLAGGED_BY = {
    "ec2_security_group_ssh_open_to_internet",
    "ec2_security_group_admin_ports_open_to_ipv4",
    "ec2_security_group_high_risk_port_open",
    "ec2_security_group_unauthorized_port_open",
}


def plans_for(snap: SecurityGroupSnapshot, settings: AgentSettings | None = None) -> RemediationPlanSet:
    settings = settings or AgentSettings()
    return plan_remediations(snap, analyze(snap, settings), settings)


def failing(snap: SecurityGroupSnapshot, settings: AgentSettings | None = None) -> set[str]:
    return {f.check_id for f in analyze(snap, settings).findings if f.status is Status.FAIL}


def test_open_ssh_gets_one_plan_revoking_exactly_that_rule_with_every_flagging_check() -> None:
    # Given a group that admits SSH from 0.0.0.0/0 beside HTTPS and a private DNS rule
    snap = open_to(HTTPS_IN, SSH, DNS)
    assert failing(snap) == SSH_FLAGGED_BY
    # When its fixes are planned
    result = plans_for(snap)
    # Then one plan revokes that rule by id, and every check that flagged it rides on that plan
    [plan] = result.plans
    assert plan.api_call.service == "ec2" and plan.api_call.operation == "RevokeSecurityGroupIngress"
    assert plan.api_call.parameters == {"GroupId": GROUP_ID, "SecurityGroupRuleIds": [SSH.rule_id]}
    assert plan.remediation_id == "ec2.close_internet_ssh"
    assert plan.check_ids[0] == "ec2_security_group_ssh_open_to_internet"
    assert set(plan.check_ids) == SSH_FLAGGED_BY and result.unplanned == []
    assert plan.reversible and SSH.rule_id in plan.title and "tcp 22 from 0.0.0.0/0" in plan.title
    assert plan.previous_config == [SSH.to_json_dict()]


def test_open_ssh_rollback_reauthorizes_the_identical_permission() -> None:
    [plan] = plans_for(open_to(HTTPS_IN, SSH, DNS)).plans
    assert plan.rollback is not None
    assert plan.rollback.operation == "AuthorizeSecurityGroupIngress"
    assert plan.rollback.parameters == {
        "GroupId": GROUP_ID,
        "IpPermissions": [
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": ANY_IPV4, "Description": "admin access"}],
            }
        ],
    }
    assert plan.rollback_cli_command == cli_command(plan.rollback)
    assert plan.cli_command.startswith("aws ec2 revoke-security-group-ingress")


def test_the_fix_leaves_every_check_passing() -> None:
    snap = open_to(HTTPS_IN, SSH, DNS)
    [plan] = plans_for(snap).plans
    revoked = set(plan.api_call.parameters["SecurityGroupRuleIds"])
    after = open_to(*(r for r in (HTTPS_IN, SSH, DNS) if r.rule_id not in revoked))
    assert failing(after) == set()


def test_narrowing_when_the_deployment_sets_a_trusted_ipv4_range() -> None:
    settings = AgentSettings(narrow_ingress_cidr_ipv4="198.51.100.0/24")
    [plan] = plans_for(open_to(HTTPS_IN, SSH), settings).plans
    assert plan.api_call.operation == "ModifySecurityGroupRules"
    assert plan.api_call.parameters["SecurityGroupRules"] == [
        {
            "SecurityGroupRuleId": SSH.rule_id,
            "SecurityGroupRule": {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "CidrIpv4": "198.51.100.0/24",
                "Description": "admin access",
            },
        }
    ]
    assert plan.rollback is not None and plan.rollback.operation == "ModifySecurityGroupRules"
    [restored] = plan.rollback.parameters["SecurityGroupRules"]
    assert restored["SecurityGroupRule"]["CidrIpv4"] == ANY_IPV4
    assert set(plan.check_ids) == SSH_FLAGGED_BY


def test_an_ipv6_rule_is_revoked_when_only_an_ipv4_range_is_trusted() -> None:
    settings = AgentSettings(narrow_ingress_cidr_ipv4="198.51.100.0/24")
    ssh6 = rule("tcp", 22, ANY_IPV6)
    [plan] = plans_for(open_to(ssh6), settings).plans
    assert plan.api_call.operation == "RevokeSecurityGroupIngress"


def test_default_group_gets_separate_inbound_and_outbound_plans() -> None:
    snap = default_group()
    result = plans_for(snap, AgentSettings(narrow_ingress_cidr_ipv4="198.51.100.0/24"))
    inbound, outbound = result.plans
    assert inbound.check_ids == ["ec2_default_security_group_allows_inbound"]
    assert inbound.api_call.operation == "RevokeSecurityGroupIngress"
    assert inbound.api_call.parameters["SecurityGroupRuleIds"] == ["sgr-0000000000000d001"]
    assert outbound.check_ids == ["ec2_default_security_group_allows_outbound"]
    assert outbound.api_call.operation == "RevokeSecurityGroupEgress"
    assert outbound.api_call.parameters["SecurityGroupRuleIds"] == ["sgr-0000000000000d002"]
    assert outbound.rollback is not None and outbound.rollback.operation == "AuthorizeSecurityGroupEgress"
    assert [inbound.order, outbound.order] == [1, 2] and inbound.remediation_id != outbound.remediation_id
    # the self-referencing rule comes back with its group pair on rollback
    assert inbound.rollback is not None
    assert inbound.rollback.parameters["IpPermissions"] == [
        {"IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"GroupId": GROUP_ID}]}
    ]


def test_default_group_open_rule_is_revoked_once_by_the_inbound_plan() -> None:
    # The inbound plan revokes every inbound rule, the SSH one too: the port checks attach to it.
    snap = default_group(ingress_rules=ingress(all_traffic(GROUP_ID, rule_id="sgr-0000000000000d001"), SSH))
    inbound, outbound = plans_for(snap).plans
    assert inbound.api_call.parameters["SecurityGroupRuleIds"] == ["sgr-0000000000000d001", SSH.rule_id]
    assert set(inbound.check_ids) == {"ec2_default_security_group_allows_inbound", *SSH_FLAGGED_BY}
    assert outbound.check_ids == ["ec2_default_security_group_allows_outbound"]


def test_two_open_rules_flagged_by_different_checks_get_one_plan_each() -> None:
    rdp = rule("tcp", 3389, ANY_IPV6, rule_id="sgr-00000000000003389")
    udp = rule("udp", 500, ANY_IPV4, rule_id="sgr-00000000000000500")
    result = plans_for(open_to(HTTPS_IN, SSH, rdp, udp))
    by_id = {p.remediation_id: p for p in result.plans}
    assert [p.remediation_id for p in result.plans] == [
        "ec2.close_internet_rdp",
        "ec2.close_internet_ssh",
        "ec2.close_internet_unauthorized_ports",
    ]
    assert by_id["ec2.close_internet_rdp"].api_call.parameters["SecurityGroupRuleIds"] == [rdp.rule_id]
    assert by_id["ec2.close_internet_ssh"].api_call.parameters["SecurityGroupRuleIds"] == [SSH.rule_id]
    # only the UDP rule is left for EC2.18 once SSH and RDP are closed
    assert by_id["ec2.close_internet_unauthorized_ports"].api_call.parameters["SecurityGroupRuleIds"] == [
        udp.rule_id
    ]
    planned = [c for p in result.plans for c in p.check_ids]
    assert len(planned) == len(set(planned)) and result.unplanned == []


def test_prefix_list_containing_the_internet_is_revoked_never_narrowed() -> None:
    via_list = rule("tcp", 22, PREFIX_LIST)
    snap = open_to(via_list, prefix_lists=prefix_list([ANY_IPV4]))
    [plan] = plans_for(snap, AgentSettings(narrow_ingress_cidr_ipv4="198.51.100.0/24")).plans
    assert plan.api_call.operation == "RevokeSecurityGroupIngress"
    assert plan.rollback is not None
    assert plan.rollback.parameters["IpPermissions"][0]["PrefixListIds"] == [{"PrefixListId": PREFIX_LIST}]


def test_an_undecided_prefix_list_rule_is_never_revoked() -> None:
    via_list = rule("tcp", 22, PREFIX_LIST)
    result = plans_for(open_to(SSH, via_list, prefix_lists=prefix_list(None)))
    revoked = {i for p in result.plans for i in p.api_call.parameters["SecurityGroupRuleIds"]}
    assert revoked == {SSH.rule_id}


def test_an_unused_group_is_never_planned() -> None:
    result = plans_for(group(network_interfaces=Probe(value=[])))
    assert result.plans == [] and result.unplanned == ["ec2_security_group_unused"]


@pytest.mark.parametrize("snap", [open_to(HTTPS_IN, SSH, DNS), default_group()], ids=["open-ssh", "default"])
def test_every_plan_targets_the_group_with_its_id(snap: SecurityGroupSnapshot) -> None:
    plans: list[Plan] = plans_for(snap).plans
    assert plans and all(
        p.resource_id == GROUP_ID and p.api_call.parameters["GroupId"] == GROUP_ID for p in plans
    )
