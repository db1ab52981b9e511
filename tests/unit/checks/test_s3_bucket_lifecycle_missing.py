from secagent.models import Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_lifecycle_missing"


def test_lifecycle_enabled_rule_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_lifecycle_not_configured_fails() -> None:
    assert run(CHECK, snapshot(lifecycle_rules=Probe(value=None))).status is Status.FAIL


def test_lifecycle_only_disabled_rules_fails() -> None:
    rules = [{"ID": "old", "Status": "Disabled", "Filter": {"Prefix": ""}}]
    assert run(CHECK, snapshot(lifecycle_rules=Probe(value=rules))).status is Status.FAIL


def test_lifecycle_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(lifecycle_rules=unknown_probe())).status is Status.UNKNOWN
