"""Registry meta-tests and the analyze() contract, for every resource type's checks."""

import importlib
import re
from pathlib import Path

import pytest

from secagent.checks import analyze, registry
from secagent.checks.base import Result
from secagent.checks.registry import Check, check_packages, checks_for
from secagent.models import AgentSettings, CheckMeta, Probe, Severity, Status, Versioning
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, SNAPSHOT_TYPES, ResourceType
from tests.unit.checks.groups import group
from tests.unit.checks.snapshots import snapshot

# Each package's checks: their module (and id) prefix and the FSBP controls they may map.
PACKAGES: dict[ResourceType, tuple[str, str]] = {
    BUCKET: ("secagent.checks.s3", "s3"),
    SECURITY_GROUP: ("secagent.checks.ec2", "ec2"),
}
FSBP_SERVICE = {BUCKET: "S3", SECURITY_GROUP: "EC2"}
CONTROL_ID = re.compile(r"^(FSBP:(?P<service>S3|EC2)\.\d{1,2}|CIS-3\.0:\d+\.\d+(\.\d+)?)$")
TESTS_DIR = Path(__file__).parent
# No FSBP or CIS control covers these; an empty list is the honest mapping.
# The product's own checks, with no standard control (docs/controls.md says why for each).
NO_CONTROL = {
    "s3_bucket_website_enabled",
    "s3_bucket_cors_wildcard_write",
    "s3_bucket_default_encryption_missing",  # FSBP S3.4 is retired
    "s3_bucket_policy_cross_account",  # S3.6 is only the blocklisted actions
    "s3_bucket_sse_c_allowed",
    "ec2_security_group_unused",  # FSBP EC2.22 is retired (kept by AWS Control Tower only)
}
# No safe fix without the owner's input (a notification destination; whether a group may go).
NO_FIX = {"s3_bucket_event_notifications_disabled", "ec2_security_group_unused"}


def config_fields(resource_type: ResourceType) -> set[str]:
    """The configuration fields of the resource type's snapshot."""
    config_model = SNAPSHOT_TYPES[resource_type].model_fields["config"].annotation
    assert isinstance(config_model, type)
    return set(config_model.model_fields)


def test_registry_has_at_least_15_s3_and_9_ec2_checks() -> None:
    assert len(checks_for(BUCKET)) >= 15
    assert len(checks_for(SECURITY_GROUP)) >= 9
    assert len(registry()) == len(checks_for(BUCKET)) + len(checks_for(SECURITY_GROUP))


def test_registry_finds_each_resource_types_package() -> None:
    assert check_packages() == {package: rt for rt, (package, _) in PACKAGES.items()}
    for resource_type, (package, _) in PACKAGES.items():
        assert resource_type == importlib.import_module(package).RESOURCE_TYPE


@pytest.mark.parametrize("resource_type", sorted(PACKAGES))
def test_registry_check_id_equals_module_name_and_is_unique(resource_type: ResourceType) -> None:
    package, prefix = PACKAGES[resource_type]
    folder = Path(importlib.import_module(package).__file__ or "").parent
    modules = sorted(p.stem for p in folder.glob(f"{prefix}_*.py"))
    assert sorted(checks_for(resource_type)) == modules
    assert not [p.name for p in folder.glob("*.py") if not p.stem.startswith((f"{prefix}_", "_"))]
    for check_id, check in checks_for(resource_type).items():
        assert check.module == f"{package}.{check_id}"
        assert check.resource_type == resource_type


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_registry_check_metadata_complete_and_well_formed(check_id: str) -> None:
    check = registry()[check_id]
    meta = check.meta
    assert meta.title and meta.rationale and meta.remediation_id
    assert isinstance(meta.severity, Severity)
    for control in meta.controls:
        matched = CONTROL_ID.match(control)
        assert matched, meta.controls
        # a check maps only its own service's FSBP controls
        assert matched["service"] in (None, FSBP_SERVICE[check.resource_type]), control
    assert meta.controls or check_id in NO_CONTROL
    assert not (meta.controls and check_id in NO_CONTROL)
    # requires and also_reads name fields of the check's own resource type's configuration
    fields = config_fields(check.resource_type)
    assert meta.requires and set(meta.requires) <= fields
    assert (check.remediate is None) == (check_id in NO_FIX)
    assert set(meta.also_reads) <= fields and not set(meta.also_reads) & set(meta.requires)


@pytest.mark.parametrize("check_id", sorted(registry()))
def test_registry_every_check_has_a_test_module(check_id: str) -> None:
    assert (TESTS_DIR / f"test_{check_id}.py").is_file()


def test_registry_security_group_checks_each_have_their_own_remediation_id() -> None:
    # Two group checks that flag one rule share its revoke through the planned state (the later
    # one finds nothing left to close), not through a shared id: each keeps a choice of its own.
    ids = [c.meta.remediation_id for c in checks_for(SECURITY_GROUP).values()]
    assert len(ids) == len(set(ids))


def test_analyze_hardened_snapshot_all_pass() -> None:
    result = analyze(snapshot(), AgentSettings(require_kms=True))
    failing = [(f.check_id, f.evidence) for f in result.findings if f.status is not Status.PASS]
    assert failing == []
    assert result.summary.pass_ == result.checks_run == len(checks_for(BUCKET))


def test_analyze_hardened_security_group_all_pass_and_runs_only_ec2_checks() -> None:
    result = analyze(group())
    failing = [(f.check_id, f.evidence) for f in result.findings if f.status is not Status.PASS]
    assert failing == []
    assert result.summary.pass_ == result.checks_run == len(checks_for(SECURITY_GROUP))
    assert {f.check_id for f in result.findings} == set(checks_for(SECURITY_GROUP))
    assert result.resource_id == group().group_id


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
        resource_type=BUCKET,
    )
    checks = {**checks_for(BUCKET), "s3_broken": broken}
    result = analyze(snapshot(), checks=checks)
    [bad] = [f for f in result.findings if f.check_id == "s3_broken"]
    assert bad.status is Status.UNKNOWN and "KeyError" in (bad.error or "")
    assert result.summary.pass_ == len(checks_for(BUCKET)) and result.summary.unknown == 1


def test_analyze_summary_counts_fail_and_unknown() -> None:
    suspended = Probe(value=Versioning(status="Suspended", mfa_delete="Enabled"))
    result = analyze(snapshot(versioning=suspended, logging=Probe(state="unknown", reason="AccessDenied")))
    assert result.summary.fail == 1 and result.summary.unknown == 1
    summary = {"pass": len(checks_for(BUCKET)) - 2, "fail": 1, "unknown": 1, "exempt": 0}
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
    assert result.checks_run == len(checks_for(BUCKET)) - 1


def test_analyze_disabling_a_check_of_another_type_changes_nothing_here() -> None:
    settings = AgentSettings(disabled_checks=frozenset({"ec2_security_group_unused"}))
    assert analyze(snapshot(), settings).checks_run == len(checks_for(BUCKET))
    assert analyze(group(), settings).checks_run == len(checks_for(SECURITY_GROUP)) - 1


def test_analyze_unknown_disabled_check_is_refused() -> None:
    with pytest.raises(ValueError, match="not in the registry"):
        analyze(snapshot(), AgentSettings(disabled_checks=frozenset({"s3_no_such_check"})))
