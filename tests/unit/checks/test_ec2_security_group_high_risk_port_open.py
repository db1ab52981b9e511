import pytest

from secagent.checks.ec2.ec2_security_group_high_risk_port_open import HIGH_RISK_PORTS
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

CHECK = "ec2_security_group_high_risk_port_open"


def test_high_risk_port_list_is_security_hubs() -> None:
    # ec2-controls page, EC2.19: blockedPorts (not customizable)
    listed = (
        "20,21,22,23,25,110,135,143,445,1433,1434,3000,"
        + "3306,3389,4333,5000,5432,5500,5601,8080,8088,8888,9200,9300"
    )
    assert ",".join(map(str, HIGH_RISK_PORTS)) == listed


def test_high_risk_https_only_group_passes() -> None:
    assert run(CHECK, group()).status is Status.PASS


@pytest.mark.parametrize("port", HIGH_RISK_PORTS)
def test_high_risk_each_listed_port_open_to_ipv4_fails(port: int) -> None:
    finding = run(CHECK, open_to(rule("tcp", port)))
    assert finding.status is Status.FAIL and finding.evidence["openRules"][0]["highRiskPorts"] == [port]
    assert finding.severity.value == "CRITICAL" and finding.controls == ["FSBP:EC2.19"]


def test_high_risk_range_names_every_listed_port_it_opens() -> None:
    finding = run(CHECK, open_to(rule("tcp", (8000, 9000), ANY_IPV6)))
    assert finding.status is Status.FAIL
    assert finding.evidence["openRules"][0]["highRiskPorts"] == [8080, 8088, 8888]


def test_high_risk_all_traffic_opens_every_listed_port() -> None:
    everything = all_traffic(ANY_IPV6)
    finding = run(CHECK, open_to(everything))
    assert open_rule_ids(finding) == [everything.rule_id]
    assert finding.evidence["openRules"][0]["highRiskPorts"] == list(HIGH_RISK_PORTS)


@pytest.mark.parametrize(
    "closed_rule",
    [
        rule("tcp", 80),
        rule("tcp", 8443),
        rule("udp", 3306),  # the Config rule checks TCP only
        rule("udp", (0, 65535)),
        rule("tcp", (26, 109)),  # between 25 and 110
        rule("tcp", 3306, "10.0.0.0/8"),
    ],
    ids=["http", "8443", "udp-3306", "udp-everything", "between-listed", "private"],
)
def test_high_risk_other_rules_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_high_risk_prefix_list_with_internet_entry_fails_unreadable_is_unknown() -> None:
    via_list = rule("tcp", 5432, PREFIX_LIST)
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV4]))).status is Status.FAIL
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list(None))).status is Status.UNKNOWN


def test_high_risk_ingress_rules_unreadable_is_unknown() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.UNKNOWN
