"""A sweep's posture report (``sweep-reports/{sweepId}/posture.json``): what every account's
resources were judged, per account, per control and per failing resource, worst first.

A posture report never claims more than was seen: an account that could not be listed, a resource
whose scan failed or could not be judged (access denied), resources listed but never reported and
a Map run that stopped early each make it incomplete (``complete`` false, each named in
``incompleteReasons``). A resource that was not judged is counted unjudged, never passing; an
UNKNOWN verdict is counted unknown, never passing.

`python -m secagent.models.posture` prints the report's JSON Schema (docs/posture.schema.json).
"""

import json
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import Field as PydanticField
from pydantic import model_validator

from secagent.models.findings import Severity
from secagent.models.report import ReportControl, SeverityCounts, StepError, _Written
from secagent.models.snapshot import ResourceRef, ResourceType

POSTURE_SCHEMA_VERSION: Literal["1"] = "1"
JSON_SCHEMA_ID = f"urn:secagent:posture:{POSTURE_SCHEMA_VERSION}"

# The outcomes of a resource that was not judged, as counted and listed.
Unjudged = Literal["RESOURCE_NOT_FOUND", "ACCESS_DENIED", "FAILED"]
IncompleteReasonKind = Literal[
    "SWEEP_STOPPED",  # the Map run failed or stopped (its failure threshold exceeded, ...)
    "ACCOUNT_NOT_LISTED",  # the account's listing failed, or none was recorded
    "ITEMS_FAILED",  # child executions failed: those resources were not judged
    "NOT_JUDGED",  # resources read but not judged: access denied, or the scan failed
    "RESULTS_MISSING",  # resources listed of which no result and no failure was recorded
]


class StatusCounts(_Written):
    """Counts by status (of findings, or of resources' verdicts on a control)."""

    pass_: int = PydanticField(alias="pass")
    fail: int
    unknown: int = PydanticField(description="could not be decided: never counted as pass")
    exempt: int = PydanticField(description="would fail, accepted by an exemption")


class UnjudgedCounts(_Written):
    resource_not_found: int = PydanticField(description="gone between the listing and its scan")
    access_denied: int
    failed: int = PydanticField(description="its scan failed, or its child execution did")


class ResourceCounts(_Written):
    resources: int = PydanticField(description="resources the listings counted")
    seen: int = PydanticField(description="resources with a result or a recorded failure")
    judged: int = PydanticField(description="compliant + nonCompliant")
    compliant: int
    non_compliant: int
    unjudged: int = PydanticField(description="seen but not judged: never counted as compliant")
    unjudged_by_outcome: UnjudgedCounts
    unseen: int = PydanticField(description="listed, but no result and no failure was recorded")
    findings: StatusCounts = PydanticField(description="the judged resources' findings by status")
    failing_by_severity: SeverityCounts = PydanticField(
        description="FAIL findings of the judged resources, worst first"
    )


class PostureTotals(ResourceCounts):
    accounts: int = PydanticField(description="accounts requested")
    accounts_listed: int


class AccountPosture(ResourceCounts):
    account_id: str
    status: Literal["LISTED", "FAILED", "MISSING"] = PydanticField(
        description="LISTED; FAILED: its listing failed (error); MISSING: no listing was recorded"
    )
    error: StepError | None = None  # why it could not be listed


class ControlAccount(StatusCounts):
    """One account's resources' verdicts on a control."""

    account_id: str


class ControlFailure(_Written):
    """A failing finding of one resource on a control."""

    account_id: str
    region: str
    resource: ResourceRef
    resource_arn: str
    check_id: str
    severity: Severity


class ControlPosture(_Written):
    """A control (standard + control id), or a check whose findings name no control (standard
    and control null, ``id`` the check id). ``resources``: each judged resource the control has
    a verdict on, counted once with its worst verdict (FAIL, then EXEMPT, UNKNOWN, PASS)."""

    id: str = PydanticField(description="FSBP:S3.8, CIS-3.0:2.1.4, or a check id")
    standard: str | None = PydanticField(description="as in Security Hub's standards ARN; null: no control")
    control: str | None
    check_ids: list[str] = PydanticField(description="the checks whose findings gave a verdict on it")
    worst_failing: Severity | None = PydanticField(
        description="the worst severity failing it; null: none fails"
    )
    resources: StatusCounts
    accounts: list[ControlAccount] = PydanticField(description="per account, most failing first")
    failing: list[ControlFailure] = PydanticField(description="one per failing finding, worst first")


class FailingCheck(_Written):
    check_id: str
    severity: Severity
    controls: list[ReportControl]


class FailingResource(_Written):
    account_id: str
    region: str
    resource: ResourceRef
    resource_arn: str
    worst: Severity
    failing: int = PydanticField(description="its FAIL findings")
    failing_by_severity: SeverityCounts
    checks: list[FailingCheck] = PydanticField(description="its FAIL findings, worst first")


class UnjudgedResource(_Written):
    account_id: str
    region: str | None = PydanticField(description="null: its child execution failed before it was read")
    resource: ResourceRef
    resource_arn: str | None
    outcome: Unjudged
    error: StepError | None


class IncompleteReason(_Written):
    reason: IncompleteReasonKind
    account_id: str | None = PydanticField(description="the account it concerns; null: the whole sweep")
    count: int = PydanticField(description="resources (or accounts) it concerns; 0 when not known")
    message: str


class Shortened(_Written):
    """What a shortened posture report (``PostureReport.shortened``) leaves out: the API answers
    one larger than a Lambda answer may be with the worst of each list, and says so here."""

    failing_resources: int = PydanticField(description="failing resources in the full report")
    unjudged_resources: int = PydanticField(description="unjudged resources in the full report")
    control_failures: int = PydanticField(
        description="failing findings listed per control in the full report"
    )
    full_report_url: str | None = PydanticField(
        default=None, description="a short-lived link to the full report (posture.json), when given"
    )


class PostureReport(_Written):
    """``sweep-reports/{sweepId}/posture.json``."""

    schema_version: Literal["1"] = POSTURE_SCHEMA_VERSION
    sweep_id: str
    requested_by: str
    requested_at: datetime
    finished_at: datetime
    resource_types: list[ResourceType]
    accounts: list[str] = PydanticField(description="the accounts requested")
    complete: bool = PydanticField(description="every account listed and every resource listed judged")
    incomplete_reasons: list[IncompleteReason] = PydanticField(description="empty exactly when complete")
    totals: PostureTotals
    by_account: list[AccountPosture] = PydanticField(description="worst first")
    by_control: list[ControlPosture] = PydanticField(
        description="worst first: the worst severity failing it, then most failing, then id"
    )
    failing_resources: list[FailingResource] = PydanticField(
        description="worst first: a resource's worst failing severity, then most failing"
    )
    unjudged_resources: list[UnjudgedResource]
    # Set only in a shortened copy (the API's answer for a very large sweep); never in posture.json.
    shortened: Shortened | None = PydanticField(
        default=None, description="null: every list is whole; else what the lists leave out"
    )

    def shortened_to(self, resources: int, per_control: int, url: str | None = None) -> "PostureReport":
        """The same report with each list cut to its worst entries (they are sorted worst first);
        the counts, the totals and the reasons stay whole."""
        return self.model_copy(
            update={
                "failing_resources": self.failing_resources[:resources],
                "unjudged_resources": self.unjudged_resources[:resources],
                "by_control": [
                    c.model_copy(update={"failing": c.failing[:per_control]}) for c in self.by_control
                ],
                "shortened": Shortened(
                    failing_resources=len(self.failing_resources),
                    unjudged_resources=len(self.unjudged_resources),
                    control_failures=sum(len(c.failing) for c in self.by_control),
                    full_report_url=url,
                ),
            }
        )

    @model_validator(mode="after")
    def _complete_only_when_nothing_is_missing(self) -> Self:
        if self.complete == bool(self.incomplete_reasons):
            raise ValueError("complete must be true exactly when there is no incomplete reason")
        return self


def posture_json_schema() -> dict[str, Any]:
    """The JSON Schema of the posture report (docs/posture.schema.json)."""
    schema = PostureReport.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": JSON_SCHEMA_ID, **schema}


if __name__ == "__main__":
    print(json.dumps(posture_json_schema(), indent=2))
