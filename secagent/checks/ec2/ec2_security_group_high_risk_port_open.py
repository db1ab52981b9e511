"""An ingress rule admits 0.0.0.0/0 or ::/0 to a high-risk port over TCP (FSBP EC2.19).

Security Hub EC2.19, "Security groups should not allow unrestricted access to ports with high
risk" (Config rule restricted-common-ports, created as vpc-sg-restricted-common-ports, with
``blockedPorts`` "20,21,22,23,25,110,135,143,445,1433,1434,3000,3306,3389,4333,5000,5432,5500,
5601,8080,8088,8888,9200,9300", not customizable): "This control fails if any of the rules in a
security group allow ingress traffic from '0.0.0.0/0' or '::/0' to those ports." The Config rule
checks "unrestricted incoming Transmission Control Protocol (TCP) traffic to specified ports".

Choices where the definition leaves room:
- TCP only, as the Config rule says: a TCP rule whose port range includes a listed port fails,
  and so does an all-traffic rule (protocol -1, which includes TCP). A UDP rule does not: EC2.18
  catches it (no UDP port is authorized), and EC2.53 / EC2.54 for 22 and 3389.
- A managed prefix list that contains 0.0.0.0/0 or ::/0 is as open as the CIDR itself
  (see ``_ingress``); one whose entries cannot be read makes the check UNKNOWN.
- The Config rule speaks of "security groups in use"; the product judges the group whether or
  not an interface uses it today (attaching it later exposes the port at once).
"""

from secagent.checks.base import Result
from secagent.checks.ec2._ingress import (
    EITHER_VERSION,
    Exposure,
    PrefixLists,
    internet_ingress,
    judge,
    opens_any,
)
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.security_group import SecurityGroupRule
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_high_risk_port_open",
    title="Security group allows 0.0.0.0/0 or ::/0 to a high-risk port",
    severity=Severity.CRITICAL,
    rationale="Unrestricted access increases opportunities for malicious activity, such as hacking, "
    "denial-of-service attacks, and loss of data; no security group should allow unrestricted ingress to "
    "FTP, SSH, Telnet, SMTP, POP3, RPC, IMAP, CIFS, database, RDP, OpenSearch or development-server ports.",
    controls=["FSBP:EC2.19"],
    remediation_id="ec2.close_internet_high_risk_ports",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 40  # after SSH / RDP / admin ports: it closes whatever high-risk rule they left
# Security Hub's blockedPorts for EC2.19 (ec2-controls page), in its order.
HIGH_RISK_PORTS = (
    20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000,
    3306, 3389, 4333, 5000, 5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300,
)  # fmt: skip
WHAT = "ingress from the whole internet to high-risk ports"


def exposure(rules: list[SecurityGroupRule], prefix_lists: PrefixLists) -> Exposure:
    def matches(rule: SecurityGroupRule) -> dict[str, list[int]] | None:
        ports = opens_any(rule, HIGH_RISK_PORTS, ("tcp",))
        return {"highRiskPorts": ports} if ports else None

    return internet_ingress(rules, prefix_lists, EITHER_VERSION, matches)


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    cfg = snapshot.config
    return judge(
        exposure(cfg.ingress_rules.value or [], cfg.prefix_lists),
        highRiskPorts=list(HIGH_RISK_PORTS),
        protocol="tcp",
    )


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    return close_rules(state, exposure(state.ingress, state.snapshot.config.prefix_lists).rules, WHAT)
