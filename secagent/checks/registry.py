"""Check registry: finds every check by itself; adding a check = adding a file.

Each resource type's checks are one package under secagent.checks whose ``RESOURCE_TYPE`` names
the type (secagent.checks.s3: buckets; secagent.checks.ec2: security groups). A snapshot is judged
by its own type's checks only; check ids are unique across all types.
"""

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from types import ModuleType
from typing import Any

import secagent.checks as checks_package
from secagent.checks.base import Result
from secagent.checks.exemptions import apply_exemptions, validate_exemptions
from secagent.fixes.planning import Draft
from secagent.models.findings import AnalysisResult, CheckMeta, Finding, Status, Summary
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BUCKET, ResourceType, Snapshot


@dataclass(frozen=True)
class Check:
    meta: CheckMeta
    # Each check module types its own resource's snapshot and planning state.
    evaluate: Callable[[Any, AgentSettings], list[Result]]
    remediate: Callable[[Any, Finding], Draft | None] | None
    phase: int  # remediation order: lower applies first
    module: str
    resource_type: ResourceType


def _load(module: ModuleType, resource_type: ResourceType) -> Check:
    return Check(
        meta=module.META,
        evaluate=module.evaluate,
        remediate=getattr(module, "remediate", None),
        phase=getattr(module, "PHASE", 100),
        module=module.__name__,
        resource_type=resource_type,
    )


def check_packages() -> dict[str, ResourceType]:
    """Every package of checks under secagent.checks -> the resource type it judges."""
    found: dict[str, ResourceType] = {}
    for info in pkgutil.iter_modules(checks_package.__path__):
        if info.ispkg:
            package = importlib.import_module(f"{checks_package.__name__}.{info.name}")
            if resource_type := getattr(package, "RESOURCE_TYPE", None):
                found[package.__name__] = resource_type
    return dict(sorted(found.items()))


@cache
def registry() -> dict[str, Check]:
    """Every check of every resource type, by id."""
    found: dict[str, Check] = {}
    for package_name, resource_type in check_packages().items():
        package = importlib.import_module(package_name)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("_"):
                continue
            check = _load(importlib.import_module(f"{package_name}.{info.name}"), resource_type)
            if check.meta.id != info.name or check.meta.id in found:
                raise RuntimeError(f"check id {check.meta.id!r} must be unique and equal its module name")
            found[check.meta.id] = check
    return dict(sorted(found.items()))


def checks_for(resource_type: str) -> dict[str, Check]:
    """The checks that judge one resource type."""
    return {check_id: c for check_id, c in registry().items() if c.resource_type == resource_type}


def list_checks(resource_type: str | None = None) -> list[CheckMeta]:
    return [c.meta for c in (registry() if resource_type is None else checks_for(resource_type)).values()]


def get_check(check_id: str) -> Check:
    return registry()[check_id]


def _finding(meta: CheckMeta, snapshot: Snapshot, result: Result) -> Finding:
    if result.controls is not None and not set(result.controls) <= set(meta.controls):
        raise ValueError(f"{meta.id}: a verdict may only fail controls the check declares")
    return Finding(
        check_id=meta.id,
        title=meta.title,
        severity=result.severity or meta.severity,
        status=result.status,
        controls=list(meta.controls if result.controls is None else result.controls),
        resource_id=snapshot.resource.id,
        evidence=result.evidence,
        remediation_id=meta.remediation_id if result.status is Status.FAIL and result.remediable else None,
        rationale=meta.rationale,
        error=result.error,
    )


def run_check(check: Check, snapshot: Snapshot, settings: AgentSettings) -> list[Finding]:
    meta = check.meta
    missing = {f: getattr(snapshot.config, f) for f in meta.requires if not getattr(snapshot.config, f).known}
    if missing:
        reasons = "; ".join(f"{f}: {p.reason}" for f, p in missing.items())
        return [_finding(meta, snapshot, Result(Status.UNKNOWN, {"unknownFields": sorted(missing)}, reasons))]
    try:
        results = check.evaluate(snapshot, settings)
    except Exception as err:  # a broken check must not sink the analysis
        return [
            _finding(meta, snapshot, Result(Status.UNKNOWN, {}, f"check raised {type(err).__name__}: {err}"))
        ]
    return [_finding(meta, snapshot, r) for r in results]


def sort_key(finding: Finding) -> tuple[Any, ...]:
    return (finding.severity.rank, finding.check_id, finding.resource_id)


def analyze(
    snapshot: Snapshot,
    settings: AgentSettings | None = None,
    checks: dict[str, Check] | None = None,
    *,
    now: datetime | None = None,
) -> AnalysisResult:
    """Run every registered check of the snapshot's resource type on it. Pure: no AWS calls.

    A FAIL that an exemption covers (bucket tag or deploy-time allow-list, not expired at
    ``now``, default the current time) is reported as EXEMPT; see secagent.checks.exemptions.
    """
    settings = settings or AgentSettings()
    everything = registry()
    if unknown := sorted(settings.disabled_checks - set(everything)):
        raise ValueError(f"disabled checks not in the registry: {unknown}")
    validate_exemptions(settings, everything)
    checks = checks_for(snapshot.resource.type) if checks is None else checks
    known = set(checks)
    # Checks switched off for this deployment (like Prowler's --excluded-checks) are not run at all.
    checks = {
        check_id: check for check_id, check in checks.items() if check_id not in settings.disabled_checks
    }
    started = time.perf_counter()
    findings = sorted((f for c in checks.values() for f in run_check(c, snapshot, settings)), key=sort_key)
    findings = apply_exemptions(findings, snapshot, settings, known, now)
    return AnalysisResult(
        resource_id=snapshot.resource.id,
        snapshot_read_at=snapshot.read_at.isoformat(),
        checks_run=len(checks),
        findings=findings,
        summary=Summary.of(findings),
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
    )


# Read by analyze() itself, whatever checks run: secagent:exempt tags turn a FAIL into EXEMPT.
ANALYSIS_READS = ("tags",)


def fields_checks_use(settings: AgentSettings | None = None) -> frozenset[str]:
    """Bucket fields a verdict uses: those the enabled checks require or also read, and
    the tags the exemptions read."""
    disabled = settings.disabled_checks if settings else frozenset()
    checks = (c for cid, c in checks_for(BUCKET).items() if cid not in disabled)
    used = {f for c in checks for f in (*c.meta.requires, *c.meta.also_reads)}
    return frozenset(used.union(ANALYSIS_READS))
