"""An ingress rule admits ::/0 to port 22 or 3389 over TCP or UDP (FSBP EC2.54; CIS 3.0 5.3).

Security Hub EC2.54, "EC2 security groups should not allow ingress from ::/0 to remote server
administration ports" (Config rule vpc-sg-port-restriction-check with ``ipType`` IPv6 and
``restrictPorts`` 22,3389, neither customizable): "The control fails if the security group allows
ingress from ::/0 to port 22 or 3389", "using either the TDP (6), UDP (17), or ALL (-1)
protocols" (``protocolType`` left at its default, ALL).

Choices where the definition leaves room: as EC2.53 (ec2_security_group_admin_ports_open_to_ipv4),
for IPv6 only; a prefix list that contains ::/0 is as open as the CIDR itself.
"""

from secagent.checks.base import Result
from secagent.checks.ec2._ingress import IPV6, close_admin_ports, judge_admin_ports
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_admin_ports_open_to_ipv6",
    title="Security group allows ::/0 to remote administration ports (22, 3389)",
    severity=Severity.HIGH,
    rationale="No security group should allow unrestricted ingress access to remote server administration "
    "ports, such as SSH to port 22 and RDP to port 3389, over TCP, UDP or all protocols: public access to "
    "these ports increases resource attack surface and the risk of resource compromise.",
    controls=["FSBP:EC2.54", "CIS-3.0:5.3"],
    remediation_id="ec2.close_internet_admin_ports_ipv6",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 30  # after the single-port SSH / RDP checks, before the wider port lists
WHAT = "ingress from ::/0 to remote administration ports (22, 3389)"


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_admin_ports(snapshot, IPV6)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_admin_ports(state, IPV6, WHAT)
