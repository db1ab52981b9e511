"""Typed event models of the three handlers (camelCase, unknown keys ignored)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from secagent.models import Finding, InvalidInput, Snapshot


class EventModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Resource(EventModel):
    type: Literal["AWS::S3::Bucket"]
    id: str


class DiscoverEvent(EventModel):
    audit_id: str
    resource: Resource


class AnalyzeEvent(EventModel):
    audit_id: str
    snapshot: Snapshot


class RemediateEvent(EventModel):
    audit_id: str
    snapshot: Snapshot
    findings: list[Finding]


def parse[M: EventModel](model: type[M], event: Any) -> M:
    """Validate the event; a malformed one is InvalidInput (Lambda errorType), never retried."""
    try:
        return model.model_validate(event)
    except ValidationError as err:
        raise InvalidInput(
            f"invalid {model.__name__}: {err.errors(include_url=False, include_input=False)}"
        ) from err


# --- workflow tools after Remediate (docs/workflow.md "Tool payloads") ---

from pydantic import Field  # noqa: E402

from secagent.models import AppliedSummary, ApprovalDecision, Plan, Status  # noqa: E402


class AwaitApprovalEvent(EventModel):
    task_token: str = Field(min_length=1, repr=False)  # never in logs or reprs
    audit_id: str
    resource: Resource
    plans: list[Plan]
    snapshot: Snapshot
    requested_by: str | None = None
    timeout_seconds: int = Field(gt=0)


class ApplyEvent(EventModel):
    audit_id: str
    plans: list[Plan]
    approval: ApprovalDecision


class VerifyEvent(EventModel):
    audit_id: str
    resource: Resource
    before: list[Finding]
    applied: AppliedSummary
    # A rollback: the verdicts the rolled-back checks must have again (empty for an audit).
    expected: dict[str, Status] = Field(default_factory=dict)


class ReportEvent(EventModel):
    execution_arn: str
    state: dict[str, Any]


class RecheckEvent(EventModel):
    audit_id: str
    snapshot: Snapshot
    plans: list[Plan]
    approval: ApprovalDecision
