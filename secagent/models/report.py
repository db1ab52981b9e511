"""The audit report (reports/{auditId}.json) and the workflow state pieces it is built from."""

from datetime import datetime
from typing import Literal

from secagent.models.base import CamelModel

StepStatus = Literal["running", "retrying", "succeeded", "failed"]


class StepError(CamelModel):
    error: str | None = None
    cause: str | None = None


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
