"""The REST API's domain: request validation, audits, approvals. No Lambda objects, no environment."""

from dataclasses import dataclass
from typing import Any

from secagent.api.approvals import decide_approval
from secagent.api.audits import get_audit, start_audit
from secagent.api.errors import ApiError, BadRequest, Conflict, NotFound, UpstreamError, error_response
from secagent.api.models import (
    ApprovalRequest,
    ApprovalResponse,
    AuditStatus,
    StartAuditRequest,
    StartAuditResponse,
)
from secagent.api.parsing import UNKNOWN_CALLER, Parsable, caller_identity, parse_body
from secagent.api.settings import ApiSettings


@dataclass(frozen=True)
class Deps:
    """What the handler builds once per container: settings and the two clients."""

    settings: ApiSettings
    sfn: Any
    s3: Any


__all__ = [
    "UNKNOWN_CALLER",
    "ApiError",
    "ApiSettings",
    "ApprovalRequest",
    "ApprovalResponse",
    "AuditStatus",
    "BadRequest",
    "Conflict",
    "Deps",
    "NotFound",
    "Parsable",
    "StartAuditRequest",
    "StartAuditResponse",
    "UpstreamError",
    "caller_identity",
    "decide_approval",
    "error_response",
    "get_audit",
    "parse_body",
    "start_audit",
]
