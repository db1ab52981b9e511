from secagent.models import ObjectLock, Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_object_lock_disabled"


def test_object_lock_enabled_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_object_lock_not_configured_fails() -> None:
    assert run(CHECK, snapshot(object_lock=Probe(value=None))).status is Status.FAIL


def test_object_lock_configured_but_disabled_fails() -> None:
    assert run(CHECK, snapshot(object_lock=Probe(value=ObjectLock(enabled=False)))).status is Status.FAIL


def test_object_lock_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(object_lock=unknown_probe())).status is Status.UNKNOWN
