"""The security group checks' shared reading of rules: internet-wide sources, prefix lists, traffic."""

import pytest

from secagent.checks.ec2._ingress import (
    EITHER_VERSION,
    IPV4,
    IPV6,
    internet_ingress,
    internet_ranges,
    opens_any,
)
from secagent.models import Probe
from secagent.models.security_group import SecurityGroupRule, internet_wide_version
from tests.unit.checks.groups import (
    ANY_IPV4,
    ANY_IPV6,
    OTHER_GROUP,
    PREFIX_LIST,
    all_traffic,
    prefix_list,
    rule,
)


@pytest.mark.parametrize(
    ("cidr", "version"),
    [
        ("0.0.0.0/0", 4),
        ("::/0", 6),
        ("10.0.0.0/0", 4),  # any /0 is every address, whatever its host bits
        ("0.0.0.0/1", None),
        ("2001:db8::/32", None),
        ("192.0.2.7/32", None),
        ("not-a-cidr", None),
        (None, None),
        ("", None),
    ],
)
def test_internet_wide_version(cidr: str | None, version: int | None) -> None:
    assert internet_wide_version(cidr) == version


@pytest.mark.parametrize(
    ("any_rule", "traffic", "transport"),
    [
        (all_traffic(), "all traffic", "all"),
        (rule("tcp", 22), "tcp 22", "tcp"),
        (rule("6", (20, 21)), "tcp 20-21", "tcp"),
        (rule("17", 53), "udp 53", "udp"),
        (rule("tcp", (0, 65535)), "tcp 0-65535", "tcp"),
        (rule("icmp"), "icmp", "icmp"),
        (rule("50"), "50", "50"),
    ],
)
def test_rule_traffic_and_transport(any_rule: SecurityGroupRule, traffic: str, transport: str) -> None:
    assert any_rule.traffic() == traffic and any_rule.transport == transport


def test_internet_ranges_by_source_kind_and_ip_version() -> None:
    lists = Probe(value={PREFIX_LIST: ["192.0.2.0/24", ANY_IPV4, ANY_IPV6]})
    assert internet_ranges(rule(source=ANY_IPV4), lists, EITHER_VERSION) == ([ANY_IPV4], None)
    assert internet_ranges(rule(source=ANY_IPV4), lists, frozenset({IPV6})) == ([], None)
    assert internet_ranges(rule(source=OTHER_GROUP), lists, EITHER_VERSION) == ([], None)
    assert internet_ranges(rule(source=PREFIX_LIST), lists, frozenset({IPV4})) == ([ANY_IPV4], None)
    assert internet_ranges(rule(source=PREFIX_LIST), lists, EITHER_VERSION) == ([ANY_IPV4, ANY_IPV6], None)
    ranges, why = internet_ranges(rule(source=PREFIX_LIST), prefix_list(None), EITHER_VERSION)
    assert ranges == [] and why and PREFIX_LIST in why


def test_internet_ingress_ignores_egress_rules_and_rules_the_check_does_not_match() -> None:
    out = all_traffic(ANY_IPV4, egress=True)
    ssh, https = rule("tcp", 22), rule("tcp", 443)
    exposure = internet_ingress(
        [out, ssh, https], Probe(value={}), EITHER_VERSION, lambda r: {} if r is ssh else None
    )
    assert exposure.rules == [ssh] and exposure.undecided == []


def test_opens_any_counts_ranges_all_traffic_and_protocols() -> None:
    assert opens_any(rule("tcp", (20, 3389)), (22, 3389), ("tcp",)) == [22, 3389]
    assert opens_any(rule("udp", 3389), (22, 3389), ("tcp",)) == []
    assert opens_any(rule("udp", 3389), (22, 3389), ("tcp", "udp")) == [3389]
    assert opens_any(all_traffic(), (22,), ("udp",)) == [22]
    assert opens_any(rule("icmp"), (22,), ("tcp", "udp")) == []
