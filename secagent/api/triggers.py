"""Audits started by events (CloudTrail CreateBucket through EventBridge), exactly once per event."""

from __future__ import annotations

import re
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import ValidationError

from secagent.api.audits import start_audit
from secagent.api.aws import error_code
from secagent.api.errors import ApiError, Conflict
from secagent.api.identity import EVENT_TRIGGER, Caller
from secagent.api.models import StartAuditRequest
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.base import CamelModel

REQUESTED_BY = EVENT_TRIGGER
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


class TriggerResult(CamelModel):
    outcome: Literal["started", "duplicate", "skipped"]
    audit_id: str | None = None
    reason: str | None = None


def audit_id_for_event(event_id: str) -> str:
    """The execution name, derived from the event id: a redelivered event names the same audit."""
    return _NAME_UNSAFE.sub("-", event_id)[:80]


def start_from_event(
    event_id: str, bucket: str, mode: str, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> TriggerResult:
    """Never raises for a bad or repeated event (EventBridge would only retry it): it says why."""
    audit_id = audit_id_for_event(event_id)
    try:
        sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
        return TriggerResult(outcome="duplicate", audit_id=audit_id, reason="this event already started it")
    except ClientError as err:
        if error_code(err) != "ExecutionDoesNotExist":
            raise
    try:
        request = StartAuditRequest.parse(
            {"resource": {"type": "AWS::S3::Bucket", "id": bucket}, "mode": mode}, settings
        )
    except ValidationError as err:
        return TriggerResult(outcome="skipped", reason=f"not an auditable bucket: {err.errors()[0]['msg']}")
    try:
        # The trigger is not a person: whoever approves an audit it started is someone else.
        trigger = Caller(arn=REQUESTED_BY, principal=REQUESTED_BY)
        started = start_audit(request, trigger, sfn, settings, records, s3=s3, audit_id=audit_id)
    except Conflict as conflict:
        return TriggerResult(
            outcome="skipped", audit_id=conflict.extra.get("runningAuditId"), reason=conflict.message
        )
    except ApiError as refused:  # a protected bucket, or one outside the remediation scope
        return TriggerResult(outcome="skipped", reason=refused.message)
    except ClientError as err:
        if error_code(err) == "ExecutionAlreadyExists":  # a concurrent redelivery won the race
            return TriggerResult(
                outcome="duplicate", audit_id=audit_id, reason="this event already started it"
            )
        raise
    return TriggerResult(outcome="started", audit_id=started.audit_id)
