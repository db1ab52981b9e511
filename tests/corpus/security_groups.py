# ruff: noqa: E501  (a data file: one-line sources read better unwrapped)
"""The labelled security group cases. Labels come from AWS's definitions (the Security Hub EC2
control page and the AWS Config managed rules behind it), never from what secagent answers.

Each case is judged twice: from a snapshot built straight from the case (``snapshot_for``: the
checks alone), and built for real on an EC2 API (``tests.corpus.build_security_groups``, moto and
LocalStack) then read back by the real Discover. A case names its group's rules the way
DescribeSecurityGroupRules lists them; every case must be buildable on AWS (e.g. a managed prefix
list holds one address family: ``build_security_groups.unbuildable``).

Conventions
- ``expected`` names only the controls a case is about; other controls are not asserted.
- ``checks`` labels a check that maps no control (EC2.22 is retired from FSBP; its check keeps
  the Config rule's verdict), by check id.
- ``ingress`` / ``egress`` are ``Rule(protocol, ports, source)``: ``ports`` one port, a (from,
  to) range or None (EC2's -1: every port / every ICMP type); ``source`` a CIDR, a prefix list id
  (its CIDRs in ``prefix_lists``; None there: unreadable), a group id, or ``SELF`` (the group).
- A group is a non-default group attached to one network interface, with AWS's default outbound
  rule (all traffic to 0.0.0.0/0), unless the case says otherwise.

Labelling rules used (see each case's ``source``)
- EC2.2 / CIS 3.0 5.4 (vpc-default-security-group-closed): a VPC's default group FAILs with any
  inbound or outbound rule; a non-default group is not evaluated (PASS here).
- EC2.13 (restricted-ssh): TCP or all-traffic ingress to port 22 from 0.0.0.0/0 or ::/0.
- EC2.14 (restricted-common-ports as restricted-rdp): TCP ingress to 3389 from 0.0.0.0/0 or ::/0.
- EC2.18 (vpc-sg-open-only-to-authorized-ports, authorizedTcpPorts 80,443, no UDP port): TCP or
  UDP ingress from a /0 on any other port; other protocols are not judged.
- EC2.19 (restricted-common-ports as vpc-sg-restricted-common-ports): TCP ingress from 0.0.0.0/0
  or ::/0 to 20, 21, 22, 23, 25, 110, 135, 143, 445, 1433, 1434, 3000, 3306, 3389, 4333, 5000,
  5432, 5500, 5601, 8080, 8088, 8888, 9200, 9300.
- EC2.53 / CIS 3.0 5.2 and EC2.54 / CIS 3.0 5.3 (vpc-sg-port-restriction-check, ipType IPv4 /
  IPv6, restrictPorts 22,3389, protocolType ALL): TCP, UDP or all-traffic ingress from 0.0.0.0/0
  (EC2.53) or ::/0 (EC2.54) to 22 or 3389.
- Judgement (all port controls): a managed prefix list that contains 0.0.0.0/0 or ::/0 admits
  the same traffic as that CIDR, so it counts as it (the Config rules only describe CIDRs).
- ec2_security_group_unused (ec2-security-group-attached-to-eni-periodic): a non-default group
  no network interface uses FAILs, even if other groups reference it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from secagent.checks import analyze, control_verdicts
from secagent.models import AgentSettings, Probe, ReadBy, ResourceRef, SecurityGroupSnapshot
from secagent.models.security_group import (
    NetworkInterfaceUse,
    SecurityGroupConfig,
    SecurityGroupInfo,
    SecurityGroupRule,
)
from secagent.models.snapshot import SECURITY_GROUP

PASS, FAIL = "PASS", "FAIL"
EC22, EC213, EC214, EC218, EC219, EC253, EC254 = (f"FSBP:EC2.{n}" for n in (2, 13, 14, 18, 19, 53, 54))
CIS52, CIS53, CIS54 = "CIS-3.0:5.2", "CIS-3.0:5.3", "CIS-3.0:5.4"
SG_CONTROLS = (EC22, EC213, EC214, EC218, EC219, EC253, EC254, CIS52, CIS53, CIS54)
UNUSED = "ec2_security_group_unused"
SG_CHECKS_WITHOUT_CONTROL = (UNUSED,)

GROUP_ID = "sg-0c0ffee0c0ffee000"
OTHER_GROUP = "sg-0badc0ffee0badc00"
ACCOUNT = "424242424242"
VPC_ID = "vpc-0c0ffee0c0ffee000"
SELF = "self"
ANY4, ANY6 = "0.0.0.0/0", "::/0"
PL_OPEN = "pl-0aaaaaaaaaaaaaaa1"  # a customer-managed prefix list holding 0.0.0.0/0
PL_OFFICE = "pl-0bbbbbbbbbbbbbbb2"  # one holding office ranges only


@dataclass(frozen=True)
class Rule:
    protocol: str  # "tcp" | "udp" | "icmp" | "-1" | a protocol number
    ports: int | tuple[int, int] | None
    source: str  # CIDR, pl-..., sg-... or SELF


ALL_OUT = Rule("-1", None, ANY4)  # what AWS gives every new group


@dataclass(frozen=True)
class GroupCase:
    id: str  # unique, [a-z0-9-]
    source: str  # one line: the AWS text the labels come from
    expected: dict[str, str]  # control id -> "PASS" | "FAIL"; only the controls the case is about
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = (ALL_OUT,)
    default_group: bool = False
    prefix_lists: dict[str, list[str] | None] = field(default_factory=dict)
    attached: bool = True  # one network interface uses the group
    referenced_by: tuple[str, ...] = ()  # other groups whose rules name this one
    checks: dict[str, str] = field(default_factory=dict)  # check id -> verdict, for checks with no control
    note: str = ""  # a labelling judgement worth knowing
    # backend ("moto", "localstack") -> why its emulator cannot hold or judge the case as AWS does
    not_built_on: dict[str, str] = field(default_factory=dict)


def port_range(rule: Rule) -> tuple[int, int]:
    """EC2's (FromPort, ToPort) for the rule: (-1, -1) for every port (or every ICMP type)."""
    if isinstance(rule.ports, int):
        return rule.ports, rule.ports
    return rule.ports or (-1, -1)


def peer_field(source: str) -> str:
    """The SecurityGroupRule field a rule's source (SELF or a group id, a prefix list id, a CIDR) fills."""
    if source == SELF or source.startswith("sg-"):
        return "referenced_group_id"
    if source.startswith("pl-"):
        return "prefix_list_id"
    return "cidr_ipv6" if ":" in source else "cidr_ipv4"


def _rule(rule: Rule, index: int, *, egress: bool) -> SecurityGroupRule:
    low, high = port_range(rule)
    source = GROUP_ID if rule.source == SELF else rule.source
    return SecurityGroupRule(
        rule_id=f"sgr-{index:017x}",
        egress=egress,
        ip_protocol=rule.protocol,
        from_port=low,
        to_port=high,
        **{peer_field(source): source},
    )


def snapshot_for(case: GroupCase) -> SecurityGroupSnapshot:
    """The snapshot Discover would read for the case's group (every field readable unless a prefix
    list is None)."""
    rules = [_rule(r, i, egress=False) for i, r in enumerate(case.ingress, start=1)]
    out = [_rule(r, 100 + i, egress=True) for i, r in enumerate(case.egress, start=1)]
    named = {r.referenced_group_id for r in (*rules, *out) if r.referenced_group_id}
    interfaces = [
        NetworkInterfaceUse(network_interface_id="eni-0c0ffee0c0ffee000", interface_type="interface")
    ]
    config: dict[str, Probe[Any]] = {
        "group": Probe(
            value=SecurityGroupInfo(
                group_name="default" if case.default_group else case.id,
                description=case.source[:60],
                vpc_id=VPC_ID,
                owner_id=ACCOUNT,
                is_vpc_default=case.default_group,
            )
        ),
        "ingress_rules": Probe(value=rules),
        "egress_rules": Probe(value=out),
        "prefix_lists": Probe(value=dict(case.prefix_lists)),
        "referenced_groups": Probe(value=dict.fromkeys(sorted(named))),
        "network_interfaces": Probe(value=interfaces if case.attached else []),
        "referencing_groups": Probe(value=list(case.referenced_by)),
    }
    return SecurityGroupSnapshot(
        resource=ResourceRef(type=SECURITY_GROUP, id=GROUP_ID),
        account_id=ACCOUNT,
        region="us-east-1",
        read_at=datetime(2026, 1, 1, tzinfo=UTC),
        read_by=ReadBy(how="corpus", calls=0, concurrent=False, duration_ms=0.0),
        config=SecurityGroupConfig(**config),
    )


def shape(snapshot: SecurityGroupSnapshot, placeholders: dict[str, str]) -> dict[str, Any]:
    """What the checks read of a snapshot, every id as the case names it (``placeholders``: real
    id -> the case's SELF, pl-... or sg-...): a case's snapshot and Discover's read of its built
    group have one shape. Unreadable fields show as "unknown"."""

    def known(probe: Probe[Any], read: Any) -> Any:
        return read(probe.value) if probe.known else "unknown"

    def rules(listed: list[SecurityGroupRule]) -> list[tuple[Any, ...]]:
        return sorted(
            (r.ip_protocol, r.from_port, r.to_port, placeholders.get(r.source(), r.source())) for r in listed
        )

    config = snapshot.config
    return {
        "default group": known(config.group, lambda g: g.is_vpc_default),
        "ingress": known(config.ingress_rules, rules),
        "egress": known(config.egress_rules, rules),
        "prefix lists": known(
            config.prefix_lists, lambda pls: {placeholders.get(k, k): sorted(v or []) for k, v in pls.items()}
        ),
        "referenced groups": known(
            config.referenced_groups, lambda g: sorted(placeholders.get(i, i) for i in g)
        ),
        "network interfaces": known(config.network_interfaces, len),
        "referencing groups": known(
            config.referencing_groups, lambda g: sorted(placeholders.get(i, i) for i in g)
        ),
    }


def case_shape(case: GroupCase) -> dict[str, Any]:
    """The shape of the case's own snapshot: what Discover must read of the built group."""
    return shape(snapshot_for(case), {GROUP_ID: SELF})


def verdicts_of(snapshot: SecurityGroupSnapshot) -> dict[str, str]:
    """The product's verdict per control (and per check that maps none), default settings."""
    result = analyze(snapshot, AgentSettings())
    by_control = {control: str(status) for control, status in control_verdicts(result.findings).items()}
    by_check = {f.check_id: str(f.status) for f in result.findings if f.check_id in SG_CHECKS_WITHOUT_CONTROL}
    return {**by_control, **by_check}


def verdicts(case: GroupCase) -> dict[str, str]:
    """The product's verdicts on the case's snapshot (no AWS API involved)."""
    return verdicts_of(snapshot_for(case))


def labels(case: GroupCase) -> dict[str, str]:
    """Every verdict the case asserts: its controls and its checks without a control."""
    return {**case.expected, **case.checks}


def mismatches(case: GroupCase, said: dict[str, str]) -> list[str]:
    """Where the product's verdicts ``said`` differ from AWS's, one sentence each."""
    return [
        f"{label}: product says {said.get(label, 'no verdict')}, AWS says {want}"
        for label, want in labels(case).items()
        if said.get(label) != want
    ]


def misjudged(judged: Iterable[tuple[GroupCase, dict[str, str]]]) -> dict[str, dict[str, int]]:
    """Per label, how many FAILs the product gave where AWS says PASS (precision) and how many it
    missed (recall); FAIL = positive, anything but FAIL (UNKNOWN, no verdict) counts as not FAIL.
    Empty when precision and recall are 1.00 everywhere."""
    counts: dict[str, dict[str, int]] = {}
    for case, said in judged:
        for label, want in labels(case).items():
            if (said.get(label) == FAIL) == (want == FAIL):
                continue
            kind = "missed FAIL" if want == FAIL else "false FAIL"
            per_label = counts.setdefault(label, {})
            per_label[kind] = per_label.get(kind, 0) + 1
    return counts


# ---------------------------------------------------------------- sources (one line each)
SRC_SSH = "Security Hub EC2.13 (Config restricted-ssh): fails if the security group allows ingress from 0.0.0.0/0 or ::/0 to port 22"
SRC_RDP = "Security Hub EC2.14 (Config restricted-common-ports as restricted-rdp): unrestricted incoming TCP traffic to port 3389 from 0.0.0.0/0 or ::/0"
SRC_AUTH = "Security Hub EC2.18 (Config vpc-sg-open-only-to-authorized-ports; authorizedTcpPorts [80,443], authorizedUdpPorts none): fails on unrestricted incoming traffic to any unlisted port"
SRC_RISK = "Security Hub EC2.19 (Config restricted-common-ports as vpc-sg-restricted-common-ports, blockedPorts 20,21,22,23,25,110,135,143,445,1433,1434,3000,3306,3389,4333,5000,5432,5500,5601,8080,8088,8888,9200,9300; TCP)"
SRC_ADMIN = "Security Hub EC2.53 / EC2.54, CIS 3.0 5.2 / 5.3 (Config vpc-sg-port-restriction-check, ipType IPv4 / IPv6, restrictPorts 22,3389, protocolType ALL: TCP, UDP and -1)"
SRC_DEFAULT = "Security Hub EC2.2, CIS 3.0 5.4 (Config vpc-default-security-group-closed): NON_COMPLIANT if the default security group has one or more inbound or outbound traffic rules"
SRC_UNUSED = "Security Hub EC2.22, retired from FSBP 2023-09-20 (Config ec2-security-group-attached-to-eni-periodic): non-default groups not associated with an ENI are NON_COMPLIANT"
SRC_PREFIX = "Judgement on EC2.13/EC2.18/EC2.19/EC2.53: a managed prefix list holding 0.0.0.0/0 admits what that CIDR admits (the Config rules describe CIDR sources only)"

# Every port control PASSes (a group that admits nothing from the internet).
ALL_PORTS_PASS = dict.fromkeys((EC213, EC214, EC218, EC219, EC253, EC254, CIS52, CIS53), PASS)


def ports(**fails: bool) -> dict[str, str]:
    """The port controls' labels: PASS except those named (ssh, rdp, auth, risk, admin4, admin6)."""
    names = {
        "ssh": (EC213,),
        "rdp": (EC214,),
        "auth": (EC218,),
        "risk": (EC219,),
        "admin4": (EC253, CIS52),
        "admin6": (EC254, CIS53),
    }
    unknown = set(fails) - set(names)
    assert not unknown, unknown
    labels = dict(ALL_PORTS_PASS)
    for name, fail in fails.items():
        for control in names[name]:
            labels[control] = FAIL if fail else PASS
    return labels


SG_CASES: list[GroupCase] = [
    GroupCase(
        "open-ssh-ipv4",
        SRC_SSH,
        {**ports(ssh=True, auth=True, risk=True, admin4=True), EC22: PASS, CIS54: PASS},
        ingress=(Rule("tcp", 22, ANY4), Rule("tcp", 443, ANY4)),
    ),
    GroupCase(
        "open-ssh-ipv6",
        SRC_SSH,
        ports(ssh=True, auth=True, risk=True, admin6=True),
        ingress=(Rule("tcp", 22, ANY6),),
    ),
    GroupCase(
        "open-rdp-range",
        SRC_RDP,
        ports(rdp=True, auth=True, risk=True, admin4=True),
        ingress=(Rule("tcp", (3380, 3390), ANY4),),
        note="the range 3380-3390 includes 3389 (and no other listed high-risk port)",
    ),
    GroupCase(
        "all-traffic-ipv6",
        SRC_ADMIN,
        ports(ssh=True, rdp=True, auth=True, risk=True, admin6=True),
        ingress=(Rule("-1", None, ANY6),),
        note="protocol -1 opens every port of every protocol; ::/0 is IPv6 only (EC2.53 is IPv4)",
    ),
    GroupCase(
        "all-traffic-ipv4",
        SRC_ADMIN,
        ports(ssh=True, rdp=True, auth=True, risk=True, admin4=True),
        ingress=(Rule("-1", None, ANY4),),
    ),
    GroupCase(
        "prefix-list-open",
        SRC_PREFIX,
        ports(ssh=True, auth=True, risk=True, admin4=True),
        ingress=(Rule("tcp", 22, PL_OPEN),),
        prefix_lists={PL_OPEN: ["198.51.100.0/24", ANY4]},
        note="judgement: the prefix list holds 0.0.0.0/0",
    ),
    GroupCase(
        "prefix-list-office",
        SRC_PREFIX,
        ALL_PORTS_PASS,
        ingress=(Rule("tcp", 22, PL_OFFICE),),
        prefix_lists={PL_OFFICE: ["198.51.100.0/24", "203.0.113.0/24"]},
        note="IPv4 ranges only: a managed prefix list holds one address family",
    ),
    GroupCase(
        "https-only",
        SRC_AUTH,
        {**ALL_PORTS_PASS, EC22: PASS},
        ingress=(Rule("tcp", 443, ANY4), Rule("tcp", 443, ANY6)),
    ),
    GroupCase(
        "http-and-https", SRC_AUTH, ALL_PORTS_PASS, ingress=(Rule("tcp", 80, ANY4), Rule("tcp", 443, ANY4))
    ),
    GroupCase(
        "web-range-80-443",
        SRC_AUTH,
        ports(auth=True, risk=True),
        ingress=(Rule("tcp", (80, 443), ANY4),),
        note="81-442 are not authorized; 110, 135 and 143 are high risk",
    ),
    GroupCase(
        "udp-high-risk-port",
        SRC_ADMIN,
        ports(auth=True, admin4=True),
        ingress=(Rule("udp", 3389, ANY4),),
        note="EC2.14 and EC2.19 judge TCP only (restricted-common-ports); EC2.18 authorizes no UDP port; EC2.53 counts UDP",
    ),
    GroupCase("udp-dns", SRC_AUTH, ports(auth=True), ingress=(Rule("udp", 53, ANY4),)),
    GroupCase(
        "icmp-from-anywhere",
        SRC_AUTH,
        ALL_PORTS_PASS,
        ingress=(Rule("icmp", None, ANY4),),
        note="EC2.18's Config rule judges TCP and UDP connections only",
    ),
    GroupCase(
        "high-risk-proxy-range",
        SRC_RISK,
        ports(auth=True, risk=True),
        ingress=(Rule("tcp", (8000, 9000), ANY6),),
        note="8080, 8088 and 8888 are in the range; 22 and 3389 are not",
    ),
    GroupCase("mysql-open", SRC_RISK, ports(auth=True, risk=True), ingress=(Rule("tcp", 3306, ANY4),)),
    GroupCase(
        "ssh-from-office",
        SRC_SSH,
        ALL_PORTS_PASS,
        ingress=(Rule("tcp", 22, "198.51.100.0/24"), Rule("tcp", 3389, "2001:db8::/48")),
    ),
    GroupCase("ssh-from-group", SRC_SSH, ALL_PORTS_PASS, ingress=(Rule("tcp", 22, OTHER_GROUP),)),
    GroupCase(
        "default-group-as-created",
        SRC_DEFAULT,
        {**ALL_PORTS_PASS, EC22: FAIL, CIS54: FAIL},
        ingress=(Rule("-1", None, SELF),),
        default_group=True,
        checks={UNUSED: PASS},
        note="AWS's own rules: all traffic from the group's members in, all traffic out; the default group is out of EC2.22's scope",
    ),
    GroupCase(
        "default-group-inbound-removed",
        SRC_DEFAULT,
        {EC22: FAIL, CIS54: FAIL},
        default_group=True,
        note="the outbound rule alone fails EC2.2",
    ),
    GroupCase(
        "default-group-outbound-removed",
        SRC_DEFAULT,
        {EC22: FAIL, CIS54: FAIL},
        ingress=(Rule("-1", None, SELF),),
        egress=(),
        default_group=True,
    ),
    GroupCase("default-group-closed", SRC_DEFAULT, {EC22: PASS, CIS54: PASS}, egress=(), default_group=True),
    GroupCase(
        "default-group-open-ssh",
        SRC_DEFAULT,
        {**ports(ssh=True, auth=True, risk=True, admin4=True), EC22: FAIL, CIS54: FAIL},
        ingress=(Rule("-1", None, SELF), Rule("tcp", 22, ANY4)),
        default_group=True,
    ),
    GroupCase(
        "non-default-all-traffic-out",
        SRC_DEFAULT,
        {**ALL_PORTS_PASS, EC22: PASS, CIS54: PASS},
        ingress=(Rule("-1", None, SELF),),
        note="EC2.2 evaluates only a VPC's default group; outbound rules concern no port control",
    ),
    GroupCase(
        "unused-group",
        SRC_UNUSED,
        {**ALL_PORTS_PASS, EC22: PASS},
        ingress=(Rule("tcp", 443, "10.0.0.0/8"),),
        attached=False,
        checks={UNUSED: FAIL},
    ),
    GroupCase(
        "unused-but-referenced",
        SRC_UNUSED,
        {EC22: PASS},
        attached=False,
        referenced_by=(OTHER_GROUP,),
        checks={UNUSED: FAIL},
        note="the Config rule looks at network interfaces only: a reference from another group does not count as use",
    ),
    GroupCase(
        "used-group", SRC_UNUSED, {EC22: PASS}, ingress=(Rule("tcp", 443, ANY4),), checks={UNUSED: PASS}
    ),
    GroupCase(
        "unused-default-group",
        SRC_UNUSED,
        {EC22: FAIL},
        default_group=True,
        attached=False,
        checks={UNUSED: PASS},
        note="the Config rule checks non-default groups only",
    ),
]
SG_CASES_BY_ID = {c.id: c for c in SG_CASES}
