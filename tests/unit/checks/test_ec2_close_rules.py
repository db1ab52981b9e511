"""The security group fix builder: revoke or narrow exactly the rules named, each once."""

from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models import AgentSettings
from tests.unit.checks.groups import ANY_IPV4, ANY_IPV6, HTTPS_IN, PREFIX_LIST, default_group, open_to, rule

NARROWING = AgentSettings(narrow_ingress_cidr_ipv4="203.0.113.0/24", narrow_ingress_cidr_ipv6="2001:db8::/32")


def test_close_rules_revokes_each_rule_once_and_leaves_the_others() -> None:
    ssh = rule("tcp", 22, rule_id="sgr-00000000000000022")
    state = SecurityGroupPlanningState.start(open_to(HTTPS_IN, ssh), AgentSettings())
    draft = close_rules(state, [ssh, ssh], "SSH")
    assert draft is not None and draft.api_call.operation == "RevokeSecurityGroupIngress"
    assert draft.api_call.parameters["SecurityGroupRuleIds"] == [ssh.rule_id]
    assert draft.rollback is not None and draft.rollback.parameters["IpPermissions"] == [ssh.ip_permission()]
    assert state.ingress == [HTTPS_IN]
    assert close_rules(state, [ssh], "SSH") is None  # already closed


def test_close_rules_narrows_when_every_rule_can_be_narrowed() -> None:
    v4, v6 = rule("tcp", 22, ANY_IPV4), rule("tcp", 22, ANY_IPV6)
    state = SecurityGroupPlanningState.start(open_to(v4, v6), NARROWING)
    draft = close_rules(state, [v4, v6], "SSH")
    assert draft is not None and draft.api_call.operation == "ModifySecurityGroupRules"
    assert [r.cidr_ipv4 or r.cidr_ipv6 for r in state.ingress] == ["203.0.113.0/24", "2001:db8::/32"]


def test_close_rules_revokes_all_when_one_cannot_be_narrowed() -> None:
    v4, via_list = rule("tcp", 22, ANY_IPV4), rule("tcp", 22, PREFIX_LIST)
    state = SecurityGroupPlanningState.start(open_to(v4, via_list), NARROWING)
    draft = close_rules(state, [v4, via_list], "SSH")
    assert draft is not None and draft.api_call.operation == "RevokeSecurityGroupIngress"


def test_close_rules_never_narrows_when_told_not_to_and_revokes_egress() -> None:
    snap = default_group()
    state = SecurityGroupPlanningState.start(snap, NARROWING)
    inbound = close_rules(state, list(state.ingress), "inbound", narrow=False)
    outbound = close_rules(state, list(state.egress), "outbound", narrow=False)
    assert inbound is not None and inbound.api_call.operation == "RevokeSecurityGroupIngress"
    assert outbound is not None and outbound.api_call.operation == "RevokeSecurityGroupEgress"
    assert "to 0.0.0.0/0" in outbound.title and state.ingress == state.egress == []


def test_close_rules_uses_the_rule_as_earlier_plans_left_it() -> None:
    ssh = rule("tcp", 22, ANY_IPV4)
    state = SecurityGroupPlanningState.start(open_to(ssh), NARROWING)
    assert close_rules(state, [ssh], "SSH") is not None  # narrowed to 203.0.113.0/24
    draft = close_rules(state, [ssh], "everything", narrow=False)
    assert draft is not None and draft.rollback is not None
    # the rollback re-authorizes the rule as it stood before this plan: the narrowed one
    assert draft.rollback.parameters["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "203.0.113.0/24"}]
