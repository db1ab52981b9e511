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


class StepEvent(EventModel):
    """Every tool's event: the audit, and the execution that scheduled the step (`$$.Execution.Id`,
    which the input cannot set): the tool confirms it before acting (secagent.workflow.invocation)."""

    audit_id: str
    execution_arn: str


class Resource(EventModel):
    type: Literal["AWS::S3::Bucket"]
    id: str


class RequestInState(EventModel):
    """``$.request``: the execution input; checked against the sealed request record, never trusted."""

    resource: Resource
    mode: str = "plan"
    approval_timeout_seconds: int = 3600


class DiscoverEvent(StepEvent):
    request: RequestInState


class AnalyzeEvent(StepEvent):
    snapshot: Snapshot


class RemediateEvent(StepEvent):
    snapshot: Snapshot
    findings: list[Finding]


class AwaitApprovalEvent(StepEvent):
    task_token: str = Field(min_length=1, repr=False)  # never in logs or reprs


class AuditEvent(StepEvent):
    """Recheck and Apply: the audit and execution only; everything they act on comes from storage."""


class VerifyEvent(StepEvent):
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
