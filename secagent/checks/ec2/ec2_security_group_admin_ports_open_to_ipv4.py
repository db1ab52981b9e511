"""An ingress rule admits 0.0.0.0/0 to port 22 or 3389 over TCP or UDP (FSBP EC2.53; CIS 3.0 5.2).

Security Hub EC2.53, "EC2 security groups should not allow ingress from 0.0.0.0/0 to remote
server administration ports" (Config rule vpc-sg-port-restriction-check with ``ipType`` IPv4 and
``restrictPorts`` 22,3389, neither customizable): "The control fails if the security group allows
ingress from 0.0.0.0/0 to port 22 or 3389." It asks for no unrestricted access to these ports
"using either the TDP (6), UDP (17), or ALL (-1) protocols"; the Config rule's ``protocolType``
is left at its default, ALL: "the rule will check for rules that use either 'TCP', 'UDP', or
'ALL' (-1) protocol".

Choices where the definition leaves room:
- IPv4 only: a ::/0 rule is EC2.54's. A port range that includes 22 or 3389 counts.
- A managed prefix list that contains 0.0.0.0/0 is as open as the CIDR itself (see ``_ingress``);
  one whose entries cannot be read makes the check UNKNOWN.
- The Config rule's ``excludeExternalSecurityGroups`` (default true) skips groups of other
  accounts; the product audits the group it is given, so that parameter has nothing to exclude.
"""

from secagent.checks.base import Result
from secagent.checks.ec2._ingress import IPV4, close_admin_ports, judge_admin_ports
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_admin_ports_open_to_ipv4",
    title="Security group allows 0.0.0.0/0 to remote administration ports (22, 3389)",
    severity=Severity.HIGH,
    rationale="No security group should allow unrestricted ingress access to remote server administration "
    "ports, such as SSH to port 22 and RDP to port 3389, over TCP, UDP or all protocols: public access to "
    "these ports increases resource attack surface and the risk of resource compromise.",
    controls=["FSBP:EC2.53", "CIS-3.0:5.2"],
    remediation_id="ec2.close_internet_admin_ports_ipv4",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 30  # after the single-port SSH / RDP checks, before the wider port lists
WHAT = "ingress from 0.0.0.0/0 to remote administration ports (22, 3389)"


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_admin_ports(snapshot, IPV4)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_admin_ports(state, IPV4, WHAT)
