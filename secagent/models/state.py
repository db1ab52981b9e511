"""The execution state ``$`` between steps (docs/workflow.md, "State"): ids, routes and small
summaries, never a step's full output.

Each tool stores what it produced (the snapshot, the findings, the plans, ...) in the report
bucket, where only its own role may write (``checkpoints/{auditId}/{name}.json``), and returns
one of these summaries: what the state machine routes on and a person reads in the console. The
next tool reads the full output from storage, so the state stays a few KB whatever the resource
holds (a 20 KB policy, 1,000 lifecycle rules), far from Step Functions' 256 KiB limit.
"""

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel
from secagent.models.findings import Summary
from secagent.models.outcome import Outcome
from secagent.models.records import AuditRequest, Mode
from secagent.models.snapshot import ResourceRef


class Route(CamelModel):
    """``$.discovery.request``: the sealed request as the state machine routes on it (mode, the
    approval window): from storage the API alone writes, never from the execution input."""

    resource: ResourceRef
    mode: Mode
    approval_timeout_seconds: int

    @classmethod
    def of(cls, request: AuditRequest) -> "Route":
        return cls(
            resource=request.resource,
            mode=request.mode,
            approval_timeout_seconds=request.approval_timeout_seconds,
        )


class DiscoveryOutput(CamelModel):
    """``$.discovery``: the snapshot is stored as checkpoint ``discovery``."""

    request: Route
    account_id: str | None = None
    region: str | None = None
    unknown_fields: list[str] = PydanticField(default_factory=list)


class AnalysisOutput(CamelModel):
    """``$.analysis``: the findings are stored as checkpoint ``analysis``."""

    checks_run: int
    summary: Summary


class RemediationOutput(CamelModel):
    """``$.remediation``: the plans are stored as checkpoint ``remediation``."""

    plan_count: int
    unplanned: list[str] = PydanticField(default_factory=list)  # failing checks without a fix


class AppliedOutput(CamelModel):
    """``$.applied``: Apply's record of each plan is checkpoint ``applied``."""

    applied_count: int
    failed_count: int


class PlanCheckOutput(CamelModel):
    """``$.planCheck``: the differences (with both values) are stored as ``planCheck``."""

    stale: bool
    changed_fields: list[str] = PydanticField(default_factory=list)


class VerificationOutput(CamelModel):
    """``$.verification``: the findings after the fixes are stored as checkpoint ``verification``."""

    outcome: Outcome
    all_fixed: bool
    still_failing: list[str] = PydanticField(default_factory=list)
