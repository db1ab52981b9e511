"""A sweep: Discover + Analyze of every resource of several accounts, read-only (docs/sweep.md).

The records, each under its own prefix of the report bucket, each written by one role:

| key                                         | written by     | model            |
|---------------------------------------------|----------------|------------------|
| sweep-requests/{sweepId}.json               | API (sealed)   | ``SweepRequest`` |
| sweep-items/{sweepId}/items.json            | List Resources | ``SweepItem``[]  |
| sweep-items/{sweepId}/accounts.json         | List Resources | ``AccountListing``[] |
| sweep-resources/{sweepId}/{account}/{n}.json| Scan Resource  | ``ResourceResult`` |
| sweep-results/{sweepId}/...                 | the Map run    | Step Functions' ResultWriter |
| sweep-reports/{sweepId}/posture.json, ...   | Write Posture Report | ``PostureReport`` and its renderings |

A sweep changes nothing: a person starts a remediate audit of a resource it found, through the
approval gate (``POST /sweeps/{sweepId}/audits``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Literal

from pydantic import Field as PydanticField
from pydantic import field_validator

from secagent.models.base import CamelModel
from secagent.models.outcome import Outcome
from secagent.models.posture import PostureReport
from secagent.models.report import ReportFinding, StepError
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef, ResourceType

# A sweep id: the sweep execution's name. Matched whole.
SWEEP_ID = re.compile(r"[A-Za-z0-9-]{1,80}")
ACCOUNT_ID = re.compile(r"\d{12}")
SWEEP_TYPES: tuple[ResourceType, ...] = (BUCKET, SECURITY_GROUP)
MAX_ACCOUNTS = 50

REQUESTS_PREFIX = "sweep-requests/"
ITEMS_PREFIX = "sweep-items/"
RESOURCES_PREFIX = "sweep-resources/"
RESULTS_PREFIX = "sweep-results/"
REPORTS_PREFIX = "sweep-reports/"

MEMBER_ACCOUNTS_ENV = "SWEEP_MEMBER_ACCOUNTS"  # the deploy setting memberAccounts, comma-separated


def member_accounts_of(environ: Mapping[str, str]) -> frozenset[str]:
    """The member accounts a deployment may sweep, as its environment names them."""
    return frozenset(a.strip() for a in environ.get(MEMBER_ACCOUNTS_ENV, "").split(",") if a.strip())


def sweep_types(given: Collection[str] | None) -> list[ResourceType]:
    """The types a sweep reads, in one order (SWEEP_TYPES'): the given ones, or every type."""
    chosen = set(given) if given else set(SWEEP_TYPES)
    return [t for t in SWEEP_TYPES if t in chosen]


def sweep_execution_arn(machine_arn: str, sweep_id: str) -> str:
    """A sweep's execution is named by its id: its ARN follows from the sweep state machine's."""
    return machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{sweep_id}"


def request_key(sweep_id: str) -> str:
    return f"{REQUESTS_PREFIX}{sweep_id}.json"


def items_key(sweep_id: str) -> str:
    return f"{ITEMS_PREFIX}{sweep_id}/items.json"


def accounts_key(sweep_id: str) -> str:
    return f"{ITEMS_PREFIX}{sweep_id}/accounts.json"


def resources_prefix(sweep_id: str) -> str:
    return f"{RESOURCES_PREFIX}{sweep_id}/"


def resource_key(sweep_id: str, account_id: str, resource: ResourceRef) -> str:
    """One object per resource; named by a digest so any bucket name or group id makes one key."""
    digest = hashlib.sha256(f"{resource.type}\0{resource.id}".encode()).hexdigest()[:32]
    return f"{resources_prefix(sweep_id)}{account_id}/{digest}.json"


def report_key(sweep_id: str, name: str = "posture.json") -> str:
    return f"{REPORTS_PREFIX}{sweep_id}/{name}"


def summary_key(sweep_id: str) -> str:
    """A few hundred bytes GET /sweeps/{id} reads, instead of the whole posture report."""
    return report_key(sweep_id, "summary.json")


def markdown_key(sweep_id: str) -> str:
    return report_key(sweep_id, "posture.md")


def findings_index_key(sweep_id: str) -> str:
    """Per format, how many findings and pages the report wrote."""
    return report_key(sweep_id, "findings.json")


def page_key(sweep_id: str, fmt: str, page: int) -> str:
    """One page of at most 100 findings, in OCSF or ASFF."""
    return report_key(sweep_id, f"{fmt}/{page:05d}.json")


class SweepRequest(CamelModel):
    """``sweep-requests/{sweepId}.json``, sealed by the API: the sweep tools read the accounts and
    types from it, never from the execution's input."""

    sweep_id: str
    accounts: list[str] = PydanticField(min_length=1, max_length=MAX_ACCOUNTS)
    resource_types: list[ResourceType] = PydanticField(min_length=1)
    mode: Literal["plan"] = "plan"
    requested_by: str
    requested_by_arn: str | None = None
    requested_at: datetime

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        for account in value:
            if not ACCOUNT_ID.fullmatch(account):
                raise ValueError(f"not a 12-digit account id: {account[:40]!r}")
        if len(set(value)) != len(value):
            raise ValueError("an account is named twice")
        return value


class SweepItem(CamelModel):
    """One element of ``items.json``: what one child execution of the Distributed Map reads."""

    sweep_id: str
    account_id: str
    resource: ResourceRef
    region: str | None = None  # where the listing located it (a bucket's BucketRegion), if it said

    @property
    def identity(self) -> tuple[str, str, str]:
        """(account, type, id): which resource of the sweep it is."""
        return (self.account_id, self.resource.type, self.resource.id)


class AccountListing(CamelModel):
    """What listing one account gave: its resources, or why it could not be listed."""

    account_id: str
    status: Literal["LISTED", "FAILED"]
    resources: int = 0
    # FAILED: AccessDenied (the member role is missing, or does not trust this deployment),
    # ListingFailed, ... and a sentence; never the raw AWS message (it names roles and policies).
    error: StepError | None = None


class ListingOutput(CamelModel):
    """``$.listing``: the state the Distributed Map starts from (the items are in S3)."""

    sweep_id: str
    bucket: str
    items_key: str
    items: int
    accounts: list[AccountListing]


class ResourceResult(CamelModel):
    """``sweep-resources/{sweepId}/{account}/{digest}.json``: one resource's Discover + Analyze."""

    sweep_id: str
    account_id: str
    region: str
    partition: str = "aws"
    resource: ResourceRef
    resource_arn: str
    observed_at: datetime  # when its configuration was read
    outcome: Outcome  # COMPLIANT, NON_COMPLIANT, or why it could not be judged
    findings: list[ReportFinding] = PydanticField(default_factory=list)
    error: StepError | None = None  # why it could not be judged (outcome ACCESS_DENIED, ...)

    @property
    def identity(self) -> tuple[str, str, str]:
        """(account, type, id): the SweepItem it judges (``SweepItem.identity``)."""
        return (self.account_id, self.resource.type, self.resource.id)

    @property
    def failing(self) -> list[ReportFinding]:
        return [f for f in self.findings if f.status == "FAIL"]


class ItemOutcome(CamelModel):
    """What a child execution answers (kept small: the Map run's ResultWriter collects them)."""

    account_id: str
    resource: ResourceRef
    outcome: Outcome
    failing: int = 0
    key: str  # the ResourceResult's object key


class SweepSummary(CamelModel):
    """``summary.json``: the posture report's totals, as GET /sweeps/{id} answers them."""

    resources: int
    compliant: int
    non_compliant: int
    unjudged: int
    complete: bool
    failing_by_severity: dict[str, int]  # critical, high, medium, low, info

    @classmethod
    def of(cls, posture: PostureReport) -> SweepSummary:
        totals = posture.totals
        return cls(
            resources=totals.resources,
            compliant=totals.compliant,
            non_compliant=totals.non_compliant,
            unjudged=totals.unjudged,
            complete=posture.complete,
            failing_by_severity=totals.failing_by_severity.to_json_dict(),
        )


class SweepProgress(CamelModel):
    total: int | None = None  # None until the accounts are listed
    done: int = 0
    failed: int = 0
    remaining: int | None = None
