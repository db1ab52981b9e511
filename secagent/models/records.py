"""The records the approval gate trusts, each written by exactly one role (docs/security.md).

- ``AuditRequest``: who asked for which audit; written by the audit API (or the CreateBucket
  trigger) when it starts one. The execution's own input is never trusted in its place.
- ``Decision``: a person's decision on exactly one selection of plans, bound by its digest;
  written once, by the audit API only.
- ``ApplyProgress``: what Apply changed, plan by plan, written as it goes; rollbacks and resumes
  work from it.

The request and the decision are sealed (secagent.workflow.store): a KMS HMAC that only the
API's role may generate, so a record planted in the bucket is refused even where a bucket
policy is not enforced.
"""

import re
from datetime import datetime
from typing import Literal

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel
from secagent.models.plans import Plan
from secagent.models.report import AppliedSummary
from secagent.models.snapshot import ResourceRef

Mode = Literal["plan", "remediate", "rollback"]

# An audit id: the execution's name without a resume's "_r<n>" (the API makes UUIDs, the CreateBucket
# trigger the event's id). Always matched whole (`re.fullmatch`: with `$`, "<id>\n" would pass).
AUDIT_ID = re.compile(r"[A-Za-z0-9-]{1,80}")


class AuditRequest(CamelModel):
    """``requests/{auditId}.json``."""

    audit_id: str
    resource: ResourceRef
    mode: Mode
    approval_timeout_seconds: int
    requested_by: str  # the principal (secagent.api.identity.principal_of), compared for four-eyes
    requested_by_arn: str | None = None  # the caller as authenticated (session included), for the report
    rollback_of: str | None = None
    requested_at: datetime


class Decision(CamelModel):
    """``decisions/{auditId}.json``: written once; Apply applies exactly what it binds."""

    audit_id: str
    resource: ResourceRef
    mode: Mode
    decision: Literal["approve", "reject"]
    # The remediations approved (the default selection spelled out, or the ones named).
    remediation_ids: list[str] = PydanticField(default_factory=list)
    # "named": the approver listed the ids (irreversible and account-wide plans need this).
    selection: Literal["default", "named"] = "default"
    plan_digest: str | None = None  # plan_digest(the approved plans re-planned, the snapshot)
    approver: str
    approver_arn: str | None = None
    requested_by: str
    comment: str | None = None
    decided_at: datetime


class ApplyProgress(AppliedSummary):
    """``checkpoints/{auditId}/applied.json``: Apply's record, rewritten after every plan."""

    audit_id: str
    plan_digest: str  # the decision it carried out
    plans: list[Plan]  # the plans as applied (a rollback is built from these)
    complete: bool = False
