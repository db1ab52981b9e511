from secagent.models import Probe, Status
from tests.unit.checks.groups import (
    ANY_IPV4,
    GROUP_ID,
    default_group,
    group,
    ingress,
    rule,
    run,
    unknown_probe,
)

CHECK = "ec2_default_security_group_allows_inbound"


def test_default_inbound_group_as_aws_creates_it_fails_naming_its_self_rule() -> None:
    finding = run(CHECK, default_group())
    assert finding.status is Status.FAIL
    assert finding.evidence["inboundRules"] == [
        {"ruleId": "sgr-0000000000000d001", "traffic": "all traffic", "source": GROUP_ID}
    ]
    assert finding.controls == ["FSBP:EC2.2", "CIS-3.0:5.4"]
    assert finding.remediation_id == "ec2.revoke_default_group_ingress"


def test_default_inbound_any_rule_counts_whatever_its_source() -> None:
    narrow = rule("tcp", 443, "10.0.0.0/8")
    finding = run(CHECK, default_group(ingress_rules=ingress(narrow)))
    assert finding.status is Status.FAIL and finding.evidence["inboundRules"][0]["ruleId"] == narrow.rule_id


def test_default_inbound_no_inbound_rule_passes_even_with_outbound_ones() -> None:
    finding = run(CHECK, default_group(ingress_rules=ingress()))
    assert finding.status is Status.PASS and finding.evidence["inboundRules"] == []


def test_default_inbound_non_default_group_passes_whatever_its_rules() -> None:
    finding = run(CHECK, group(ingress_rules=ingress(rule("tcp", 22, ANY_IPV4))))
    assert finding.status is Status.PASS and finding.evidence == {"defaultGroup": False, "inScope": False}


def test_default_inbound_unreadable_group_or_rules_is_unknown() -> None:
    assert run(CHECK, default_group(group=unknown_probe())).status is Status.UNKNOWN
    assert run(CHECK, default_group(ingress_rules=unknown_probe())).status is Status.UNKNOWN
    # outbound rules are the other check's business
    assert (
        run(CHECK, default_group(ingress_rules=ingress(), egress_rules=unknown_probe())).status is Status.PASS
    )


def test_default_inbound_group_read_empty_is_unknown_not_pass() -> None:
    assert run(CHECK, group(group=Probe(value=None))).status is Status.UNKNOWN


def test_default_inbound_non_default_group_passes_even_when_its_rules_are_unreadable() -> None:
    assert run(CHECK, group(ingress_rules=unknown_probe())).status is Status.PASS
    finding = run(CHECK, default_group(ingress_rules=unknown_probe("UnauthorizedOperation")))
    assert finding.evidence["unknownFields"] == ["ingress_rules"] and "UnauthorizedOperation" in (
        finding.error or ""
    )
