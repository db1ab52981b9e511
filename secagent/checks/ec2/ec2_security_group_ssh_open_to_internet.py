"""An ingress rule admits 0.0.0.0/0 or ::/0 to port 22 (FSBP EC2.13).

Security Hub EC2.13, "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port
22" (Config rule restricted-ssh): "The control fails if the security group allows ingress from
0.0.0.0/0 or ::/0 to port 22." The Config rule: COMPLIANT "if the IP addresses of the incoming SSH
traffic in the security groups are restricted (CIDR other than 0.0.0.0/0 or ::/0)".

Choices where the definition leaves room:
- SSH is TCP: a TCP rule whose port range includes 22 fails, and so does an all-traffic rule
  (protocol -1); a UDP rule on port 22 does not (EC2.53 / EC2.54 count UDP).
- A managed prefix list that contains 0.0.0.0/0 or ::/0 is as open as the CIDR itself
  (see ``_ingress``); one whose entries cannot be read makes the check UNKNOWN.
"""

from secagent.checks.base import Result
from secagent.checks.ec2._ingress import close_tcp_port, judge_tcp_port
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_ssh_open_to_internet",
    title="Security group allows SSH (port 22) from 0.0.0.0/0 or ::/0",
    severity=Severity.HIGH,
    rationale="No security group should allow unrestricted ingress access to port 22: removing unfettered "
    "connectivity to remote console services, such as SSH, reduces a server's exposure to risk.",
    controls=["FSBP:EC2.13"],
    remediation_id="ec2.close_internet_ssh",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 20  # the narrowest port checks plan first, so each revoke names the most specific reason
SSH_PORT = 22
WHAT = "ingress from the whole internet to SSH (port 22)"


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_tcp_port(snapshot, SSH_PORT)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_tcp_port(state, SSH_PORT, WHAT)
