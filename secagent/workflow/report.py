"""Write Report: the report from the final state and the execution history; store and announce it."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from pydantic import ConfigDict, ValidationError
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel

from secagent.aws import ClientFactory, client_factory
from secagent.models.base import CamelModel
from secagent.models.errors import InvalidInput
from secagent.models.findings import Finding, Status
from secagent.models.plans import Plan
from secagent.models.report import (
    AppliedSummary,
    ApprovalDecision,
    Failure,
    Outcome,
    PlanCheck,
    RemediationResult,
    Report,
    ReportFinding,
    ReportRemediation,
    ReportStep,
    StepRecord,
    Verification,
)
from secagent.models.snapshot import ResourceRef
from secagent.workflow._aws import put_event, put_json
from secagent.workflow.checkpoints import STEPS
from secagent.workflow.timeline import HistoryEvent, build_timeline

REPORTS_PREFIX = "reports/"


def report_key(audit_id: str) -> str:
    return f"{REPORTS_PREFIX}{audit_id}.json"


class _StatePart(CamelModel):
    # The state carries keys this tool does not use (discovery, auditId echoes, $.error...).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class _Resume(_StatePart):
    checkpoints: dict[str, Any] = PydanticField(default_factory=dict)
    previous_executions: list[str] = PydanticField(default_factory=list)


class _Request(_StatePart):
    resource: ResourceRef
    mode: Literal["plan", "remediate", "rollback"] = "plan"
    requested_by: str | None = None
    rollback_of: str | None = None
    resume: _Resume = PydanticField(default_factory=_Resume)


class _Analysis(_StatePart):
    findings: list[Finding] = PydanticField(default_factory=list)


class _Remediation(_StatePart):
    plans: list[Plan] = PydanticField(default_factory=list)


class _CaughtError(_StatePart):
    # A Catch's ResultPath holds {"Error", "Cause"}: not camelCase.
    error: str | None = PydanticField(None, alias="Error")
    cause: str | None = PydanticField(None, alias="Cause")


class WorkflowState(_StatePart):
    """The execution state ``$`` as it reaches Write Report (docs/workflow.md, "State")."""

    audit_id: str
    started_at: datetime
    request: _Request
    outcome: Outcome
    analysis: _Analysis | None = None
    remediation: _Remediation | None = None
    approval: ApprovalDecision | None = None
    applied: AppliedSummary | None = None
    verification: Verification | None = None
    plan_check: PlanCheck | None = None
    failure: Failure | None = None
    error: _CaughtError | None = None


def _remediation(plan: Plan, state: WorkflowState) -> ReportRemediation:
    approved = state.approval is not None and state.approval.approves(plan)
    results = {r.plan_id: r for r in state.applied.results} if state.applied else {}
    applied = results.get(plan.plan_id)
    result: RemediationResult
    if applied is not None:
        result = applied.status.value  # type: ignore[assignment]
    elif approved:
        result = "NOT_RUN"
    elif state.approval is not None:
        result = "NOT_APPROVED"
    else:
        result = "PROPOSED"
    return ReportRemediation(plan=plan, approved=approved, applied=applied, result=result)


def _failure(state: WorkflowState, steps: list[ReportStep]) -> Failure | None:
    if state.outcome != "FAILED":
        return None
    if state.failure is not None:
        return state.failure
    # No "... Failed" Pass recorded it: fall back to the caught error and the last failed step.
    failed = next((s for s in reversed(steps) if s.status == "failed"), None)
    caught = state.error or _CaughtError.model_validate({})
    return Failure(
        step=failed.name if failed else "unknown",
        error=caught.error or (failed.error.error if failed and failed.error else None),
        cause=caught.cause or (failed.error.cause if failed and failed.error else None),
    )


def build_report(
    state: dict[str, Any],
    timeline: Iterable[StepRecord | ReportStep],
    *,
    now: datetime | None = None,
    execution_name: str | None = None,
) -> Report:
    """The report of one execution; ``finishedAt`` is now. Raises InvalidInput on a malformed state."""
    try:
        parsed = WorkflowState.model_validate(state)
    except ValidationError as err:
        raise InvalidInput(
            f"invalid workflow state: {err.errors(include_url=False, include_input=False)}"
        ) from err
    steps = [ReportStep.model_validate(s.model_dump(exclude={"type"})) for s in timeline]
    findings = parsed.analysis.findings if parsed.analysis else []
    plans = sorted(parsed.remediation.plans, key=lambda p: p.order) if parsed.remediation else []
    return Report(
        audit_id=parsed.audit_id,
        resource=parsed.request.resource,
        mode=parsed.request.mode,
        requested_by=parsed.request.requested_by,
        rollback_of=parsed.request.rollback_of,
        started_at=parsed.started_at,
        finished_at=now or datetime.now(UTC),
        outcome=parsed.outcome,
        findings=[
            ReportFinding.model_validate(f.model_dump(include=set(ReportFinding.model_fields)))
            for f in findings
        ],
        remediations=[_remediation(p, parsed) for p in plans],
        approval=parsed.approval,
        verification=parsed.verification,
        plan_check=parsed.plan_check,
        steps=steps,
        failure=_failure(parsed, steps),
        # A resumed audit: every execution, and the steps taken from checkpoints instead of run.
        executions=[*parsed.request.resume.previous_executions, *filter(None, [execution_name])],
        reused_steps=[STEPS[name] for name in STEPS if name in parsed.request.resume.checkpoints],
    )


def finding_counts(report: Report) -> dict[str, int]:
    return {s.value.lower(): sum(f.status is s for f in report.findings) for s in Status}


def publish_report(
    report: Report,
    *,
    bucket: str,
    session: boto3.Session,
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
        "outcome": report.outcome,
        "reportBucket": bucket,
        "reportKey": key,
        "findingCounts": finding_counts(report),
    }
    put_event("Audit Completed", detail, event_bus, make)
    return key


def execution_history(execution_arn: str, clients: ClientFactory) -> list[HistoryEvent]:
    """All history events, oldest first.

    Without execution data: Await Approval's TaskScheduled parameters hold the task token.
    """
    pages = (
        clients("stepfunctions", None)
        .get_paginator("get_execution_history")
        .paginate(executionArn=execution_arn, includeExecutionData=False)
    )
    return [event for page in pages for event in page["events"]]


def write_report(
    execution_arn: str,
    state: dict[str, Any],
    *,
    bucket: str,
    session: boto3.Session,
    event_bus: str = "default",
    clients: ClientFactory | None = None,
) -> Report:
    """History -> Task-state timeline -> report -> stored and announced."""
    make = clients or client_factory(session)
    report = build_report(
        state,
        build_timeline(execution_history(execution_arn, make)),
        execution_name=execution_arn.rsplit(":", 1)[-1],
    )
    publish_report(report, bucket=bucket, session=session, event_bus=event_bus, clients=make)
    return report
