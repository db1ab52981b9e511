"""The REST API's domain: request validation, audits, approvals. No Lambda objects, no environment."""

from dataclasses import dataclass, field
from typing import Any

from secagent.api.approvals import decide_approval, preview_approval
from secagent.api.audits import list_audits, start_audit
from secagent.api.errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    UpstreamError,
    error_response,
)
from secagent.api.exemptions import approve_exemption, list_exemptions, request_exemption, revoke_exemption
from secagent.api.identity import StsIdentity
from secagent.api.models import (
    ApprovalRequest,
    ApprovalResponse,
    AuditList,
    AuditStatus,
    ExemptionRequest,
    ExemptionsQuery,
    ListAuditsQuery,
    ResumeResponse,
    StartAuditRequest,
    StartAuditResponse,
)
from secagent.api.parsing import UNKNOWN_CALLER, Parsable, caller_identity, parse_body, parse_query
from secagent.api.preflight import confirm_auditable, confirm_bucket, confirm_resource
from secagent.api.progress import Known, get_audit
from secagent.api.records import RecordStore
from secagent.api.resume import resume_audit
from secagent.api.rollback import rollback_audit
from secagent.api.settings import ApiSettings


@dataclass(frozen=True)
class Deps:
    """What the handler builds once per container: settings, the two clients, the sealed records."""

    settings: ApiSettings
    sfn: Any
    s3: Any
    records: RecordStore
    identity: StsIdentity  # who sends a state-changing request, proven by STS
    # What GET /audits/{id} learned that cannot change, kept for the container's life.
    known: Known = field(default_factory=Known)
    ec2: Any = None  # the preflight of a security group


__all__ = [
    "UNKNOWN_CALLER",
    "ApiError",
    "ApiSettings",
    "ApprovalRequest",
    "ApprovalResponse",
    "AuditList",
    "AuditStatus",
    "BadRequest",
    "Conflict",
    "Deps",
    "ExemptionRequest",
    "ExemptionsQuery",
    "Forbidden",
    "Known",
    "ListAuditsQuery",
    "NotFound",
    "Parsable",
    "RecordStore",
    "ResumeResponse",
    "StartAuditRequest",
    "StartAuditResponse",
    "StsIdentity",
    "UpstreamError",
    "approve_exemption",
    "caller_identity",
    "confirm_auditable",
    "confirm_bucket",
    "confirm_resource",
    "decide_approval",
    "error_response",
    "get_audit",
    "list_audits",
    "list_exemptions",
    "parse_body",
    "parse_query",
    "preview_approval",
    "request_exemption",
    "resume_audit",
    "revoke_exemption",
    "rollback_audit",
    "start_audit",
]
