"""Typed tool arguments: JSON Schema properties a model can read, validated before a tool runs.

Names, enums and bounds are the ones the API and the domain layer already use (resource types and
ids by `secagent.models.snapshot` and `secagent.discovery.names`, `mode` / `decision` by the API's
request models). A resource id is checked against its type, given or read from the id, by the tool
itself (secagent.resources.checked_resource): the two arguments are checked together.
"""

import json
from typing import Annotated

from pydantic import AfterValidator, Field

from secagent.api.models import Decision, Mode
from secagent.api.settings import MAX_APPROVAL_TIMEOUT_SECONDS, MIN_APPROVAL_TIMEOUT_SECONDS
from secagent.models.findings import Severity
from secagent.models.records import AUDIT_ID
from secagent.models.snapshot import ResourceType
from secagent.models.sweep import SWEEP_ID
from secagent.resources import KINDS

# Execution names as the API accepts them (the API creates UUIDs; the trigger names them by event id).
# Published in the tool's JSON Schema, where `$` is the end of the text (ECMAScript, and the Rust
# regex pydantic-core uses by default). Python's `re` would let "<id>\n" match it, so the check
# below is a fullmatch whichever engine ran the pattern.
AUDIT_ID_PATTERN = f"^{AUDIT_ID.pattern}$"


def _audit_id(value: str) -> str:
    if not AUDIT_ID.fullmatch(value):
        raise ValueError(f"{json.dumps(value[:100], ensure_ascii=False)} is not an audit id")
    return value


ResourceId = Annotated[
    str,
    Field(
        title="Resource id",
        description=(
            "The resource to audit, in the deployment's account and region (not an ARN, not s3://): "
            + "; or ".join(kind.id_hint for kind in KINDS.values())
            + "."
        ),
        # Published for the model (both kinds of id fit); the check itself is the tool's.
        json_schema_extra={"minLength": 3, "maxLength": 63},
    ),
]

ResourceTypeArg = Annotated[
    ResourceType | None,
    Field(
        title="Resource type",
        description=(
            "What resourceId names: "
            + ", ".join(f"{kind.type} ({kind.label})" for kind in KINDS.values())
            + ". Default: read from the id (sg- and 8 or 17 hex digits: a security group; anything "
            "else: a bucket). Name it for a bucket named like a security group id."
        ),
    ),
]

AuditId = Annotated[
    str,
    Field(
        title="Audit id",
        pattern=AUDIT_ID_PATTERN,
        description="The audit id returned by start_audit (a UUID such as 6f1c0c2e-...).",
    ),
    AfterValidator(_audit_id),
]

SWEEP_ID_PATTERN = f"^{SWEEP_ID.pattern}$"


def _sweep_id(value: str) -> str:
    if not SWEEP_ID.fullmatch(value):
        raise ValueError(f"{json.dumps(value[:100], ensure_ascii=False)} is not a sweep id")
    return value


SweepId = Annotated[
    str,
    Field(
        title="Sweep id",
        pattern=SWEEP_ID_PATTERN,
        description="The sweep id (list_sweeps lists them, newest first).",
    ),
    AfterValidator(_sweep_id),
]

ListLimit = Annotated[
    int | None,
    Field(title="Limit", ge=1, le=50, description="At most this many sweeps (default: the API's)."),
]

NextToken = Annotated[
    str | None,
    Field(
        title="Next token",
        min_length=1,
        max_length=2048,
        description="The nextToken of an earlier list_sweeps answer: its next page.",
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
        description=(
            "approve: the user confirms, in a form the client shows, exactly what would be applied; "
            "only then is it applied and verified. reject: change nothing."
        ),
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

# No plan digest argument: the digest an approval quotes is the one the person was shown in the
# confirmation the server asks for (decide_approval), never one the model supplies.
RemediationIds = Annotated[
    list[str] | None,
    Field(
        title="Remediations to approve",
        min_length=1,
        max_length=100,
        description=(
            "Approve exactly these remediationIds of the pendingPlans (re-planned alone). Default: the "
            "reversible plans scoped to the bucket; irreversible and account-wide plans are applied "
            "only when named here."
        ),
    ),
]

SeverityFilter = Annotated[
    Severity | None,
    Field(title="Severity", description="Only checks of this severity (default: all)."),
]
