from secagent.models import Probe, Status
from tests.unit.checks.groups import ENI, OTHER_GROUP, default_group, group, info, run, unknown_probe

CHECK = "ec2_security_group_unused"
OTHER_ACCOUNT = "999988887777"


def test_unused_group_attached_to_an_interface_passes() -> None:
    finding = run(CHECK, group())
    assert finding.status is Status.PASS and finding.evidence == {
        "networkInterfaces": [ENI.network_interface_id]
    }


def test_unused_group_no_interface_uses_fails_with_no_fix() -> None:
    finding = run(CHECK, group(network_interfaces=Probe(value=[])))
    assert finding.status is Status.FAIL
    assert finding.evidence == {"networkInterfaces": [], "referencedBy": []}
    assert finding.remediation_id is None  # deleting a group is the owner's decision
    assert finding.controls == []  # EC2.22 is retired from FSBP


def test_unused_group_only_other_groups_reference_is_still_unused_as_config_says() -> None:
    snap = group(network_interfaces=Probe(value=[]), referencing_groups=Probe(value=[OTHER_GROUP]))
    finding = run(CHECK, snap)
    assert finding.status is Status.FAIL and finding.evidence["referencedBy"] == [OTHER_GROUP]


def test_unused_referencing_groups_unreadable_still_decides_without_them() -> None:
    finding = run(CHECK, group(network_interfaces=Probe(value=[]), referencing_groups=unknown_probe()))
    assert finding.status is Status.FAIL and "referencedBy" not in finding.evidence


def test_unused_default_group_is_out_of_scope() -> None:
    finding = run(CHECK, default_group(network_interfaces=Probe(value=[])))
    assert finding.status is Status.PASS and finding.evidence == {"defaultGroup": True, "inScope": False}


def test_unused_group_of_another_account_is_out_of_scope() -> None:
    # As Discover records a shared group: its owner's account, read by the deployment's
    shared = group(
        account_id=OTHER_ACCOUNT, group=info(owner=OTHER_ACCOUNT), network_interfaces=Probe(value=[])
    )
    assert run(CHECK, shared).status is Status.PASS
    assert run(CHECK, group(caller=None, network_interfaces=Probe(value=[]))).status is Status.FAIL


def test_unused_interfaces_or_group_unreadable_is_unknown() -> None:
    assert run(CHECK, group(network_interfaces=unknown_probe())).status is Status.UNKNOWN
    assert run(CHECK, group(group=unknown_probe())).status is Status.UNKNOWN
    assert run(CHECK, group(group=Probe(value=None))).status is Status.UNKNOWN
