"""The audit report (reports/{auditId}.json) and the workflow state pieces it is built from.

`python -m secagent.models.report` prints the report's JSON Schema (docs/report.schema.json).
"""

import json
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, model_validator
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel
from pydantic.json_schema import SkipJsonSchema

from secagent.models.base import CamelModel
from secagent.models.findings import Finding, Severity, Status, Summary
from secagent.models.outcome import Outcome
from secagent.models.plans import Plan
from secagent.models.snapshot import ResourceRef

# 2: account, region, partition, resourceArn, product, checkRegistry, summary; per finding
# findingId, firstObservedAt, lastObservedAt and the controls as {standard, control}.
REPORT_SCHEMA_VERSION: Literal["2"] = "2"
JSON_SCHEMA_ID = f"urn:secagent:report:{REPORT_SCHEMA_VERSION}"

# The checks' short control ids (CheckMeta.controls: "FSBP:S3.2", "CIS-3.0:2.1.4") -> the standard
# as AWS Security Hub names it (its standards ARN without the prefix). docs/controls.md.
STANDARDS: dict[str, str] = {
    "FSBP": "aws-foundational-security-best-practices/v/1.0.0",
    "CIS-3.0": "cis-aws-foundations-benchmark/v/3.0.0",
}

StepStatus = Literal["running", "retrying", "succeeded", "failed"]


class StepError(CamelModel):
    """A failed attempt as a user sees it (secagent.workflow.failures): never the raw cause, which
    holds a Lambda's stack trace; the logs keep that."""

    error: str | None = None  # the error's name: ResourceNotFound, States.Timeout, ...
    message: str | None = None  # what happened, in a sentence


class ReportStep(CamelModel):
    """One state of the execution as the report shows it (docs/workflow.md "Report" steps[])."""

    name: str
    status: StepStatus
    attempts: int = 0  # Task/Lambda schedulings; 0 for states that invoke nothing
    started: datetime | None = None
    ended: datetime | None = None
    error: StepError | None = None


class StepRecord(ReportStep):
    """A timeline entry: a ReportStep plus the state type (Task, Pass, Choice, ...)."""

    type: str


class ProgressStep(CamelModel):
    """One step of an audit as `GET /audits/{id}` shows it, across every execution of the audit."""

    name: str
    status: Literal["pending", "running", "retrying", "succeeded", "failed", "skipped"]
    attempts: int = 0
    started: datetime | None = None
    ended: datetime | None = None
    error: StepError | None = None
    reused: bool = False  # taken from a checkpoint by a resume, not run again
    execution: str | None = None  # the execution that ran it


class ApprovalDecision(CamelModel):
    """``$.approval``: what the API sends with SendTaskSuccess."""

    # Written by another component (the API): tolerate fields it may add later.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    decision: Literal["approve", "reject"]
    comment: str | None = None
    approver: str | None = None
    decided_at: datetime | None = None
    plan_digest: str | None = None  # the digest of the plans the approver saw
    # Optional: approve only these remediations; None = every proposed plan.
    remediation_ids: list[str] | None = None

    def approves(self, plan: Plan) -> bool:
        if self.decision != "approve":
            return False
        return self.remediation_ids is None or plan.remediation_id in self.remediation_ids


class ApprovalRecord(CamelModel):
    """``approvals/{auditId}.json``: the plans as shown to a person. The task token is kept apart
    (``tokens/{auditId}.json``, readable by the API's role only)."""

    audit_id: str
    status: Literal["PENDING", "DECIDED"]
    resource: ResourceRef
    plans: list[Plan]
    # What a plain approval approves (reversible, resource-scoped plans) and the digest it quotes;
    # the other plans are applied only when named, for the reason given.
    default_remediation_ids: list[str] = PydanticField(default_factory=list)
    plan_digest: str | None = None  # plan_digest(the default selection re-planned, the snapshot)
    named_only: dict[str, str] = PydanticField(default_factory=dict)  # remediationId -> why
    requested_by: str | None = None  # who started the audit (four-eyes)
    requested_at: datetime
    expires_at: datetime
    decision: Literal["approve", "reject"] | None = None
    decided_at: datetime | None = None
    approver: str | None = None
    remediation_ids: list[str] | None = None  # what was approved
    approved_digest: str | None = None


class ApplyStatus(StrEnum):
    APPLIED = "APPLIED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class ApplyResult(CamelModel):
    plan_id: str
    remediation_id: str
    check_ids: list[str]
    status: ApplyStatus
    error: str | None = None  # why FAILED or SKIPPED
    applied_at: datetime | None = None  # when the call returned (APPLIED only)


class AppliedSummary(CamelModel):
    """``$.applied``."""

    results: list[ApplyResult]
    applied_count: int
    failed_count: int


class CheckComparison(CamelModel):
    check_id: str
    title: str
    before: Status | None  # None: the check did not run in that analysis
    after: Status | None
    fixed: bool


class Verification(CamelModel):
    """``$.verification``."""

    findings: list[Finding]
    summary: Summary
    comparison: list[CheckComparison]
    all_fixed: bool
    still_failing: list[str]
    # What Verify saw, as the audit's outcome: REMEDIATED, PARTIALLY_REMEDIATED, ROLLED_BACK or
    # NON_COMPLIANT (an approved fix did not take effect). The state machine records it as is.
    outcome: Outcome


class Failure(CamelModel):
    """``failure`` of a FAILED audit: which step failed and what a person can do about it
    (secagent.workflow.failures). The full error is in the logs, under ``correlationId``."""

    step: str
    error: str | None = None  # the error's name (ResourceNotFound, AccessDenied, States.Timeout, ...)
    message: str = ""
    correlation_id: str | None = None  # the Lambda request id, or "<execution>/<step>"
    resumable: bool = True  # whether POST /audits/{id}/resume can help (not for a missing bucket)


class ConfigDifference(CamelModel):
    field: str  # camelCase, as in the snapshot's config
    planned_on: Any  # the field as the plan saw it ({state, value, reason})
    now: Any


class PlanCheck(CamelModel):
    """``$.planCheck``: whether the approved plans still fit the configuration."""

    stale: bool
    checked_fields: list[str]
    differences: list[ConfigDifference]


class _Written(CamelModel):
    # Every field is written, defaults too: the JSON Schema says so (`required`).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class ReportControl(_Written):
    """A control as its standard names it: ``{standard: "aws-foundational-security-best-practices/v/1.0.0",
    control: "S3.2"}``, ``{standard: "cis-aws-foundations-benchmark/v/3.0.0", control: "2.1.4"}``."""

    standard: str = PydanticField(description="the standard's id as in Security Hub's standards ARN")
    control: str = PydanticField(description="the control's id as the standard numbers it")

    @classmethod
    def parse(cls, short: str) -> "ReportControl":
        """From a check's short form (``FSBP:S3.2``, ``CIS-3.0:2.1.4``); ValueError for another."""
        prefix, _, control = short.partition(":")
        if prefix not in STANDARDS or not control:
            raise ValueError(f"not a control id of a known standard: {short!r}")
        return cls(standard=STANDARDS[prefix], control=control)

    @property
    def label(self) -> str:
        """The short form back (``FSBP:S3.2``), for tables."""
        prefix = next((p for p, s in STANDARDS.items() if s == self.standard), self.standard)
        return f"{prefix}:{self.control}"


class ReportFinding(_Written):
    # `| SkipJsonSchema[None]`: None only in a schemaVersion 1 report read by this model (it
    # lacks the field); the schema describes what Write Report writes, where it is never null.
    finding_id: str | SkipJsonSchema[None] = PydanticField(
        description="stable per resource and check: the same finding has the same id in every audit"
    )
    check_id: str
    title: str
    severity: Severity
    status: Status
    controls: list[ReportControl]
    first_observed_at: datetime | SkipJsonSchema[None] = PydanticField(
        description="when the finding was first seen with this status: by this audit (when the "
        "configuration it judged was read) or by an earlier audit of the resource"
    )
    last_observed_at: datetime | SkipJsonSchema[None] = PydanticField(
        description="when Verify judged the check again; firstObservedAt when Verify did not"
    )
    evidence: dict[str, Any] = PydanticField(default_factory=dict)
    remediation_id: str | None = None


class Product(_Written):
    name: str
    version: str


class CheckRegistryVersion(_Written):
    version: str = PydanticField(description="a digest of the check package's sources (docs/workflow.md)")
    checks: int = PydanticField(description="checks registered (disabled ones included)")


class SeverityCounts(_Written):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0


class FindingCounts(_Written):
    total: int
    by_status: Summary
    failing_by_severity: SeverityCounts  # FAIL only: EXEMPT is accepted, UNKNOWN undecided

    @classmethod
    def of(cls, findings: list[Finding]) -> "FindingCounts":
        failing = [f for f in findings if f.status is Status.FAIL]
        return cls(
            total=len(findings),
            by_status=Summary.of(findings),
            failing_by_severity=SeverityCounts(
                **{s.value.lower(): sum(f.severity is s for f in failing) for s in Severity}
            ),
        )


class ReportSummary(_Written):
    outcome: Outcome
    before: FindingCounts = PydanticField(description="the first analysis (findings[])")
    after: FindingCounts | None = PydanticField(description="Verify's analysis; null when Verify did not run")


RemediationResult = Literal["PROPOSED", "NOT_APPROVED", "NOT_RUN", "APPLIED", "FAILED", "SKIPPED"]


class ReportRemediation(CamelModel):
    plan: Plan
    approved: bool
    applied: ApplyResult | None = None
    # APPLIED/FAILED/SKIPPED: Apply's verdict; NOT_RUN: approved but Apply produced no result;
    # NOT_APPROVED: rejected or left out of the approval; PROPOSED: no decision was made.
    result: RemediationResult


class Report(_Written):
    """``reports/{auditId}.json``; ``failure`` is set only when the outcome is FAILED.

    Also reads a schemaVersion 1 report (a stack deployed before 2 wrote it): its controls become
    objects, the fields 1 did not have are None and it keeps ``schemaVersion: "1"``.
    """

    schema_version: Literal["2"] | SkipJsonSchema[Literal["1"]] = REPORT_SCHEMA_VERSION
    audit_id: str
    # None only in a schemaVersion 1 report (see ReportFinding); never null in what is written.
    account: str | SkipJsonSchema[None] = PydanticField(description="the bucket's account")
    region: str | SkipJsonSchema[None] = PydanticField(
        description="the bucket's region (the workflow's when Discover did not run)"
    )
    partition: str | SkipJsonSchema[None] = PydanticField(description="aws, aws-cn, aws-us-gov, ...")
    resource: ResourceRef
    resource_arn: str | SkipJsonSchema[None] = PydanticField(
        description="arn:{partition}:s3:::{bucket}, "
        "or arn:{partition}:ec2:{region}:{account}:security-group/{groupId}"
    )
    product: Product | SkipJsonSchema[None]
    check_registry: CheckRegistryVersion | SkipJsonSchema[None]
    mode: Literal["plan", "remediate", "rollback"]
    requested_by: str | None = None
    rollback_of: str | None = None  # mode rollback: the audit whose applied fixes this undoes
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    summary: ReportSummary | SkipJsonSchema[None]
    findings: list[ReportFinding]
    remediations: list[ReportRemediation]
    approval: ApprovalDecision | None = None
    verification: Verification | None = None
    # The stale-plan check right before Apply; `stale` with the differences when outcome is STALE_PLAN.
    plan_check: PlanCheck | None = None
    steps: list[ReportStep]
    failure: Failure | None = None
    # Execution names, oldest first: more than one when a failed audit was resumed.
    executions: list[str] = PydanticField(default_factory=list)
    # Steps a resume took from their checkpoints instead of running them again.
    reused_steps: list[str] = PydanticField(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _read_schema_version_1(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("schemaVersion") != "1":
            return data
        findings = [
            {
                **dict.fromkeys(("findingId", "firstObservedAt", "lastObservedAt")),
                **f,
                "controls": [
                    ReportControl.parse(c) if isinstance(c, str) else c for c in f.get("controls", [])
                ],
            }
            if isinstance(f, dict)
            else f
            for f in data.get("findings") or []
        ]
        added = ("account", "region", "partition", "resourceArn", "product", "checkRegistry", "summary")
        upgraded = {**dict.fromkeys(added), **data, "findings": findings}
        # Schema 1 kept the raw cause (a Lambda's stack trace): it is dropped, never shown.
        failure = data.get("failure")
        if isinstance(failure, dict):
            step, error = failure.get("step") or "unknown", failure.get("error")
            upgraded["failure"] = {"step": step, "error": error, "message": f"{step} failed ({error})."}
        upgraded["steps"] = [
            {**s, "error": {"error": s["error"].get("error")}}
            if isinstance((s or {}).get("error"), dict)
            else s
            for s in data.get("steps") or []
        ]
        return upgraded


def report_json_schema() -> dict[str, Any]:
    """The JSON Schema of what Write Report writes (docs/report.schema.json)."""
    schema = Report.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": JSON_SCHEMA_ID, **schema}


if __name__ == "__main__":
    print(json.dumps(report_json_schema(), indent=2))
