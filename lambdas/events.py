"""Typed event models of the tool handlers (camelCase, unknown keys ignored).

The state machine passes ids and its own tools' outputs; what decides a change (the request, the
decision, the plans to apply) is loaded by the tools from storage (secagent.workflow.gate).
"""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from secagent.models import AppliedSummary, Finding, InvalidInput, Snapshot, Status


class EventModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Resource(EventModel):
    type: Literal["AWS::S3::Bucket"]
    id: str


class RequestInState(EventModel):
    """``$.request``: the execution input; checked against the sealed request record, never trusted."""

    resource: Resource
    mode: str = "plan"
    approval_timeout_seconds: int = 3600


class DiscoverEvent(EventModel):
    audit_id: str
    request: RequestInState


class AnalyzeEvent(EventModel):
    audit_id: str
    snapshot: Snapshot


class RemediateEvent(EventModel):
    audit_id: str
    snapshot: Snapshot
    findings: list[Finding]


class AwaitApprovalEvent(EventModel):
    task_token: str = Field(min_length=1, repr=False)  # never in logs or reprs
    audit_id: str


class AuditEvent(EventModel):
    """Recheck and Apply: the audit id only; everything they act on comes from storage."""

    audit_id: str


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


def parse[M: EventModel](model: type[M], event: Any) -> M:
    """Validate the event; a malformed one is InvalidInput (Lambda errorType), never retried."""
    try:
        return model.model_validate(event)
    except ValidationError as err:
        raise InvalidInput(
            f"invalid {model.__name__}: {err.errors(include_url=False, include_input=False)}"
        ) from err
