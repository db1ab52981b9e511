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

CHECK = "ec2_security_group_admin_ports_open_to_ipv6"


def test_admin_ipv6_https_only_group_passes() -> None:
    assert run(CHECK, group()).status is Status.PASS


@pytest.mark.parametrize(
    "open_rule",
    [
        rule("tcp", 22, ANY_IPV6),
        rule("udp", 22, ANY_IPV6),
        rule("tcp", (3000, 4000), ANY_IPV6),
        all_traffic(ANY_IPV6),
    ],
    ids=["tcp-22", "udp-22", "range-with-3389", "all-traffic"],
)
def test_admin_ipv6_open_admin_port_fails(open_rule: SecurityGroupRule) -> None:
    finding = run(CHECK, open_to(open_rule))
    assert finding.status is Status.FAIL and open_rule_ids(finding) == [open_rule.rule_id]
    assert finding.evidence["openRules"][0]["openTo"] == [ANY_IPV6]
    assert finding.controls == ["FSBP:EC2.54", "CIS-3.0:5.3"]


@pytest.mark.parametrize(
    "closed_rule",
    [rule("tcp", 22, ANY_IPV4), all_traffic(ANY_IPV4), rule("tcp", 22, "2001:db8::/32")],
    ids=["ssh-ipv4", "all-traffic-ipv4", "ipv6-range"],
)
def test_admin_ipv6_ipv4_and_narrow_rules_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_admin_ipv6_prefix_lists_count_only_their_ipv6_internet_entry() -> None:
    via_list = rule("tcp", 3389, PREFIX_LIST)
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV6]))).status is Status.FAIL
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV4]))).status is Status.PASS
    assert run(CHECK, open_to(via_list, prefix_lists=unknown_probe())).status is Status.UNKNOWN


def test_admin_ipv6_ingress_rules_unreadable_is_unknown() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.UNKNOWN
