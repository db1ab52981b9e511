from typing import Any

import pytest

from secagent.models import Probe, SecurityGroupRule, Status
from tests.unit.checks.groups import (
    ANY_IPV4,
    ANY_IPV6,
    HTTPS_IN,
    OTHER_GROUP,
    PREFIX_LIST,
    all_traffic,
    group,
    open_rule_ids,
    open_to,
    prefix_list,
    rule,
    run,
    unknown_probe,
)

CHECK = "ec2_security_group_ssh_open_to_internet"


def test_ssh_https_only_group_passes() -> None:
    finding = run(CHECK, group())
    assert finding.status is Status.PASS and finding.evidence["openRules"] == []


@pytest.mark.parametrize("source", [ANY_IPV4, ANY_IPV6])
def test_ssh_port_22_from_the_whole_internet_fails_naming_the_rule(source: str) -> None:
    ssh = rule("tcp", 22, source, rule_id="sgr-0000000000000ssh1")
    finding = run(CHECK, open_to(HTTPS_IN, ssh))
    assert finding.status is Status.FAIL
    assert finding.evidence["openRules"] == [
        {"ruleId": "sgr-0000000000000ssh1", "traffic": "tcp 22", "source": source, "openTo": [source]}
    ]
    assert finding.remediation_id == "ec2.close_internet_ssh" and finding.controls == ["FSBP:EC2.13"]


@pytest.mark.parametrize(
    "open_rule",
    [
        rule("tcp", (20, 25)),  # a range that includes 22
        rule("tcp", (0, 65535)),
        rule("6", 22),  # TCP by its protocol number
        all_traffic(ANY_IPV4),  # protocol -1: every port of every protocol
        all_traffic(ANY_IPV6),
    ],
    ids=["range-20-25", "every-tcp-port", "protocol-6", "all-traffic-ipv4", "all-traffic-ipv6"],
)
def test_ssh_ranges_and_all_traffic_that_include_22_fail(open_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(open_rule)).status is Status.FAIL


@pytest.mark.parametrize(
    "closed_rule",
    [
        rule("tcp", (23, 80)),  # a range next to 22, not over it
        rule("udp", 22),  # SSH is TCP: EC2.53 / EC2.54 count UDP, EC2.13 does not
        rule("tcp", 22, "10.0.0.0/8"),
        rule("tcp", 22, "2001:db8::/32"),
        rule("tcp", 22, OTHER_GROUP),  # a group's members, not the internet
        all_traffic("192.0.2.0/24"),
        rule("icmp"),
    ],
    ids=["range-23-80", "udp-22", "private-ipv4", "ipv6-range", "group", "all-traffic-narrow", "icmp"],
)
def test_ssh_rules_not_open_to_the_internet_on_tcp_22_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_ssh_prefix_list_containing_the_whole_internet_fails() -> None:
    via_list = rule("tcp", 22, PREFIX_LIST)
    finding = run(CHECK, open_to(via_list, prefix_lists=prefix_list(["198.51.100.0/24", ANY_IPV4])))
    assert finding.status is Status.FAIL
    [open_rule] = finding.evidence["openRules"]
    assert open_rule["source"] == PREFIX_LIST and open_rule["openTo"] == [ANY_IPV4]


def test_ssh_prefix_list_of_narrow_ranges_passes() -> None:
    snap = open_to(rule("tcp", 22, PREFIX_LIST), prefix_lists=prefix_list(["198.51.100.0/24"]))
    assert run(CHECK, snap).status is Status.PASS


@pytest.mark.parametrize(
    "prefix_lists",
    [prefix_list(None), unknown_probe(), Probe(value={})],
    ids=["entries-unreadable", "field-unreadable", "list-missing"],
)
def test_ssh_prefix_list_that_cannot_be_read_is_unknown_never_pass(prefix_lists: Probe[Any]) -> None:
    finding = run(CHECK, open_to(rule("tcp", 22, PREFIX_LIST), prefix_lists=prefix_lists))
    assert finding.status is Status.UNKNOWN
    [undecided] = finding.evidence["undecidedRules"]
    assert undecided["source"] == PREFIX_LIST and "prefix list" in undecided["why"]


def test_ssh_unreadable_prefix_list_on_another_port_does_not_matter() -> None:
    snap = open_to(rule("tcp", 443, PREFIX_LIST), prefix_lists=unknown_probe())
    assert run(CHECK, snap).status is Status.PASS


def test_ssh_open_rule_fails_even_beside_an_undecided_one() -> None:
    ssh = rule("tcp", 22, ANY_IPV4)
    finding = run(CHECK, open_to(ssh, rule("tcp", 22, PREFIX_LIST), prefix_lists=prefix_list(None)))
    assert finding.status is Status.FAIL
    assert open_rule_ids(finding) == [ssh.rule_id] and len(finding.evidence["undecidedRules"]) == 1


def test_ssh_ingress_rules_unreadable_is_unknown() -> None:
    finding = run(CHECK, group(ingress_rules=unknown_probe()))
    assert finding.status is Status.UNKNOWN and finding.evidence == {"unknownFields": ["ingress_rules"]}
