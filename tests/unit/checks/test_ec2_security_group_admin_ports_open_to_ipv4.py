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

CHECK = "ec2_security_group_admin_ports_open_to_ipv4"


def test_admin_ipv4_https_only_group_passes() -> None:
    assert run(CHECK, group()).status is Status.PASS


@pytest.mark.parametrize(
    ("open_rule", "admin_ports"),
    [
        (rule("tcp", 22), [22]),
        (rule("tcp", 3389), [3389]),
        (rule("udp", 3389), [3389]),  # protocolType ALL: UDP counts
        (rule("17", 22), [22]),
        (rule("tcp", (1, 65535)), [22, 3389]),
        (all_traffic(ANY_IPV4), [22, 3389]),
    ],
    ids=["tcp-22", "tcp-3389", "udp-3389", "protocol-17-22", "tcp-range", "all-traffic"],
)
def test_admin_ipv4_open_admin_port_fails_naming_the_ports(
    open_rule: SecurityGroupRule, admin_ports: list[int]
) -> None:
    finding = run(CHECK, open_to(open_rule))
    assert finding.status is Status.FAIL and open_rule_ids(finding) == [open_rule.rule_id]
    assert finding.evidence["openRules"][0]["adminPorts"] == admin_ports
    assert finding.controls == ["FSBP:EC2.53", "CIS-3.0:5.2"]
    assert finding.remediation_id == "ec2.close_internet_admin_ports_ipv4"


@pytest.mark.parametrize(
    "closed_rule",
    [
        rule("tcp", 22, ANY_IPV6),  # IPv6 is EC2.54's
        all_traffic(ANY_IPV6),
        rule("tcp", 22, "10.0.0.0/8"),
        rule("tcp", (23, 3388)),
        rule("icmp"),
    ],
    ids=["ssh-ipv6", "all-traffic-ipv6", "private", "between-the-ports", "icmp"],
)
def test_admin_ipv4_other_rules_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_admin_ipv4_prefix_lists_count_only_their_ipv4_internet_entry() -> None:
    via_list = rule("tcp", 22, PREFIX_LIST)
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV4]))).status is Status.FAIL
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV6]))).status is Status.PASS
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list(None))).status is Status.UNKNOWN


def test_admin_ipv4_ingress_rules_unreadable_is_unknown() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.UNKNOWN
