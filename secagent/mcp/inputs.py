"""Typed tool arguments: JSON Schema properties a model can read, validated before a tool runs.

Names, enums and bounds are the ones the API and the domain layer already use (bucket names by
`secagent.discovery.names`, `mode` / `decision` by the API's request models).
"""

from typing import Annotated

from pydantic import AfterValidator, Field

from secagent.api.models import Decision, Mode
from secagent.api.settings import MAX_APPROVAL_TIMEOUT_SECONDS, MIN_APPROVAL_TIMEOUT_SECONDS
from secagent.discovery.names import bucket_name_problem
from secagent.models.findings import Severity

# Execution names as the API accepts them (the API creates UUIDs; the CreateBucket rule too).
AUDIT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,80}$"


def _bucket_name(value: str) -> str:
    problem = bucket_name_problem(value)
    if problem:
        shown = value if len(value) <= 70 else value[:67] + "..."
        raise ValueError(f'"{shown}" is not a valid S3 bucket name: {problem}')
    return value


BucketName = Annotated[
    str,
    AfterValidator(_bucket_name),
    Field(
        title="Bucket name",
        description=(
            "Name of an existing S3 general purpose bucket in the account (not an ARN, not s3://): "
            "3-63 lowercase letters, digits, dots and hyphens, e.g. my-app-logs."
        ),
        # Published for the model; the check itself is secagent.discovery.names.
        json_schema_extra={"minLength": 3, "maxLength": 63},
    ),
]

AuditId = Annotated[
    str,
    Field(
        title="Audit id",
        pattern=AUDIT_ID_PATTERN,
        description="The audit id returned by start_audit (a UUID such as 6f1c0c2e-...).",
    ),
]

AuditMode = Annotated[
    Mode,
    Field(
        title="Mode",
        description=(
            "plan: analyze and propose fixes, change nothing. remediate: also apply the fixes, "
            "but only after a human approves them (decide_approval)."
        ),
    ),
]

ApprovalDecision = Annotated[
    Decision,
    Field(
        title="Decision",
        description="approve: apply the pending fixes, then verify them. reject: change nothing.",
    ),
]

ApprovalTimeoutSeconds = Annotated[
    int | None,
    Field(
        title="Approval timeout (seconds)",
        ge=MIN_APPROVAL_TIMEOUT_SECONDS,
        le=MAX_APPROVAL_TIMEOUT_SECONDS,
        description=(
            "remediate mode: how long the audit waits for a decision before it expires "
            "unchanged (default: the deployment's, 3600 s)."
        ),
    ),
]

Comment = Annotated[
    str | None,
    Field(
        title="Comment", max_length=1000, description="Why it was approved or rejected; goes into the report."
    ),
]

PlanDigest = Annotated[
    str | None,
    Field(
        title="Plan digest",
        pattern=r"^[0-9a-f]{64}$",
        description=(
            "Required to approve: the planDigest that get_audit returned with the pendingPlans the user "
            "saw. The approval applies only if the pending plans are still exactly those."
        ),
    ),
]

RemediationIds = Annotated[
    list[str] | None,
    Field(
        title="Remediations to approve",
        min_length=1,
        description="Approve only these remediationIds of the pendingPlans (default: all of them).",
    ),
]

SeverityFilter = Annotated[
    Severity | None,
    Field(title="Severity", description="Only checks of this severity (default: all)."),
]
