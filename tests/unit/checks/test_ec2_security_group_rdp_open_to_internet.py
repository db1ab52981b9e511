import pytest

from secagent.models import SecurityGroupRule, Status
from tests.unit.checks.groups import (
    ANY_IPV4,
    ANY_IPV6,
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

CHECK = "ec2_security_group_rdp_open_to_internet"


def test_rdp_https_only_group_passes() -> None:
    assert run(CHECK, group()).status is Status.PASS


@pytest.mark.parametrize("source", [ANY_IPV4, ANY_IPV6])
def test_rdp_port_3389_from_the_whole_internet_fails(source: str) -> None:
    rdp = rule("tcp", 3389, source)
    finding = run(CHECK, open_to(rdp))
    assert finding.status is Status.FAIL and open_rule_ids(finding) == [rdp.rule_id]
    assert finding.evidence["openRules"][0]["traffic"] == "tcp 3389"
    assert finding.remediation_id == "ec2.close_internet_rdp" and finding.controls == ["FSBP:EC2.14"]


def test_rdp_range_that_includes_3389_fails() -> None:
    finding = run(CHECK, open_to(rule("tcp", (3380, 3390))))
    assert finding.status is Status.FAIL and finding.evidence["openRules"][0]["traffic"] == "tcp 3380-3390"


def test_rdp_all_traffic_from_ipv6_internet_fails() -> None:
    assert run(CHECK, open_to(all_traffic(ANY_IPV6))).status is Status.FAIL


@pytest.mark.parametrize(
    "closed_rule",
    [
        rule("udp", 3389),  # the Config rule checks TCP only: EC2.53 counts UDP
        rule("tcp", (3390, 3399)),
        rule("tcp", 3389, "203.0.113.7/32"),
        rule("tcp", 22),
    ],
    ids=["udp-3389", "range-above", "one-address", "ssh-not-rdp"],
)
def test_rdp_rules_not_open_to_the_internet_on_tcp_3389_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_rdp_prefix_list_with_ipv6_internet_fails_and_unreadable_one_is_unknown() -> None:
    via_list = rule("tcp", 3389, PREFIX_LIST)
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV6]))).status is Status.FAIL
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list(None))).status is Status.UNKNOWN


def test_rdp_ingress_rules_unreadable_is_unknown() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.UNKNOWN
