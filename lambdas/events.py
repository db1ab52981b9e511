"""Typed event models of the tool handlers (camelCase, unknown keys ignored).

The state machine passes ids only: every tool loads what it works on from storage (the request
and decision the API sealed, the earlier steps' stored outputs; secagent.workflow.gate).
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from secagent.models import InvalidInput


class EventModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class StepEvent(EventModel):
    """Every tool's event: the audit, and the execution that scheduled the step (`$$.Execution.Id`,
    which the input cannot set): the tool confirms it before acting (secagent.workflow.invocation)."""

    audit_id: str = Field(min_length=1)
    execution_arn: str = Field(min_length=1)

    @property
    def resumed(self) -> bool:
        """A resume (`<auditId>_r<n>`), not the audit's first execution (named as the audit)."""
        return self.execution_arn.rsplit(":", 1)[-1] != self.audit_id


class InputResource(EventModel):
    type: str | None = None
    id: str | None = None


class InputRequest(EventModel):
    """The execution input (``$$.Execution.Input``): only routes, never trusted. Discover refuses
    an input that states anything other than the sealed request record; what it leaves out, the
    record decides (the request's defaults live in one place: the API's request model)."""

    resource: InputResource | None = None
    mode: str | None = None
    approval_timeout_seconds: int | None = None


class DiscoverEvent(StepEvent):
    input: InputRequest


class AwaitApprovalEvent(StepEvent):
    task_token: str = Field(min_length=1, repr=False)  # never in logs or reprs


class ReportEvent(EventModel):
    execution_arn: str
    state: dict[str, Any]
    input: Any = None  # the execution input: what an execution the API did not start named


class SweepEvent(EventModel):
    """A sweep tool's event: the sweep (its execution's name) and the execution."""

    sweep_id: str = Field(min_length=1)
    execution_arn: str = Field(min_length=1)


class SweepReportEvent(SweepEvent):
    state: dict[str, Any] = Field(default_factory=dict)  # how the map ended; read for its error only


def parse[M: BaseModel](model: type[M], event: Any) -> M:
    """Validate the event; a malformed one is InvalidInput (Lambda errorType), never retried."""
    try:
        return model.model_validate(event)
    except ValidationError as err:
        raise InvalidInput(
            f"invalid {model.__name__}: {err.errors(include_url=False, include_input=False)}"
        ) from err
