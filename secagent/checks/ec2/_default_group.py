"""What the two halves of EC2.2 share: the verdict on a VPC's default group's rules of one direction."""

from typing import Any

from secagent.checks.base import Result, failed, passed, unknown
from secagent.models.security_group import SecurityGroupRule
from secagent.models.snapshot import SecurityGroupSnapshot


def rule_evidence(rule: SecurityGroupRule) -> dict[str, str]:
    peer = "destination" if rule.egress else "source"
    return {"ruleId": rule.rule_id, "traffic": rule.traffic(), peer: rule.source()}


def judge_default_group(snapshot: SecurityGroupSnapshot, *, egress: bool) -> list[Result]:
    """FAIL when the group is its VPC's default and has any rule of that direction; a group that
    is not a default one PASSes (Config does not evaluate it), even with its rules unreadable."""
    group = snapshot.config.group.value
    if group is None:
        return unknown("the group's description was read empty: cannot tell whether it is the default group")
    if not group.is_vpc_default:
        return passed(defaultGroup=False, inScope=False)
    field, word = ("egress_rules", "outbound") if egress else ("ingress_rules", "inbound")
    probe = getattr(snapshot.config, field)
    if not probe.known:
        return unknown(f"{word} rules unreadable: {probe.reason}", defaultGroup=True, unknownFields=[field])
    rules = probe.value or []
    evidence: dict[str, Any] = {
        "defaultGroup": True,
        "vpcId": group.vpc_id,
        f"{word}Rules": [rule_evidence(r) for r in rules],
    }
    return failed(**evidence) if rules else passed(**evidence)
