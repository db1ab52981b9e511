"""Who is calling, as API Gateway's IAM authorization authenticated it, and who counts as the same person.

Four-eyes compares principals, not sessions: ``assumed-role/Admin/ops-1`` and
``assumed-role/Admin/ops-2`` are one principal (the role ``Admin``), since whoever may assume a
role may name the session freely. A SourceIdentity, when the request context carries one, is
set by the identity provider and cannot be changed along a role chain: it tells apart people
who share a role. (API Gateway's REST request context does not carry it today; without it, two
people sharing one role cannot approve each other's audits. Give approvers their own role.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from secagent.api.errors import Forbidden

_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@/-]+?)/[^/]+"
)
# Principals that are not a person at the API: the audit trigger and an unauthenticated context.
EVENT_TRIGGER = "eventbridge:CreateBucket"


@dataclass(frozen=True)
class Caller:
    arn: str  # as authenticated, session name included (for the record)
    principal: str  # what four-eyes compares

    @property
    def known(self) -> bool:
        return bool(self.principal)


def principal_of(arn: str, source_identity: str | None = None) -> str:
    """The IAM principal behind a caller ARN: an assumed-role session is its role."""
    if match := _ASSUMED_ROLE.fullmatch(arn):
        arn = f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
    return f"{arn}#{source_identity}" if source_identity else arn


def caller_of(request_context: dict[str, Any] | None) -> Caller:
    """The caller API Gateway authenticated; empty when the context has no IAM identity."""
    identity = (request_context or {}).get("identity") or {}
    arn = identity.get("userArn") or ""
    return Caller(arn=arn, principal=principal_of(arn, identity.get("sourceIdentity")) if arn else "")


def check_four_eyes(approver: Caller, requested_by: str, audit_id: str, *, allow_self_approval: bool) -> None:
    """The requester of an audit (or of a rollback) never approves it; an unknown approver never does."""
    if allow_self_approval:
        return
    if not approver.known:
        raise Forbidden(
            f'Audit "{audit_id}" cannot be approved by a caller without an IAM identity: '
            "approvals are decided by a person, authenticated by IAM."
        )
    if approver.principal == requested_by:
        raise Forbidden(
            f'Audit "{audit_id}" was requested by {requested_by}, who may not also approve it '
            "(four-eyes: another person, with another IAM principal, approves)."
        )
