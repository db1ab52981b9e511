"""A VPC's default security group has an outbound rule (FSBP EC2.2; CIS 3.0 5.4).

Security Hub EC2.2, "VPC default security groups should not allow inbound or outbound traffic"
(Config rule vpc-default-security-group-closed): the Config rule "is NON_COMPLIANT if the default
security group has one or more inbound or outbound traffic rules".

The outbound half of EC2.2 (the inbound half is ec2_default_security_group_allows_inbound; the
control FAILs when either does). Any outbound rule counts, including the "all traffic to
0.0.0.0/0" rule AWS creates with the group. A group that is not its VPC's default group PASSes.
The fix revokes every outbound rule.
"""

from secagent.checks.base import Result
from secagent.checks.ec2._default_group import judge_default_group
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_default_security_group_allows_outbound",
    title="VPC default security group allows outbound traffic",
    severity=Severity.HIGH,
    rationale="The default security group cannot be deleted and is attached to resources launched without "
    "a group; with no rules it lets nothing out, which prevents unintended traffic if it is accidentally "
    "configured for resources such as EC2 instances.",
    controls=["FSBP:EC2.2", "CIS-3.0:5.4"],
    remediation_id="ec2.revoke_default_group_egress",
    # The rules matter only for a default group: a non-default one PASSes even when they are unreadable.
    requires=["group"],
    also_reads=["egress_rules"],
)
PHASE = 10
WHAT = "every outbound rule of the VPC's default security group"


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_default_group(snapshot, egress=True)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_rules(state, list(state.egress), WHAT, narrow=False)
