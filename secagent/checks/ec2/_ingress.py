"""What the internet-ingress checks share: which ingress rules admit the whole internet, on what.

A rule admits the whole internet when its source is a /0 (``0.0.0.0/0``, ``::/0``) or a managed
prefix list one of whose CIDRs is a /0: the prefix list lets in exactly what that CIDR would. The
AWS Config rules behind these controls only describe CIDR sources; a prefix list that contains a
/0 is treated as open because the traffic it admits is the same (docs/controls.md says so).

A prefix list whose entries cannot be read leaves its rule undecided: the check is UNKNOWN unless
another rule already fails it, never PASS. A rule that references a security group admits that
group's members only, never the internet.

Each check brings its own test of a rule's protocol and ports (``RuleMatch``): it returns the
evidence to add about the rule when the rule concerns the check, None when it does not.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from secagent.checks.base import Result, failed, passed, unknown
from secagent.fixes.planning import Draft
from secagent.fixes.security_group import SecurityGroupPlanningState, close_rules
from secagent.models.probe import Probe
from secagent.models.security_group import SecurityGroupRule, internet_wide_version
from secagent.models.snapshot import SecurityGroupSnapshot

IPV4, IPV6 = 4, 6
EITHER_VERSION = frozenset({IPV4, IPV6})
WHOLE_INTERNET = {IPV4: "0.0.0.0/0", IPV6: "::/0"}

PrefixLists = Probe[dict[str, list[str] | None]]
RuleMatch = Callable[[SecurityGroupRule], dict[str, Any] | None]

UNDECIDED = (
    "an ingress rule's source is a prefix list whose entries cannot be read: cannot tell whether it "
    "admits the whole internet"
)


@dataclass(frozen=True)
class OpenRule:
    """An ingress rule that admits the whole internet on traffic the check is about."""

    rule: SecurityGroupRule
    open_to: tuple[str, ...]  # the /0 ranges it admits (a prefix list's own entries)
    detail: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> dict[str, Any]:
        return {
            "ruleId": self.rule.rule_id,
            "traffic": self.rule.traffic(),
            "source": self.rule.source(),
            "openTo": list(self.open_to),
            **self.detail,
        }


@dataclass(frozen=True)
class UndecidedRule:
    """A rule on the check's traffic whose prefix list cannot be read."""

    rule: SecurityGroupRule
    why: str

    def evidence(self) -> dict[str, Any]:
        return {
            "ruleId": self.rule.rule_id,
            "traffic": self.rule.traffic(),
            "source": self.rule.source(),
            "why": self.why,
        }


@dataclass
class Exposure:
    open: list[OpenRule] = field(default_factory=list)
    undecided: list[UndecidedRule] = field(default_factory=list)

    @property
    def rules(self) -> list[SecurityGroupRule]:
        """The rules a fix closes: the ones known to be open (an undecided one is left alone)."""
        return [o.rule for o in self.open]


def internet_ranges(
    rule: SecurityGroupRule, prefix_lists: PrefixLists, versions: frozenset[int]
) -> tuple[list[str], str | None]:
    """The whole-internet ranges (of the IP ``versions``) the rule's source admits, and why that
    cannot be told (None: it can)."""
    if rule.prefix_list_id is None:
        cidr = rule.cidr_ipv4 or rule.cidr_ipv6
        return ([cidr] if cidr and internet_wide_version(cidr) in versions else []), None
    if not prefix_lists.known:
        return [], f"prefix list {rule.prefix_list_id} unreadable: {prefix_lists.reason}"
    entries = (prefix_lists.value or {}).get(rule.prefix_list_id)
    if entries is None:
        return [], f"prefix list {rule.prefix_list_id}: its entries could not be read"
    return [c for c in entries if internet_wide_version(c) in versions], None


def internet_ingress(
    rules: Iterable[SecurityGroupRule],
    prefix_lists: PrefixLists,
    versions: frozenset[int],
    matches: RuleMatch,
) -> Exposure:
    """The ingress rules on the traffic ``matches`` accepts that admit the whole internet (of the
    IP ``versions``), and those whose source cannot be judged."""
    exposure = Exposure()
    for rule in rules:
        if rule.egress or (detail := matches(rule)) is None:
            continue
        ranges, why = internet_ranges(rule, prefix_lists, versions)
        if ranges:
            exposure.open.append(OpenRule(rule, tuple(ranges), detail))
        elif why is not None:
            exposure.undecided.append(UndecidedRule(rule, why))
    return exposure


def judge(exposure: Exposure, **evidence: Any) -> list[Result]:
    """FAIL when a rule is open (naming every one), UNKNOWN when only undecided rules could be,
    PASS otherwise."""
    undecided = [u.evidence() for u in exposure.undecided]
    if exposure.open:
        also: dict[str, Any] = {"undecidedRules": undecided} if undecided else {}
        return failed(openRules=[o.evidence() for o in exposure.open], **also, **evidence)
    if undecided:
        return unknown(UNDECIDED, openRules=[], undecidedRules=undecided, **evidence)
    return passed(openRules=[], **evidence)


def tcp_port_exposure(rules: Iterable[SecurityGroupRule], prefix_lists: PrefixLists, port: int) -> Exposure:
    """Ingress from the whole internet (IPv4 or IPv6) to one TCP `port`: a TCP rule whose range
    includes it, or an all-traffic rule (EC2.13 SSH, EC2.14 RDP)."""
    return internet_ingress(
        rules, prefix_lists, EITHER_VERSION, lambda r: {} if r.opens_port(port, "tcp") else None
    )


def judge_tcp_port(snapshot: SecurityGroupSnapshot, port: int) -> list[Result]:
    cfg = snapshot.config
    return judge(
        tcp_port_exposure(cfg.ingress_rules.value or [], cfg.prefix_lists, port), port=port, protocol="tcp"
    )


def close_tcp_port(state: SecurityGroupPlanningState, port: int, what: str) -> Draft | None:
    """The fix: revoke (or narrow) exactly the rules that open `port` to the internet."""
    return close_rules(
        state, tcp_port_exposure(state.ingress, state.snapshot.config.prefix_lists, port).rules, what
    )


def opens_any(rule: SecurityGroupRule, ports: Iterable[int], protocols: Iterable[str]) -> list[int]:
    """The ``ports`` the rule opens over any of ``protocols`` (an all-traffic rule opens them all)."""
    wanted = tuple(protocols)
    return [port for port in ports if any(rule.opens_port(port, protocol) for protocol in wanted)]


# EC2.53 / EC2.54: remote administration ports over any protocol (Config's protocolType ALL).
ADMIN_PORTS = (22, 3389)
ADMIN_PROTOCOLS = ("tcp", "udp")  # TCP, UDP and all-traffic (-1) rules
_VERSION_NAMES = {IPV4: "IPv4", IPV6: "IPv6"}


def admin_port_exposure(
    rules: Iterable[SecurityGroupRule], prefix_lists: PrefixLists, version: int
) -> Exposure:
    """The rules that admit the whole internet of IP `version` to port 22 or 3389 (TCP or UDP)."""

    def matches(rule: SecurityGroupRule) -> dict[str, list[int]] | None:
        ports = opens_any(rule, ADMIN_PORTS, ADMIN_PROTOCOLS)
        return {"adminPorts": ports} if ports else None

    return internet_ingress(rules, prefix_lists, frozenset({version}), matches)


def judge_admin_ports(snapshot: SecurityGroupSnapshot, version: int) -> list[Result]:
    cfg = snapshot.config
    return judge(
        admin_port_exposure(cfg.ingress_rules.value or [], cfg.prefix_lists, version),
        ports=list(ADMIN_PORTS),
        protocols=[*ADMIN_PROTOCOLS, "all"],
        ipVersion=_VERSION_NAMES[version],
    )


def close_admin_ports(state: SecurityGroupPlanningState, version: int, what: str) -> Draft | None:
    exposure = admin_port_exposure(state.ingress, state.snapshot.config.prefix_lists, version)
    return close_rules(state, exposure.rules, what)
