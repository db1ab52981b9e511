"""Per-control verdicts for security groups: a control two checks implement gets the worse verdict."""

import pytest

from secagent.checks import analyze, control_verdicts
from secagent.models import Finding, Probe, Status
from tests.unit.checks.groups import ANY_IPV6, default_group, group, ingress, open_to, rule

INBOUND = "ec2_default_security_group_allows_inbound"
OUTBOUND = "ec2_default_security_group_allows_outbound"
EC2_CONTROLS = {
    "FSBP:EC2.2",
    "FSBP:EC2.13",
    "FSBP:EC2.14",
    "FSBP:EC2.18",
    "FSBP:EC2.19",
    "FSBP:EC2.53",
    "FSBP:EC2.54",
    "CIS-3.0:5.2",
    "CIS-3.0:5.3",
    "CIS-3.0:5.4",
}


def default_group_findings(inbound: Status, outbound: Status) -> list[Finding]:
    """The default group's findings with the two EC2.2 checks set to the given verdicts."""
    wanted = {INBOUND: inbound, OUTBOUND: outbound}
    findings = analyze(default_group()).findings
    return [f.model_copy(update={"status": wanted.get(f.check_id, f.status)}) for f in findings]


def test_controls_hardened_group_passes_every_ec2_control_and_the_unused_check_maps_none() -> None:
    verdicts = control_verdicts(analyze(group()).findings)
    assert verdicts == dict.fromkeys(sorted(EC2_CONTROLS), Status.PASS)


def test_controls_default_group_as_created_fails_ec2_2_and_cis_5_4_only() -> None:
    verdicts = control_verdicts(analyze(default_group()).findings)
    failing = {c for c, v in verdicts.items() if v is Status.FAIL}
    assert failing == {"FSBP:EC2.2", "CIS-3.0:5.4"}


@pytest.mark.parametrize(
    ("inbound", "outbound", "ec2_2"),
    [
        (Status.FAIL, Status.PASS, Status.FAIL),
        (Status.PASS, Status.FAIL, Status.FAIL),
        (Status.UNKNOWN, Status.FAIL, Status.FAIL),
        (Status.UNKNOWN, Status.PASS, Status.UNKNOWN),
        (Status.EXEMPT, Status.PASS, Status.EXEMPT),
        (Status.EXEMPT, Status.FAIL, Status.FAIL),
        (Status.PASS, Status.PASS, Status.PASS),
    ],
)
def test_controls_ec2_2_takes_the_worse_of_its_two_checks(
    inbound: Status, outbound: Status, ec2_2: Status
) -> None:
    verdicts = control_verdicts(default_group_findings(inbound, outbound))
    assert verdicts["FSBP:EC2.2"] is ec2_2 and verdicts["CIS-3.0:5.4"] is ec2_2


def test_controls_one_open_rule_fails_every_control_that_covers_it_and_no_other() -> None:
    # SSH from ::/0: EC2.13 (0.0.0.0/0 or ::/0), EC2.54 (::/0), EC2.19 (22 is high risk), EC2.18
    verdicts = control_verdicts(analyze(open_to(rule("tcp", 22, ANY_IPV6))).findings)
    failing = {c for c, v in verdicts.items() if v is Status.FAIL}
    assert failing == {"FSBP:EC2.13", "FSBP:EC2.18", "FSBP:EC2.19", "FSBP:EC2.54", "CIS-3.0:5.3"}


def test_controls_unreadable_rules_leave_the_port_controls_unknown_not_pass() -> None:
    snap = group(ingress_rules=Probe(state="unknown", reason="UnauthorizedOperation"))
    verdicts = control_verdicts(analyze(snap).findings)
    assert verdicts["FSBP:EC2.13"] is Status.UNKNOWN and verdicts["FSBP:EC2.2"] is Status.PASS
    assert control_verdicts(analyze(group(ingress_rules=ingress())).findings)["FSBP:EC2.13"] is Status.PASS
