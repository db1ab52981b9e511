import pytest

from secagent.checks import analyze
from secagent.models import Probe, Status, Versioning
from secagent.remediation import plan_remediations
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_versioned_without_lifecycle"
DISABLED_RULE = [{"ID": "old", "Status": "Disabled", "Filter": {"Prefix": ""}}]


def test_versioned_with_enabled_rule_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize("rules", [None, DISABLED_RULE])
def test_versioned_without_enabled_rule_fails_s3_10(rules: list | None) -> None:
    finding = run(CHECK, snapshot(lifecycle_rules=Probe(value=rules)))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.10"]


@pytest.mark.parametrize("status", [None, "Suspended"])
def test_unversioned_or_suspended_bucket_is_out_of_scope(status: str | None) -> None:
    snap = snapshot(versioning=Probe(value=Versioning(status=status)), lifecycle_rules=Probe(value=None))
    finding = run(CHECK, snap)
    assert finding.status is Status.PASS and finding.evidence["inScope"] is False


def test_one_lifecycle_plan_fixes_s3_10_and_s3_13() -> None:
    snap = snapshot(lifecycle_rules=Probe(value=None))
    [plan] = plan_remediations(snap, analyze(snap)).plans
    assert sorted(plan.check_ids) == ["s3_bucket_lifecycle_missing", CHECK]


def test_versioned_without_lifecycle_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(lifecycle_rules=unknown_probe())).status is Status.UNKNOWN
