"""What both formats read: one resource and its check findings, each with what Verify saw after.

An audit's report and a swept resource carry the same ``ReportFinding``s; this reads either into
one ``Subject`` and its ``Observed`` findings so that OCSF and ASFF say the same thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from secagent import __version__
from secagent.checks.registry import registry
from secagent.models.findings import Finding, Status
from secagent.models.plans import Plan
from secagent.models.report import STANDARDS, Report, ReportControl, ReportFinding
from secagent.models.snapshot import ResourceRef
from secagent.models.sweep import ResourceResult

PRODUCT_NAME = "secagent"
FSBP = STANDARDS["FSBP"]
# Security Hub's page of each FSBP control, by service: docs/controls.md links the same anchors.
_CONTROL_PAGES = {
    "S3": "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html",
    "EC2": "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html",
}


class OutputError(ValueError):
    """The input cannot be rendered faithfully (a schemaVersion 1 report lacks the account, the ARN
    and the finding ids the formats require)."""


@dataclass(frozen=True)
class Subject:
    """The resource the findings are about, and who judged it."""

    account: str
    region: str
    partition: str
    resource: ResourceRef
    resource_arn: str
    product_version: str
    # Our own ids (auditId or sweepId, outcome): OCSF `unmapped`, ASFF `ProductFields`.
    context: dict[str, str] = field(default_factory=dict)

    @property
    def resource_name(self) -> str:
        return self.resource.id


@dataclass(frozen=True)
class Observed:
    """One check finding as first judged, and its latest verdict."""

    finding: ReportFinding
    finding_id: str
    first_seen: datetime
    last_seen: datetime
    after: Finding | None = None  # Verify's verdict on the same check, when Verify ran
    plan: Plan | None = None  # the fix proposed for it (audits only)
    remediation_result: str | None = None  # APPLIED, NOT_APPROVED, ... (audits only)

    @property
    def status(self) -> Status:
        """What is true now: Verify's verdict when it judged this check again, else the first one."""
        return self.after.status if self.after is not None else self.finding.status

    @property
    def controls(self) -> list[ReportControl]:
        if self.after is None:
            return self.finding.controls
        # Verify may fail fewer controls than Analyze did (a partial fix): report what fails now,
        # unless nothing parses (a control of a standard this version no longer knows).
        parsed = [ReportControl.parse(c) for c in self.after.controls if c.partition(":")[0] in STANDARDS]
        return parsed or self.finding.controls


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _require[T](value: T | None, what: str) -> T:
    if value is None:
        raise OutputError(f"the input has no {what} (a schemaVersion 1 report?): audit the resource again")
    return value


def _observed(
    finding: ReportFinding, default_time: datetime, after: Finding | None = None, **extra: object
) -> Observed:
    first = _utc(finding.first_observed_at or default_time)
    return Observed(
        finding=finding,
        finding_id=_require(finding.finding_id, f"findingId for {finding.check_id}"),
        first_seen=first,
        last_seen=_utc(finding.last_observed_at or first),
        after=after,
        **extra,  # type: ignore[arg-type]
    )


def of_report(report: Report) -> tuple[Subject, list[Observed]]:
    subject = Subject(
        account=_require(report.account, "account"),
        region=_require(report.region, "region"),
        partition=_require(report.partition, "partition"),
        resource=report.resource,
        resource_arn=_require(report.resource_arn, "resourceArn"),
        product_version=report.product.version if report.product else __version__,
        context={"auditId": report.audit_id, "outcome": str(report.outcome)},
    )
    # Verify's findings pair with the first analysis' by check and order: a check with several
    # findings on one resource has them in the same order in both analyses.
    verified: dict[str, list[Finding]] = {}
    for v in report.verification.findings if report.verification else []:
        verified.setdefault(v.check_id, []).append(v)
    plans = {r.plan.remediation_id: r for r in report.remediations}
    seen: Counter[str] = Counter()
    observed = []
    for f in report.findings:
        index = seen[f.check_id]
        seen[f.check_id] += 1
        again = verified.get(f.check_id, [])
        remediation = plans.get(f.remediation_id or "")
        observed.append(
            _observed(
                f,
                report.finished_at,
                again[index] if index < len(again) else None,
                plan=remediation.plan if remediation else None,
                remediation_result=remediation.result if remediation else None,
            )
        )
    return subject, observed


def of_resource(result: ResourceResult) -> tuple[Subject, list[Observed]]:
    """A swept resource. One that could not be judged (ACCESS_DENIED, ...) has no findings and so
    renders as none: no format claims a verdict nobody reached."""
    subject = Subject(
        account=result.account_id,
        region=result.region,
        partition=result.partition,
        resource=result.resource,
        resource_arn=result.resource_arn,
        product_version=__version__,
        context={"sweepId": result.sweep_id, "outcome": str(result.outcome)},
    )
    return subject, [_observed(f, result.observed_at) for f in result.findings]


def rationale(check_id: str) -> str | None:
    """Why the check matters (its metadata); None for a check this version no longer has."""
    check = registry().get(check_id)
    return check.meta.rationale if check else None


def control_url(control: ReportControl) -> str | None:
    """Security Hub's page of an FSBP control (S3.2 -> s3-controls.html#s3-2); None for others."""
    if control.standard != FSBP:
        return None
    service, _, number = control.control.partition(".")
    page = _CONTROL_PAGES.get(service)
    return f"{page}#{service.lower()}-{number}" if page and number else None


def security_control_id(controls: list[ReportControl]) -> str | None:
    """The first FSBP control: Security Hub's cross-standard control id (S3.2, EC2.19)."""
    return next((c.control for c in controls if c.standard == FSBP), None)


def requirement(control: ReportControl) -> str:
    """A control as Security Hub's standards control ARN ends: ``{standard}/{control}``."""
    return f"{control.standard}/{control.control}"


def remediation_text(observed: Observed, subject: Subject) -> str:
    """How to fix it: the planned fix when the audit proposed one, else where a fix comes from."""
    plan = observed.plan
    if plan is not None:
        done = f" ({observed.remediation_result})" if observed.remediation_result else ""
        return f"{plan.title}{done}. {plan.risk} Command: {plan.cli_command}"
    if observed.finding.remediation_id:
        return (
            f"An automatic fix exists ({observed.finding.remediation_id}): run "
            f"`secagent audit {subject.resource.id} --remediate` and approve it."
        )
    if observed.status is Status.PASS:
        return "Nothing to do: the check passes."
    return "No automatic fix: follow the control's guidance in the references."


def status_detail(observed: Observed) -> str | None:
    """Why a verdict is not a plain PASS/FAIL: the exemption, or what could not be read."""
    evidence = observed.after.evidence if observed.after is not None else observed.finding.evidence
    if observed.status is Status.EXEMPT:
        exemption = evidence.get("exemption") or {}
        reason = exemption.get("reason") or "accepted by an exemption"
        until = exemption.get("until")
        return f"EXEMPT: the check fails; exempted{f' until {until}' if until else ''}: {reason}"
    if observed.status is Status.UNKNOWN:
        unknown = evidence.get("unknownFields")
        error = observed.after.error if observed.after is not None else None
        what = f"could not read {', '.join(map(str, unknown))}" if unknown else error or "could not decide"
        return f"UNKNOWN: the check {what}"
    if observed.after is not None and observed.finding.status is not observed.status:
        return f"{observed.finding.status} before the fix, {observed.status} when verified"
    return None
