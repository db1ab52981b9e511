import pytest

from secagent.checks.ec2.ec2_security_group_unauthorized_port_open import unauthorized_spans
from secagent.models import AgentSettings, SecurityGroupRule, Status
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

CHECK = "ec2_security_group_unauthorized_port_open"


def test_unauthorized_https_and_http_from_the_internet_pass() -> None:
    finding = run(CHECK, open_to(HTTPS_IN, rule("tcp", 80, ANY_IPV6)))
    assert finding.status is Status.PASS
    assert (
        finding.evidence["authorizedTcpPorts"] == [80, 443] and finding.evidence["authorizedUdpPorts"] == []
    )


def test_unauthorized_tcp_port_open_to_the_internet_fails_naming_the_ports() -> None:
    ssh = rule("tcp", 22, ANY_IPV4)
    finding = run(CHECK, open_to(HTTPS_IN, ssh))
    assert finding.status is Status.FAIL and open_rule_ids(finding) == [ssh.rule_id]
    assert finding.evidence["openRules"][0]["unauthorizedTcpPorts"] == ["22"]
    assert finding.remediation_id == "ec2.close_internet_unauthorized_ports"
    assert finding.controls == ["FSBP:EC2.18"]


def test_unauthorized_range_fails_unless_every_port_is_authorized() -> None:
    finding = run(CHECK, open_to(rule("tcp", (80, 443))))
    assert finding.status is Status.FAIL
    assert finding.evidence["openRules"][0]["unauthorizedTcpPorts"] == ["81-442"]


def test_unauthorized_udp_fails_as_no_udp_port_is_authorized() -> None:
    finding = run(CHECK, open_to(rule("udp", 443, ANY_IPV6)))
    assert finding.status is Status.FAIL
    assert finding.evidence["openRules"][0]["unauthorizedUdpPorts"] == ["443"]


def test_unauthorized_all_traffic_opens_every_tcp_and_udp_port() -> None:
    finding = run(CHECK, open_to(all_traffic(ANY_IPV4)))
    [open_rule] = finding.evidence["openRules"]
    assert open_rule["unauthorizedTcpPorts"] == ["0-79", "81-442", "444-65535"]
    assert open_rule["unauthorizedUdpPorts"] == ["0-65535"]


@pytest.mark.parametrize(
    "closed_rule",
    [
        rule("icmp"),  # no TCP or UDP connection: not judged by the rule
        rule("icmpv6", source=ANY_IPV6),
        rule("50"),  # ESP
        rule("tcp", 22, "10.0.0.0/8"),
        all_traffic(OTHER_GROUP),
    ],
    ids=["icmp", "icmpv6", "esp", "private", "group"],
)
def test_unauthorized_non_tcp_udp_or_narrow_rules_pass(closed_rule: SecurityGroupRule) -> None:
    assert run(CHECK, open_to(closed_rule)).status is Status.PASS


def test_unauthorized_ports_come_from_the_deployment_settings() -> None:
    settings = AgentSettings.from_env({"SECAGENT_AUTHORIZED_PORTS": "22"})
    assert settings.authorized_ports == frozenset({22})
    snap = open_to(rule("tcp", 22))
    assert run(CHECK, snap, settings).status is Status.PASS
    assert run(CHECK, open_to(HTTPS_IN), settings).status is Status.FAIL


def test_unauthorized_prefix_list_with_internet_entry_fails_unreadable_is_unknown() -> None:
    via_list = rule("tcp", 8080, PREFIX_LIST)
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list([ANY_IPV6]))).status is Status.FAIL
    assert run(CHECK, open_to(via_list, prefix_lists=prefix_list(None))).status is Status.UNKNOWN
    # an authorized port behind an unreadable list cannot fail the check whatever the list holds
    https_via_list = rule("tcp", 443, PREFIX_LIST)
    assert run(CHECK, open_to(https_via_list, prefix_lists=prefix_list(None))).status is Status.PASS


def test_unauthorized_ingress_rules_unreadable_is_unknown() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.UNKNOWN


@pytest.mark.parametrize(
    ("low", "high", "authorized", "spans"),
    [
        (22, 22, frozenset({80, 443}), ["22"]),
        (80, 80, frozenset({80, 443}), []),
        (79, 81, frozenset({80}), ["79", "81"]),
        (80, 443, frozenset({80, 443}), ["81-442"]),
        (0, 65535, frozenset(), ["0-65535"]),
        (440, 450, frozenset({80, 443, 8443}), ["440-442", "444-450"]),
    ],
)
def test_unauthorized_spans(low: int, high: int, authorized: frozenset[int], spans: list[str]) -> None:
    assert unauthorized_spans(low, high, authorized) == spans
