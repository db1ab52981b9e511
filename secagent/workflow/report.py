"""Write Report: the report from the steps' stored outputs, the audit's records and the execution
history; store and announce it. The state itself holds only routes and summaries."""

import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import boto3
from botocore.exceptions import ClientError
from pydantic import ConfigDict, ValidationError
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel

import secagent.checks
from secagent import __version__
from secagent.aws import ClientFactory, client_factory, execution_history
from secagent.checks.registry import registry
from secagent.models.base import CamelModel
from secagent.models.errors import InvalidInput
from secagent.models.findings import Finding, Status
from secagent.models.outcome import Outcome
from secagent.models.plans import Plan
from secagent.models.records import ApplyProgress, AuditRequest, Decision
from secagent.models.report import (
    ApprovalDecision,
    CheckRegistryVersion,
    Failure,
    FindingCounts,
    PlanCheck,
    Product,
    RemediationResult,
    Report,
    ReportControl,
    ReportFinding,
    ReportRemediation,
    ReportStep,
    ReportSummary,
    StepRecord,
    Verification,
)
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef
from secagent.workflow._aws import put_event, put_json
from secagent.workflow.checkpoints import RECORDS, STEPS, load_checkpoint, load_checkpoints
from secagent.workflow.failures import explain
from secagent.workflow.gate import load_decision, load_request
from secagent.workflow.store import Sealer, read_object
from secagent.workflow.timeline import build_timeline

REPORTS_PREFIX = "reports/"


def report_key(audit_id: str) -> str:
    return f"{REPORTS_PREFIX}{audit_id}.json"


class _StatePart(CamelModel):
    # The state carries keys this tool does not use (discovery, auditId echoes, $.error...).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _Request(_StatePart):
    resource: ResourceRef
    mode: Literal["plan", "remediate", "rollback"] = "plan"


class _Discovery(_StatePart):
    account_id: str | None = None
    region: str | None = None


class _Analysis(_StatePart):
    findings: list[Finding] = PydanticField(default_factory=list)
    snapshot_read_at: datetime | None = None


class _Remediation(_StatePart):
    plans: list[Plan] = PydanticField(default_factory=list)


class _CaughtError(_StatePart):
    # A Catch's ResultPath holds {"Error", "Cause"}: not camelCase.
    error: str | None = PydanticField(None, alias="Error")
    cause: str | None = PydanticField(None, alias="Cause")


class WorkflowState(_StatePart):
    """What the report is built from: the execution state ``$`` (routes and summaries) with each
    step's full output, read from storage, in place of its summary (``reported_state``)."""

    audit_id: str
    started_at: datetime
    request: _Request
    outcome: Outcome
    discovery: _Discovery | None = None
    analysis: _Analysis | None = None
    remediation: _Remediation | None = None
    verification: Verification | None = None
    plan_check: PlanCheck | None = None
    error: _CaughtError | None = None


@dataclass(frozen=True)
class AuditRecords:
    """What the report states about who asked, who decided and what was applied: from storage
    (sealed by the API, or Apply's own record), never from the execution's input or callback."""

    request: AuditRequest | None = None
    decision: Decision | None = None
    progress: ApplyProgress | None = None
    previous_executions: list[str] = field(default_factory=list)
    reused_steps: list[str] = field(default_factory=list)

    def approval(self) -> ApprovalDecision | None:
        if self.decision is None:
            return None
        d = self.decision
        return ApprovalDecision(
            decision=d.decision,
            comment=d.comment,
            approver=d.approver_arn or d.approver,
            decided_at=d.decided_at,
            plan_digest=d.plan_digest,
            remediation_ids=d.remediation_ids if d.decision == "approve" else None,
        )


@dataclass(frozen=True)
class AwsLocation:
    """Where the workflow runs: from its execution ARN, ``arn:{partition}:states:{region}:{account}:...``."""

    partition: str
    region: str
    account: str

    @classmethod
    def of(cls, execution_arn: str) -> "AwsLocation":
        parts = execution_arn.split(":")
        if len(parts) < 8 or parts[0] != "arn" or not (parts[1] and parts[3] and parts[4]):
            raise InvalidInput(f"not an execution ARN: {execution_arn[:200]!r}")
        return cls(partition=parts[1], region=parts[3], account=parts[4])


def resource_arn_of(resource: ResourceRef, location: AwsLocation) -> str:
    """The resource's ARN: a bucket's names no region or account; a security group's names both."""
    if resource.type == SECURITY_GROUP:
        return (
            f"arn:{location.partition}:ec2:{location.region}:{location.account}:security-group/{resource.id}"
        )
    return f"arn:{location.partition}:s3:::{resource.id}"


def finding_id(resource_arn: str, check_id: str) -> str:
    """Stable per resource and check: the same finding in two audits has the same id.
    ``uuid5(NAMESPACE_URL, "{resourceArn}#{checkId}")``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource_arn}#{check_id}"))


CHECKS_DIR = Path(secagent.checks.__file__).parent


def registry_version(root: Path = CHECKS_DIR) -> str:
    """The check registry's version: sha256 over every source file under ``root`` (the checks and
    what they share: policy engine, exemptions), each as its relative path, its size and its
    bytes, in path order; the first 16 hex digits. Same sources, same version."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


@cache
def check_registry_version() -> CheckRegistryVersion:
    return CheckRegistryVersion(version=registry_version(), checks=len(registry()))


def report_findings(
    findings: list[Finding],
    resource_arn: str,
    analyzed_at: datetime,
    verification: Verification | None,
    verified_at: datetime,
) -> list[ReportFinding]:
    """The first analysis' findings, each with its stable id and when it was first and last seen."""
    verified = {f.check_id for f in verification.findings} if verification else set()
    seen: Counter[str] = Counter()
    out = []
    for f in findings:
        seen[f.check_id] += 1  # a check with several findings on one resource: #2, #3, ...
        key = f.check_id if seen[f.check_id] == 1 else f"{f.check_id}#{seen[f.check_id]}"
        out.append(
            ReportFinding(
                finding_id=finding_id(resource_arn, key),
                check_id=f.check_id,
                title=f.title,
                severity=f.severity,
                status=f.status,
                controls=[ReportControl.parse(c) for c in f.controls],
                first_observed_at=analyzed_at,
                last_observed_at=verified_at if f.check_id in verified else analyzed_at,
                evidence=f.evidence,
                remediation_id=f.remediation_id,
            )
        )
    return out


def _remediation(plan: Plan, approval: ApprovalDecision | None, records: AuditRecords) -> ReportRemediation:
    approved = approval is not None and approval.approves(plan)
    progress = records.progress
    results = {r.plan_id: r for r in progress.results} if progress else {}
    applied = results.get(plan.plan_id)
    if applied is not None and progress is not None:  # show the plan as applied (a subset is re-planned)
        plan = next((p for p in progress.plans if p.plan_id == plan.plan_id), plan)
    result: RemediationResult
    if applied is not None:
        result = applied.status.value
    elif approved:
        result = "NOT_RUN"
    elif approval is not None:
        result = "NOT_APPROVED"
    else:
        result = "PROPOSED"
    return ReportRemediation(plan=plan, approved=approved, applied=applied, result=result)


def _failure(state: WorkflowState, steps: list[ReportStep], execution: str | None) -> Failure | None:
    """The failed step (the last one the history marks failed) and the error its Catch recorded,
    explained for a person (secagent.workflow.failures); the raw cause is left to the logs. Also
    for a resource not found or access denied: which step met it, and why."""
    if not state.outcome.ended_unjudged:
        return None
    failed = next((s for s in reversed(steps) if s.status == "failed"), None)
    caught = state.error or _CaughtError.model_validate({})
    return explain(
        failed.name if failed else "unknown",
        caught.error or (failed.error.error if failed and failed.error else None),
        caught.cause,
        execution,
    )


REPORT_STEPS = ("Write Report", "Write Failure Report")


def build_report(
    state: dict[str, Any],
    timeline: Iterable[StepRecord | ReportStep],
    *,
    location: AwsLocation,
    records: AuditRecords | None = None,
    now: datetime | None = None,
    execution_name: str | None = None,
) -> Report:
    """The report of one execution; ``finishedAt`` is now. Raises InvalidInput on a malformed state.

    ``location``: the execution's partition, region and account (the bucket's account and region
    when Discover found them).
    """
    try:
        parsed = WorkflowState.model_validate(state)
    except ValidationError as err:
        raise InvalidInput(
            f"invalid workflow state: {err.errors(include_url=False, include_input=False)}"
        ) from err
    # The report is what the running report step writes: it lists the steps before it, never
    # itself as "running" forever.
    steps = [
        ReportStep.model_validate(s.model_dump(exclude={"type"}))
        for s in timeline
        if not (s.name in REPORT_STEPS and s.status == "running")
    ]
    findings = parsed.analysis.findings if parsed.analysis else []
    plans = sorted(parsed.remediation.plans, key=lambda p: p.order) if parsed.remediation else []
    outcome = parsed.outcome
    if (
        records is not None
        and outcome == "REJECTED"
        and not (records.decision is not None and records.decision.decision == "reject")
    ):
        # The wait ended "rejected" without a person's sealed rejection: someone sent the task a
        # result with its token. Nothing was applied, but no person rejected either.
        outcome = Outcome.APPROVAL_INVALID
    records = records or AuditRecords()
    request = records.request
    approval = records.approval()
    resource = request.resource if request else parsed.request.resource
    discovery = parsed.discovery or _Discovery()
    resource_arn = resource_arn_of(
        resource,
        AwsLocation(
            partition=location.partition,
            region=discovery.region or location.region,
            account=discovery.account_id or location.account,
        ),
    )
    finished_at = now or datetime.now(UTC)
    # First seen: when the configuration Analyze judged was read. Last seen: when Verify judged it
    # again (its step's end; the report's time when the history lacks it).
    analyzed_at = (parsed.analysis.snapshot_read_at if parsed.analysis else None) or parsed.started_at
    verified_at = next(
        (s.ended for s in reversed(steps) if s.name == STEPS["verification"] and s.ended), finished_at
    )
    verification = parsed.verification
    return Report(
        audit_id=parsed.audit_id,
        account=discovery.account_id or location.account,
        region=discovery.region or location.region,
        partition=location.partition,
        resource=resource,
        resource_arn=resource_arn,
        product=Product(name="secagent", version=__version__),
        check_registry=check_registry_version(),
        mode=request.mode if request else parsed.request.mode,
        requested_by=(request.requested_by_arn or request.requested_by) if request else None,
        rollback_of=request.rollback_of if request else None,
        started_at=parsed.started_at,
        finished_at=finished_at,
        outcome=outcome,
        summary=ReportSummary(
            outcome=outcome,
            before=FindingCounts.of(findings),
            after=FindingCounts.of(verification.findings) if verification else None,
        ),
        findings=report_findings(findings, resource_arn, analyzed_at, verification, verified_at),
        remediations=[_remediation(p, approval, records) for p in plans],
        approval=approval,
        verification=verification,
        plan_check=parsed.plan_check,
        steps=steps,
        failure=_failure(parsed, steps, execution_name),
        # A resumed audit: every execution, and the steps taken from checkpoints instead of run.
        executions=[*records.previous_executions, *filter(None, [execution_name])],
        reused_steps=records.reused_steps,
    )


def finding_counts(report: Report) -> dict[str, int]:
    return {s.value.lower(): sum(f.status is s for f in report.findings) for s in Status}


def publish_report(
    report: Report,
    *,
    bucket: str,
    session: boto3.Session | None = None,
    event_bus: str = "default",
    clients: ClientFactory | None = None,
) -> str:
    """Write ``reports/{auditId}.json`` and put ``Audit Completed``; return the report key.

    Both are safe to repeat when Step Functions retries the task: the object is overwritten
    with the same content and consumers key the event on auditId.
    """
    make = clients or client_factory(session)
    key = report_key(report.audit_id)
    put_json(bucket, key, report.to_json_dict(), make)
    detail = {
        "auditId": report.audit_id,
        "resource": report.resource.to_json_dict(),
        "resourceArn": report.resource_arn,
        "account": report.account,
        "region": report.region,
        "outcome": report.outcome,
        "reportBucket": bucket,
        "reportKey": key,
        "findingCounts": finding_counts(report),
    }
    put_event("Audit Completed", detail, event_bus, make)
    return key


def load_records(
    audit_id: str,
    execution_arn: str,
    bucket: str,
    sealer: Sealer,
    clients: ClientFactory,
    outputs: dict[str, Any] | None = None,
) -> AuditRecords:
    """The audit's records from storage; a record without a valid seal is left out, not believed.
    ``outputs``: the audit's stored outputs when already read (load_checkpoints), so Apply's record
    is not read twice."""
    stored = (
        outputs.get("applied")
        if outputs is not None
        else load_checkpoint(bucket, audit_id, "applied", clients)
    )
    name = execution_arn.rsplit(":", 1)[-1]
    resumes = int(name.rsplit("_r", 1)[1]) if "_r" in name else 0
    previous = [audit_id, *(f"{audit_id}_r{n}" for n in range(1, resumes))] if resumes else []
    succeeded: set[str] = set()
    for earlier in previous:
        history = execution_history(
            clients("stepfunctions", None), f"{execution_arn.rsplit(':', 1)[0]}:{earlier}"
        )
        succeeded |= {step.name for step in build_timeline(history) if step.status == "succeeded"}
    return AuditRecords(
        request=load_request(audit_id, bucket, sealer, clients),
        decision=load_decision(audit_id, bucket, sealer, clients),
        progress=ApplyProgress.model_validate(stored) if stored else None,
        previous_executions=previous,
        reused_steps=[step for step in STEPS.values() if step in succeeded],
    )


OBSERVATIONS_PREFIX = "observations/"


def observations_key(resource: ResourceRef) -> str:
    """``observations/{bucket}.json``; another type's under its own folder (a group id is also a
    valid bucket name, and a bucket name never holds a "/")."""
    if resource.type == BUCKET:
        return f"{OBSERVATIONS_PREFIX}{resource.id}.json"
    return f"{OBSERVATIONS_PREFIX}{resource.type.replace('::', '-')}/{resource.id}.json"


class Observation(CamelModel):
    """Since when a finding has been seen with this status (``observations/{bucket}.json``)."""

    status: Status
    first_observed_at: datetime


class Observations(CamelModel):
    findings: dict[str, Observation] = PydanticField(default_factory=dict)  # findingId -> observation


def carry_observations(report: Report, earlier: Observations) -> tuple[Report, Observations]:
    """A finding an earlier audit saw with the same status keeps the time it was first seen so
    (what a SIEM ages and deduplicates by); a changed status starts again. Returns the report and
    what the next audit of the resource should compare with: the verdicts as Verify left them."""
    after = {f.check_id: f.status for f in report.verification.findings} if report.verification else {}
    # What this audit did not judge (it failed first, or a check was disabled) keeps its history.
    findings, now_seen = [], dict(earlier.findings)
    for f in report.findings:
        seen = earlier.findings.get(f.finding_id or "")
        first = seen.first_observed_at if seen and seen.status is f.status else f.first_observed_at
        findings.append(f.model_copy(update={"first_observed_at": first}))
        status = after.get(f.check_id, f.status)
        since = first if status is f.status else f.last_observed_at
        if f.finding_id and since is not None:
            now_seen[f.finding_id] = Observation(status=status, first_observed_at=since)
    return report.model_copy(update={"findings": findings}), Observations(findings=now_seen)


def _earlier_observations(bucket: str, resource: ResourceRef, clients: ClientFactory) -> Observations:
    try:
        return Observations.model_validate(read_object(bucket, observations_key(resource), clients) or {})
    except (ValidationError, ClientError):
        return Observations()  # no readable history: the report keeps this audit's own times


# The Pass state that sets ``$.outcome`` -> the outcome it sets (the ASL's `Result`s: a test keeps
# them equal); after Verify, "Record Verified Outcome" copies Verify's stored verdict.
OUTCOME_STATES: dict[str, Outcome] = {
    "Mark Compliant": Outcome.COMPLIANT,
    "Mark Plans Proposed": Outcome.NON_COMPLIANT,
    "Mark Rejected": Outcome.REJECTED,
    "Mark Approval Expired": Outcome.APPROVAL_EXPIRED,
    "Mark Approval Invalid": Outcome.APPROVAL_INVALID,
    "Mark Stale Plan": Outcome.STALE_PLAN,
    "Mark Resource Not Found": Outcome.RESOURCE_NOT_FOUND,
    "Mark Access Denied": Outcome.ACCESS_DENIED,
    "Mark Failed": Outcome.FAILED,
}
VERIFIED_OUTCOME_STATE = "Record Verified Outcome"


def _unjudged_checks(stored: dict[str, Any]) -> bool:
    analysis = stored.get("analysis") or {}
    return any(
        f.get("status") == Status.UNKNOWN for f in analysis.get("findings") or [] if isinstance(f, dict)
    )


def outcome_of(steps: Iterable[StepRecord], stored: dict[str, Any]) -> Outcome:
    """How the execution ended: the last state its history shows setting the outcome (and, after
    Verify, Verify's stored verdict). Never the state handed to Write Report, which a direct
    invocation inside the step's window could forge; FAILED when the history shows none."""
    for step in reversed(list(steps)):
        if step.name in OUTCOME_STATES:
            outcome = OUTCOME_STATES[step.name]
            # "Any Failing Checks?" routes on FAIL alone: checks that could not judge (a denied
            # read) leave the resource unproven, never COMPLIANT.
            if outcome is Outcome.COMPLIANT and _unjudged_checks(stored):
                return Outcome.NON_COMPLIANT
            return outcome
        if step.name == VERIFIED_OUTCOME_STATE:
            verified = stored.get("verification")
            return Verification.model_validate(verified).outcome if verified else Outcome.FAILED
    return Outcome.FAILED


def reported_state(
    state: dict[str, Any],
    stored: dict[str, Any],
    given: dict[str, Any] | None = None,
    sealed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The state as the report reads it: each step's summary replaced by its full output from
    storage (``stored``: name -> output, secagent.workflow.checkpoints; a checkpoint from an
    earlier execution of a resumed audit counts, a Recheck only from this one); the request as
    Discover returned it, else the ``sealed`` request (Discover failed after reading it), else as
    the execution input ``given`` named it (an execution the API did not start). The task result
    ``approval`` is left out: the report states the sealed decision, and a malformed result (from
    anyone holding the token) must not stop the report."""
    skip = {*STEPS, *RECORDS, "approval"}
    full = {key: value for key, value in state.items() if key not in skip}
    full |= {name: output for name, output in stored.items() if name in STEPS or name in state}
    discovered = state.get("discovery")
    route = discovered.get("request") if isinstance(discovered, dict) else None
    full["request"] = route or sealed or given or {}
    return full


def write_report(
    execution_arn: str,
    state: dict[str, Any],
    *,
    given: dict[str, Any] | None = None,
    bucket: str,
    sealer: Sealer,
    event_bus: str = "default",
    clients: ClientFactory,
) -> Report:
    """Records + history -> Task-state timeline -> report -> stored and announced."""
    audit_id = str(state.get("auditId", ""))
    stored = load_checkpoints(clients("s3", None), bucket, audit_id)
    history = execution_history(clients("stepfunctions", None), execution_arn)
    records = load_records(audit_id, execution_arn, bucket, sealer, clients, stored)
    sealed = records.request.model_dump(mode="json", by_alias=True) if records.request else None
    full = reported_state(state, stored, given, sealed)
    full["outcome"] = outcome_of(build_timeline(history, include_all=True), stored)
    report = build_report(
        full,
        build_timeline(history),
        location=AwsLocation.of(execution_arn),
        records=records,
        execution_name=execution_arn.rsplit(":", 1)[-1],
    )
    # One audit of a resource at a time (the API's lock), so this read-then-write does not race.
    report, observed = carry_observations(report, _earlier_observations(bucket, report.resource, clients))
    publish_report(report, bucket=bucket, session=None, event_bus=event_bus, clients=clients)
    if report.requested_by is not None:  # an execution the API did not start observes nothing
        put_json(bucket, observations_key(report.resource), observed.to_json_dict(), clients)
    return report
