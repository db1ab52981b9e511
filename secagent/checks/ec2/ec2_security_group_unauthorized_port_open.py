"""An ingress rule admits 0.0.0.0/0 or ::/0 to a port that is not authorized (FSBP EC2.18).

Security Hub EC2.18, "Security groups should only allow unrestricted incoming traffic for
authorized ports" (Config rule vpc-sg-open-only-to-authorized-ports): parameters
``authorizedTcpPorts`` (Security Hub default [80,443]) and ``authorizedUdpPorts`` (no default);
"the control fails if the security group permits unrestricted incoming traffic from any unlisted
port". The Config rule "Checks if security groups allowing unrestricted incoming traffic
('0.0.0.0/0' or '::/0') only allow inbound TCP or UDP connections on authorized ports";
"Unrestricted access (IP address with a /0 suffix)".

Choices where the definition leaves room:
- TCP ports authorized: the deployment's ``authorized_ports`` (SECAGENT_AUTHORIZED_PORTS, default
  80 and 443, Security Hub's default). UDP ports authorized: none, Security Hub's default; the
  deployment has no setting for them yet.
- A rule fails unless every port of its range is authorized: TCP 80-443 with 80 and 443
  authorized fails (81-442 are not). An all-traffic rule (protocol -1) opens every TCP and UDP
  port, so it fails. Rules of other protocols (ICMP, ESP, ...) carry no TCP or UDP connection:
  the rule does not judge them.
- A managed prefix list that contains 0.0.0.0/0 or ::/0 is as open as the CIDR itself
  (see ``_ingress``); one whose entries cannot be read makes the check UNKNOWN.
- Config answers NOT_APPLICABLE for a group with no /0 ingress; that is a PASS here.
"""

from secagent.checks.base import Result
from secagent.checks.ec2._ingress import EITHER_VERSION, Exposure, PrefixLists, internet_ingress, judge
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.security_group import SecurityGroupRule
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

META = CheckMeta(
    id="ec2_security_group_unauthorized_port_open",
    title="Security group allows 0.0.0.0/0 or ::/0 to a port that is not authorized",
    severity=Severity.HIGH,
    rationale="Security group rules should follow the principle of least privileged access: unrestricted "
    "access (a /0 source) increases the opportunity for malicious activity such as hacking, "
    "denial-of-service attacks, and loss of data. Unless a port is specifically allowed, it should deny "
    "unrestricted access.",
    controls=["FSBP:EC2.18"],
    remediation_id="ec2.close_internet_unauthorized_ports",
    requires=["ingress_rules"],
    also_reads=["prefix_lists"],
)
PHASE = 50  # last of the port checks: it closes whatever the narrower ones left open
AUTHORIZED_UDP_PORTS: frozenset[int] = frozenset()  # Security Hub's default: none
WHAT = "ingress from the whole internet to ports that are not authorized"


def unauthorized_spans(low: int, high: int, authorized: frozenset[int]) -> list[str]:
    """The ports of ``low``-``high`` that ``authorized`` leaves out, as ranges ("81-442")."""
    spans: list[str] = []
    start = low
    for port in sorted(p for p in authorized if low <= p <= high):
        if port > start:
            spans.append(str(start) if port - 1 == start else f"{start}-{port - 1}")
        start = port + 1
    if start <= high:
        spans.append(str(start) if start == high else f"{start}-{high}")
    return spans


def exposure(rules: list[SecurityGroupRule], prefix_lists: PrefixLists, settings: AgentSettings) -> Exposure:
    authorized = {"tcp": frozenset(settings.authorized_ports), "udp": AUTHORIZED_UDP_PORTS}

    def matches(rule: SecurityGroupRule) -> dict[str, list[str]] | None:
        # An all-traffic rule opens every TCP and every UDP port.
        protocols = ("tcp", "udp") if rule.transport == "all" else (rule.transport,)
        span = rule.ports()
        if span is None or not set(protocols) <= authorized.keys():
            return None  # not a TCP or UDP connection: not this rule's business
        detail = {
            f"unauthorized{protocol.capitalize()}Ports": unauthorized_spans(*span, authorized[protocol])
            for protocol in protocols
        }
        return {key: spans for key, spans in detail.items() if spans} or None

    return internet_ingress(rules, prefix_lists, EITHER_VERSION, matches)


def evaluate(snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> list[Result]:
    cfg = snapshot.config
    return judge(
        exposure(cfg.ingress_rules.value or [], cfg.prefix_lists, settings),
        authorizedTcpPorts=sorted(settings.authorized_ports),
        authorizedUdpPorts=sorted(AUTHORIZED_UDP_PORTS),
    )


def remediate(state: SecurityGroupPlanningState, finding: Finding) -> Draft | None:
    rules = exposure(state.ingress, state.snapshot.config.prefix_lists, state.settings).rules
    return close_rules(state, rules, WHAT)
