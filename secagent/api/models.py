"""Request and response bodies of the REST API (camelCase on the wire)."""

import base64
import json
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from secagent.api.settings import (
    DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    MAX_APPROVAL_TIMEOUT_SECONDS,
    MIN_APPROVAL_TIMEOUT_SECONDS,
    ApiSettings,
)
from secagent.discovery.names import ID_KINDS, bucket_name_problem, resource_id_problem, resource_type_of
from secagent.models.base import CamelModel
from secagent.models.exemption import MAX_REASON_CHARS, ExemptionRecord, ExemptionStatus
from secagent.models.report import Failure, ProgressStep
from secagent.models.snapshot import ResourceRef, ResourceType

Mode = Literal["plan", "remediate"]
Decision = Literal["approve", "reject"]
AuditState = Literal["RUNNING", "AWAITING_APPROVAL", "SUCCEEDED", "FAILED"]


class RequestModel(BaseModel):
    """Client input: camelCase only, no unknown keys, no type coercion ("60" is not 60)."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid", strict=True)


def valid_bucket_name(value: str) -> str:
    """A pydantic field validator: the name as given, or an error naming what is wrong with it."""
    problem = bucket_name_problem(value)
    if problem:
        shown = value if len(value) <= 70 else value[:67] + "..."
        raise PydanticCustomError(
            "bucket_name",
            "{name} is not a valid S3 bucket name: {problem}",
            {"name": json.dumps(shown, ensure_ascii=False), "problem": problem},
        )
    return value


def valid_resource_id(value: str, info: ValidationInfo) -> str:
    """A pydantic field validator: the id as given, or an error naming what is wrong with it for
    the resource type given before it."""
    resource_type = info.data.get("type")
    if resource_type is None:
        return value  # the type's own error names the problem
    return _checked_id(value, resource_type)


def _checked_id(value: str, resource_type: ResourceType) -> str:
    """The id as given, or a validation error naming why it cannot name a resource of that type."""
    if problem := resource_id_problem(resource_type, value):
        shown = value if len(value) <= 70 else value[:67] + "..."
        raise PydanticCustomError(
            "resource_id",
            "{name} is not a valid {kind}: {problem}",
            {
                "name": json.dumps(shown, ensure_ascii=False),
                "kind": ID_KINDS[resource_type],
                "problem": problem,
            },
        )
    return value


class ResourceInput(RequestModel):
    type: ResourceType
    id: str

    _resource_id = field_validator("id")(valid_resource_id)

    def ref(self) -> ResourceRef:
        return ResourceRef(type=self.type, id=self.id)


class StartAuditRequest(RequestModel):
    resource: ResourceInput
    mode: Mode = "plan"
    approval_timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS

    @field_validator("approval_timeout_seconds")
    @classmethod
    def _bounds(cls, value: int, info: ValidationInfo) -> int:
        settings = (info.context or {}).get("settings")
        low = settings.min_approval_timeout_seconds if settings else MIN_APPROVAL_TIMEOUT_SECONDS
        high = settings.max_approval_timeout_seconds if settings else MAX_APPROVAL_TIMEOUT_SECONDS
        if not low <= value <= high:
            raise PydanticCustomError(
                "out_of_range", "must be between {low} and {high}", {"low": low, "high": high}
            )
        return value

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> "StartAuditRequest":
        """Validate with the deployment's bounds; an absent timeout takes the deployment's default."""
        data = {"approvalTimeoutSeconds": settings.default_approval_timeout_seconds, **data}
        return cls.model_validate(data, context={"settings": settings})


class ApprovalRequest(RequestModel):
    decision: Decision
    comment: str | None = PydanticField(default=None, max_length=1000)
    # The pending plans' digest as GET /audits/{id} showed it: an approval names what it approves.
    plan_digest: str | None = PydanticField(default=None, pattern=r"^[0-9a-f]{64}$")
    # Approve only these remediations (default: every pending plan).
    remediation_ids: list[str] | None = PydanticField(default=None, min_length=1, max_length=100)

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> "ApprovalRequest":
        return cls.model_validate(data)


class Links(CamelModel):
    self: str
    approval: str


class StartAuditResponse(CamelModel):
    audit_id: str
    status: Literal["RUNNING"] = "RUNNING"
    links: Links


class ListCursor(BaseModel):
    """Where a listing of audits stopped, with its filter: GET /audits' nextToken (opaque to clients).

    `page` is ListExecutions' token of the page to read on (None: the first page) and `after` the
    execution of that page read last, so the next request goes on right after it; the filter
    travels with the listing, so no page of it is read with another.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    page: str | None = None
    after: str | None = None  # the name of the execution read last...
    after_start: datetime | None = None  # ...and its start: if the list moved, what started later was read
    status: AuditState | None = None
    resource: str | None = None

    def token(self) -> str:
        text = self.model_dump_json(exclude_defaults=True)
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of(cls, token: str) -> "ListCursor":
        """The cursor a token stands for; ValueError when this API did not give it out."""
        return cls.model_validate_json(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))

    def describe(self) -> str:
        shown = [f"{name}={value}" for name, value in (("status", self.status), ("resource", self.resource))]
        return ", ".join(s for s in shown if not s.endswith("=None")) or "no filter"


class ListAuditsQuery(BaseModel):
    """GET /audits query string: values arrive as strings, so numbers are coerced (unlike bodies).

    A nextToken carries the filter of the listing it continues: `status` and `resource` may be left
    out with it (or repeated); another filter is a 400.
    """

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid")

    status: AuditState | None = None
    resource: str | None = None
    limit: int = PydanticField(default=20, ge=1, le=50)
    next_token: str | None = PydanticField(default=None, max_length=2048)

    @field_validator("resource")
    @classmethod
    def _resource_id(cls, value: str | None) -> str | None:
        return None if value is None else _checked_id(value, resource_type_of(value))

    @field_validator("next_token")
    @classmethod
    def _continues_this_listing(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        try:
            cursor = ListCursor.of(value)
        except ValueError:
            raise PydanticCustomError(
                "next_token", "is not a token this API gave out (or it has expired)"
            ) from None
        asked = ListCursor(status=info.data.get("status"), resource=info.data.get("resource"))
        if asked.status not in (None, cursor.status) or asked.resource not in (None, cursor.resource):
            raise PydanticCustomError(
                "next_token",
                "continues a listing with {theirs}, not {mine}: repeat that filter or leave it out",
                {"theirs": cursor.describe(), "mine": asked.describe()},
            )
        return value

    def cursor(self) -> ListCursor:
        """Where to read from, and the filter: the token's, else the first page with this query's."""
        if self.next_token is not None:
            return ListCursor.of(self.next_token)
        return ListCursor(status=self.status, resource=self.resource)

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> "ListAuditsQuery":
        return cls.model_validate(data)


class ExecutionSummary(CamelModel):
    name: str
    status: str
    started_at: datetime | None = None
    stopped_at: datetime | None = None

    @classmethod
    def of(cls, execution: dict[str, Any]) -> "ExecutionSummary":
        return cls(
            name=execution["name"],
            status=execution["status"],
            started_at=execution.get("startDate"),
            stopped_at=execution.get("stopDate"),
        )


class AuditSummary(CamelModel):
    audit_id: str
    status: AuditState
    resource: dict[str, Any] | None = None
    mode: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    outcome: str | None = None


class AuditList(CamelModel):
    """A page of audits that match the filter. It may hold fewer than `limit` (even none) and still
    have a nextToken: the API reads a bounded part of the history per request."""

    audits: list[AuditSummary]
    next_token: str | None = None


class ResumeResponse(CamelModel):
    audit_id: str
    status: Literal["RUNNING"] = "RUNNING"
    execution: str
    resume_from: str | None
    reused_steps: list[str]


class AuditStatus(CamelModel):
    audit_id: str
    status: AuditState
    current_step: str | None = None
    resource: dict[str, Any] | None = None
    mode: str | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    elapsed_seconds: float | None = None
    timeline: list[ProgressStep] = PydanticField(default_factory=list)
    executions: list[ExecutionSummary] = PydanticField(default_factory=list)
    pending_plans: list[dict[str, Any]] | None = None
    # What a plain approval approves, and the digest it quotes (planDigest); other plans need naming.
    default_remediation_ids: list[str] | None = None
    plan_digest: str | None = None
    approval_expires_at: str | None = None
    outcome: str | None = None
    report: dict[str, Any] | None = None
    # FAILED: the step, a sentence for a person, whether a resume can help, and the id under which
    # the full error is logged (never the raw cause: a Lambda's holds its stack trace).
    failure: Failure | None = None

    # Always present (null when not known); the rest appear only when they apply.
    _ALWAYS: ClassVar[frozenset[str]] = frozenset(
        {
            "auditId",
            "status",
            "currentStep",
            "resource",
            "mode",
            "startedAt",
            "stoppedAt",
            "timeline",
            "executions",
        }
    )

    def to_json_dict(self) -> dict[str, Any]:
        body = super().to_json_dict()
        return {k: v for k, v in body.items() if k in self._ALWAYS or v is not None}


class ApprovalResponse(CamelModel):
    audit_id: str
    decision: Decision
    # An approval: exactly what will be applied (re-planned when a subset was chosen) and its digest.
    remediation_ids: list[str] | None = None
    plan_digest: str | None = None
    # Not on the wire: set when the decision was sent but the record kept its token (for the log).
    record_error: str | None = PydanticField(default=None, exclude=True)


class ApprovalPreview(CamelModel):
    """``GET /audits/{id}/approval?remediationIds=a,b``: what approving that selection would apply.

    A subset is re-planned from the snapshot (a chosen plan never carries content of one not
    chosen), so its plans and digest differ from the full proposal's; approve with this digest.
    """

    audit_id: str
    selection: Literal["default", "named"]
    remediation_ids: list[str]
    plans: list[dict[str, Any]]
    plan_digest: str
    # Plans the selection leaves out, each with why (not chosen; or irreversible / account-wide).
    left_out: list[dict[str, str]] = PydanticField(default_factory=list)


class ExemptionRequest(RequestModel):
    """``POST /exemptions``: accept named checks' failures on one bucket, for a reason, until a day."""

    bucket: str
    check_ids: list[str] = PydanticField(min_length=1, max_length=50)
    reason: str = PydanticField(min_length=1, max_length=MAX_REASON_CHARS)
    until: str = PydanticField(pattern=r"^\d{4}-\d{2}-\d{2}$")  # YYYY-MM-DD, a UTC day

    _bucket_name = field_validator("bucket")(valid_bucket_name)

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise PydanticCustomError("blank", "must say why the failure is accepted")
        if not value.isprintable():  # newlines, escapes: it is shown in terminals and reports
            raise PydanticCustomError("printable", "must be one line of printable text")
        return value.strip()

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> "ExemptionRequest":
        return cls.model_validate(data)


class Exemption(CamelModel):
    """An exemption as the API shows it: the record plus its status on the day asked."""

    exemption_id: str
    bucket: str
    check_ids: list[str]
    reason: str
    until: date
    requested_by: str
    requested_at: datetime
    status: ExemptionStatus
    approved_by: str | None = None
    approved_at: datetime | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None

    @classmethod
    def of(cls, record: ExemptionRecord, today: date) -> "Exemption":
        return cls(**record.model_dump(exclude={"requested_by_principal"}), status=record.status(today))


class ExemptionList(CamelModel):
    exemptions: list[Exemption]


class ExemptionsQuery(BaseModel):
    """``GET /exemptions?bucket=name``."""

    model_config = ConfigDict(extra="forbid")

    bucket: str

    _bucket_name = field_validator("bucket")(valid_bucket_name)

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> "ExemptionsQuery":
        return cls.model_validate(data)
