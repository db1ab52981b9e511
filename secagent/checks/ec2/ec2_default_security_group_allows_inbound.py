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

from secagent.checks.base import Result
from secagent.checks.ec2._default_group import judge_default_group
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.findings import CheckMeta, Finding, Severity
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


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_default_group(snapshot, egress=False)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_rules(state, list(state.ingress), WHAT, narrow=False)
