"""A VPC's default security group has an inbound rule (FSBP EC2.2; CIS 3.0 5.4).

Security Hub EC2.2, "VPC default security groups should not allow inbound or outbound traffic"
(Config rule vpc-default-security-group-closed): "The control fails if the security group allows
inbound or outbound traffic." The Config rule "is NON_COMPLIANT if the default security group has
one or more inbound or outbound traffic rules".

EC2.2 is split in two checks, inbound here and outbound in
ec2_default_security_group_allows_outbound, so that each is fixed on its own (one plan revokes
the inbound rules, another the outbound ones) and either can be exempted alone; the control FAILs
when either does.

Choices where the definition leaves room:
- Any inbound rule counts, whatever its source: the default group's own rule "all traffic from
  this group" is the one AWS creates and the one the control is about.
- A group that is not its VPC's default group PASSes (Config does not evaluate it).
- The fix revokes every inbound rule; it never narrows one to the deployment's trusted range
  (a narrowed rule still fails the control).
"""

from typing import Any

from secagent.checks.base import Result, failed, passed, unknown
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.security_group import SecurityGroupRule
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_default_security_group_allows_inbound",
    title="VPC default security group allows inbound traffic",
    severity=Severity.HIGH,
    rationale="The default security group cannot be deleted and is attached to resources launched without "
    "a group; with no rules it admits nothing, which prevents unintended traffic if it is accidentally "
    "configured for resources such as EC2 instances.",
    controls=["FSBP:EC2.2", "CIS-3.0:5.4"],
    remediation_id="ec2.revoke_default_group_ingress",
    # The rules matter only for a default group: a non-default one PASSes even when they are unreadable.
    requires=["group"],
    also_reads=["ingress_rules"],
)
PHASE = 10  # before the port checks: one revoke of every inbound rule covers theirs too
WHAT = "every inbound rule of the VPC's default security group"


def rule_evidence(rule: SecurityGroupRule) -> dict[str, str]:
    peer = "destination" if rule.egress else "source"
    return {"ruleId": rule.rule_id, "traffic": rule.traffic(), peer: rule.source()}


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    group = snapshot.config.group.value
    if group is None:
        return unknown("the group's description was read empty: cannot tell whether it is the default group")
    if not group.is_vpc_default:
        return passed(defaultGroup=False, inScope=False)
    probe = snapshot.config.ingress_rules
    if not probe.known:
        return unknown(
            f"inbound rules unreadable: {probe.reason}", defaultGroup=True, unknownFields=["ingress_rules"]
        )
    rules = probe.value or []
    evidence: dict[str, Any] = {
        "defaultGroup": True,
        "vpcId": group.vpc_id,
        "inboundRules": [rule_evidence(r) for r in rules],
    }
    return failed(**evidence) if rules else passed(**evidence)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_rules(state, list(state.ingress), WHAT, narrow=False)
