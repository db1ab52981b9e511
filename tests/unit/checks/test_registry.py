"""Registry meta-tests and the analyze() contract."""

import re
from pathlib import Path

import pytest

import secagent.checks.s3 as s3_checks
from secagent.checks import analyze, registry
from secagent.checks.base import Result
from secagent.checks.registry import Check
from secagent.models import AgentSettings, CheckMeta, Probe, Severity, Status, Versioning
from tests.unit.checks.snapshots import snapshot

CONTROL_ID = re.compile(r"^(FSBP:S3\.\d{1,2}|CIS-3\.0:\d+\.\d+\.\d+)$")
TESTS_DIR = Path(__file__).parent
# No FSBP or CIS control covers these; an empty list is the honest mapping.
# The product's own checks, with no standard control (docs/controls.md says why for each).
NO_CONTROL = {
    "s3_bucket_website_enabled",
    "s3_bucket_cors_wildcard_write",
    "s3_bucket_default_encryption_missing",  # FSBP S3.4 is retired
    "s3_bucket_policy_cross_account",  # S3.6 is only the blocklisted actions
    "s3_bucket_sse_c_allowed",
}
# No safe fix without the owner's input (a notification destination).
NO_FIX = {"s3_bucket_event_notifications_disabled"}


def test_registry_has_at_least_15_s3_checks() -> None:
    assert len(registry()) >= 15


def test_registry_check_id_equals_module_name_and_is_unique() -> None:
    modules = sorted(p.stem for p in Path(s3_checks.__file__).parent.glob("s3_*.py"))
    assert sorted(registry()) == modules
    for check_id, check in registry().items():
        assert check.module == f"secagent.checks.s3.{check_id}"


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_registry_check_metadata_complete_and_well_formed(check_id: str) -> None:
    meta = registry()[check_id].meta
    assert meta.title and meta.rationale and meta.remediation_id
    assert isinstance(meta.severity, Severity)
    assert all(CONTROL_ID.match(c) for c in meta.controls), meta.controls
    assert meta.controls or check_id in NO_CONTROL
    assert meta.requires and all(
        f in snapshot().config.model_fields_set | set(type(snapshot().config).model_fields)
        for f in meta.requires
    )
    assert (registry()[check_id].remediate is None) == (check_id in NO_FIX)
    fields = set(type(snapshot().config).model_fields)
    assert set(meta.also_reads) <= fields and not set(meta.also_reads) & set(meta.requires)


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_registry_every_check_has_a_test_module(check_id: str) -> None:
    assert (TESTS_DIR / f"test_{check_id}.py").is_file()


def test_analyze_hardened_snapshot_all_pass() -> None:
    result = analyze(snapshot(), AgentSettings(require_kms=True))
    failing = [(f.check_id, f.evidence) for f in result.findings if f.status is not Status.PASS]
    assert failing == []
    assert result.summary.pass_ == result.checks_run == len(registry())


def test_analyze_findings_sorted_by_severity_then_id_deterministically() -> None:
    snap = snapshot(policy=Probe(value=None), website=Probe(value={"IndexDocument": {"Suffix": "i.html"}}))
    first = analyze(snap).to_json_dict()
    second = analyze(snap).to_json_dict()
    first.pop("durationMs"), second.pop("durationMs")
    assert first == second
    keys = [(Severity(f["severity"]).rank, f["checkId"]) for f in first["findings"]]
    assert keys == sorted(keys)


def test_analyze_raising_check_yields_unknown_and_others_still_run() -> None:
    def boom(*_: object) -> list[Result]:
        raise KeyError("Statement")

    broken = Check(
        meta=CheckMeta(
            id="s3_broken",
            title="t",
            severity=Severity.LOW,
            rationale="r",
            controls=[],
            remediation_id="x",
            requires=[],
        ),
        evaluate=boom,
        remediate=None,
        phase=1,
        module="test",
    )
    checks = {**registry(), "s3_broken": broken}
    result = analyze(snapshot(), checks=checks)
    [bad] = [f for f in result.findings if f.check_id == "s3_broken"]
    assert bad.status is Status.UNKNOWN and "KeyError" in (bad.error or "")
    assert result.summary.pass_ == len(registry()) and result.summary.unknown == 1


def test_analyze_summary_counts_fail_and_unknown() -> None:
    suspended = Probe(value=Versioning(status="Suspended", mfa_delete="Enabled"))
    result = analyze(snapshot(versioning=suspended, logging=Probe(state="unknown", reason="AccessDenied")))
    assert result.summary.fail == 1 and result.summary.unknown == 1
    summary = {"pass": len(registry()) - 2, "fail": 1, "unknown": 1, "exempt": 0}
    assert result.to_json_dict()["summary"] == summary
    [fail] = [f for f in result.findings if f.status is Status.FAIL]
    assert fail.check_id == "s3_bucket_versioning_disabled" and fail.remediation_id


def test_analyze_disabled_checks_are_not_run() -> None:
    # Given a deployment that switches the MFA delete check off
    settings = AgentSettings.from_env({"SECAGENT_DISABLED_CHECKS": "s3_bucket_mfa_delete_disabled"})
    # When a snapshot is analyzed
    result = analyze(snapshot(), settings)
    # Then that check is absent and every other one ran
    assert "s3_bucket_mfa_delete_disabled" not in {f.check_id for f in result.findings}
    assert result.checks_run == len(registry()) - 1


def test_analyze_unknown_disabled_check_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the registry"):
        analyze(snapshot(), AgentSettings(disabled_checks=frozenset({"s3_no_such_check"})))
