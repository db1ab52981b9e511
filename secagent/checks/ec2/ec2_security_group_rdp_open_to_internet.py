"""An ingress rule admits 0.0.0.0/0 or ::/0 to port 3389 (FSBP EC2.14).

Security Hub EC2.14, "Security groups should not allow ingress from 0.0.0.0/0 or ::/0 to port
3389" (Config rule restricted-common-ports, created as restricted-rdp): "The control fails if the
security group allows ingress from 0.0.0.0/0 or ::/0 to port 3389." The Config rule checks for
"unrestricted incoming Transmission Control Protocol (TCP) traffic to specified ports", open to a
source that covers "all IPv4 addresses ("0.0.0.0/0")" or "all IPv6 addresses ("::/0")".

Choices where the definition leaves room:
- TCP only, as the Config rule says: a TCP rule whose port range includes 3389 fails, and so does
  an all-traffic rule (protocol -1, which includes TCP); a UDP rule on 3389 does not (EC2.53 /
  EC2.54 count UDP).
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
    id="ec2_security_group_rdp_open_to_internet",
    title="Security group allows RDP (port 3389) from 0.0.0.0/0 or ::/0",
    severity=Severity.HIGH,
    rationale="No security group should allow unrestricted ingress access to port 3389: removing unfettered "
    "connectivity to remote console services, such as RDP, reduces a server's exposure to risk.",
    controls=["FSBP:EC2.14"],
    remediation_id="ec2.close_internet_rdp",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 20  # the narrowest port checks plan first, so each revoke names the most specific reason
RDP_PORT = 3389
WHAT = "ingress from the whole internet to RDP (port 3389)"


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    return judge_tcp_port(snapshot, RDP_PORT)


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_tcp_port(state, RDP_PORT, WHAT)
