"""Build security group snapshots for check tests: a group every check passes, then change one field.

``group()`` is a non-default group in use (one network interface) that admits HTTPS from the
internet and lets everything out (what AWS gives a new group): every EC2 check PASSes on it
(asserted in test_registry). ``default_group()`` is a VPC's default group as AWS creates it.
"""

from datetime import UTC, datetime
from itertools import count
from typing import Any

from secagent.checks import get_check, run_check
from secagent.models import AgentSettings, Finding, Probe, ReadBy, ResourceRef, SecurityGroupSnapshot
from secagent.models.security_group import (
    NetworkInterfaceUse,
    SecurityGroupConfig,
    SecurityGroupInfo,
    SecurityGroupRule,
)
from secagent.models.snapshot import SECURITY_GROUP

GROUP_ID = "sg-0123456789abcdef0"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
ACCOUNT = "111122223333"
OTHER_GROUP = "sg-0fedcba9876543210"
PREFIX_LIST = "pl-0123456789abcdef0"
ANY_IPV4, ANY_IPV6 = "0.0.0.0/0", "::/0"
_rule_ids = count(1)


def rule(
    protocol: str = "tcp",
    ports: int | tuple[int, int] | None = None,
    source: str = ANY_IPV4,
    *,
    egress: bool = False,
    rule_id: str | None = None,
    description: str | None = None,
) -> SecurityGroupRule:
    """One rule: ``ports`` one port or a (from, to) range (None: -1, all); ``source``
    a CIDR, a prefix list id (pl-...) or a group id (sg-...)."""
    # EC2 lists an all-traffic rule, or every ICMP type, as ports -1 to -1.
    low, high = (ports, ports) if isinstance(ports, int) else ports or (-1, -1)
    peer: dict[str, str] = {}
    if source.startswith("pl-"):
        peer["prefix_list_id"] = source
    elif source.startswith("sg-"):
        peer["referenced_group_id"] = source
    else:
        peer["cidr_ipv6" if ":" in source else "cidr_ipv4"] = source
    return SecurityGroupRule(
        rule_id=rule_id or f"sgr-{next(_rule_ids):017x}",
        egress=egress,
        ip_protocol=protocol,
        from_port=low,
        to_port=high,
        description=description,
        **peer,
    )


def all_traffic(
    source: str = ANY_IPV4, *, egress: bool = False, rule_id: str | None = None
) -> SecurityGroupRule:
    return rule("-1", source=source, egress=egress, rule_id=rule_id)


HTTPS_IN = rule("tcp", 443, ANY_IPV4, rule_id="sgr-0000000000000443a")
ALL_OUT = all_traffic(ANY_IPV4, egress=True, rule_id="sgr-00000000000000e01")
ENI = NetworkInterfaceUse(network_interface_id="eni-0123456789abcdef0", interface_type="interface")


def info(*, default: bool = False, owner: str | None = ACCOUNT) -> Probe[SecurityGroupInfo]:
    return Probe(
        value=SecurityGroupInfo(
            group_name="default" if default else "web",
            description="default VPC security group" if default else "web servers",
            vpc_id=VPC_ID,
            owner_id=owner,
            is_vpc_default=default,
            tags={} if default else {"team": "web"},
        )
    )


def ingress(*rules: SecurityGroupRule) -> Probe[list[SecurityGroupRule]]:
    return Probe(value=list(rules))


def egress(*rules: SecurityGroupRule) -> Probe[list[SecurityGroupRule]]:
    return Probe(value=list(rules))


def prefix_list(
    entries: list[str] | None, prefix_list_id: str = PREFIX_LIST
) -> Probe[dict[str, list[str] | None]]:
    """The prefix lists field naming one list: its CIDRs (None: they could not be read)."""
    return Probe(value={prefix_list_id: entries})


def hardened_config() -> dict[str, Probe[Any]]:
    """Every EC2 check passes on this configuration."""
    return {
        "group": info(),
        "ingress_rules": ingress(HTTPS_IN),
        "egress_rules": egress(ALL_OUT),
        "prefix_lists": Probe(value={}),
        "referenced_groups": Probe(value={}),
        "network_interfaces": Probe(value=[ENI]),
        "referencing_groups": Probe(value=[]),
    }


def group(
    account_id: str | None = ACCOUNT, caller: str | None = ACCOUNT, **overrides: Probe[Any]
) -> SecurityGroupSnapshot:
    """``account_id``: the group's owner, as Discover records it; ``caller``: the account that read it."""
    return SecurityGroupSnapshot(
        resource=ResourceRef(type=SECURITY_GROUP, id=GROUP_ID),
        account_id=account_id,
        region="us-east-1",
        read_at=datetime(2026, 1, 1, tzinfo=UTC),
        read_by=ReadBy(account_id=caller, how="fixture", calls=0, concurrent=False, duration_ms=0.0),
        config=SecurityGroupConfig(**{**hardened_config(), **overrides}),
    )


def default_group(**overrides: Probe[Any]) -> SecurityGroupSnapshot:
    """A VPC's default group as AWS creates it: all traffic from its own members, all traffic out."""
    rules: dict[str, Probe[Any]] = {
        "group": info(default=True),
        "ingress_rules": ingress(all_traffic(GROUP_ID, rule_id="sgr-0000000000000d001")),
        "egress_rules": egress(all_traffic(ANY_IPV4, egress=True, rule_id="sgr-0000000000000d002")),
        "referenced_groups": Probe(value={GROUP_ID: "default"}),
    }
    return group(**{**rules, **overrides})


def open_to(*rules: SecurityGroupRule, **overrides: Probe[Any]) -> SecurityGroupSnapshot:
    """The hardened group with exactly these ingress rules."""
    return group(ingress_rules=ingress(*rules), **overrides)


def run(check_id: str, snap: SecurityGroupSnapshot, settings: AgentSettings | None = None) -> Finding:
    [finding] = run_check(get_check(check_id), snap, settings or AgentSettings())
    return finding


def unknown_probe(reason: str = "UnauthorizedOperation: not authorized") -> Probe[Any]:
    return Probe(state="unknown", reason=reason)


def open_rule_ids(finding: Finding) -> list[str]:
    return [r["ruleId"] for r in finding.evidence.get("openRules", [])]
