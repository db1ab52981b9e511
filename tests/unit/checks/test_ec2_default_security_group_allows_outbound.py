from secagent.models import Probe, Status
from tests.unit.checks.groups import (
    ANY_IPV4,
    ANY_IPV6,
    default_group,
    egress,
    group,
    rule,
    run,
    unknown_probe,
)

CHECK = "ec2_default_security_group_allows_outbound"


def test_default_outbound_group_as_aws_creates_it_fails_naming_its_rule() -> None:
    finding = run(CHECK, default_group())
    assert finding.status is Status.FAIL
    assert finding.evidence["outboundRules"] == [
        {"ruleId": "sgr-0000000000000d002", "traffic": "all traffic", "destination": ANY_IPV4}
    ]
    assert finding.controls == ["FSBP:EC2.2", "CIS-3.0:5.4"]
    assert finding.remediation_id == "ec2.revoke_default_group_egress"


def test_default_outbound_narrow_outbound_rule_still_fails() -> None:
    dns = rule("udp", 53, "10.0.0.2/32", egress=True)
    finding = run(CHECK, default_group(egress_rules=egress(dns)))
    assert finding.status is Status.FAIL and finding.evidence["outboundRules"][0]["traffic"] == "udp 53"


def test_default_outbound_no_outbound_rule_passes_even_with_inbound_ones() -> None:
    assert run(CHECK, default_group(egress_rules=egress())).status is Status.PASS


def test_default_outbound_non_default_group_passes() -> None:
    everything_out = rule("-1", source=ANY_IPV6, egress=True)
    assert run(CHECK, group(egress_rules=egress(everything_out))).status is Status.PASS


def test_default_outbound_unreadable_group_or_rules_is_unknown() -> None:
    assert run(CHECK, default_group(group=unknown_probe())).status is Status.UNKNOWN
    assert run(CHECK, default_group(egress_rules=unknown_probe())).status is Status.UNKNOWN
    assert run(CHECK, group(group=Probe(value=None))).status is Status.UNKNOWN


def test_default_outbound_non_default_group_passes_even_when_its_rules_are_unreadable() -> None:
    assert run(CHECK, group(egress_rules=unknown_probe())).status is Status.PASS
