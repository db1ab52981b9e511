"""Audits started by CloudTrail events through EventBridge, exactly once per event.

`AUDIT_TRIGGERS` is the one definition of which AWS API calls start an audit and where their
CloudTrail event names the resource: the EventBridge rules (stacks/constructs/cloudtrail_trigger.py)
match exactly these calls, and `start_from_cloudtrail` (lambdas/on_cloudtrail_event.py) reads the
resource id where the table says, then starts the audit as the API does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from time import monotonic as now
from time import sleep
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from secagent.api import guard
from secagent.api.audits import start_audit
from secagent.api.aws import error_code, read_json, write_json
from secagent.api.errors import ApiError, Conflict
from secagent.api.identity import EVENT_TRIGGER, Caller
from secagent.api.models import StartAuditRequest
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.base import CamelModel
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef, ResourceType
from secagent.resources import KINDS

REQUESTED_BY = EVENT_TRIGGER
CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail"
# The trigger function's setting: the agent's own roles (comma-separated ARNs) whose calls start no
# audit (Apply: a rollback authorizes rules again).
IGNORED_ROLES_ENV = "TRIGGER_IGNORED_ROLE_ARNS"
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


@dataclass(frozen=True)
class AuditTrigger:
    """One AWS API call whose successful CloudTrail event starts an audit of the resource it names."""

    source: str  # the EventBridge source: "aws.s3"
    event_source: str  # CloudTrail's eventSource: "s3.amazonaws.com"
    event_name: str  # CloudTrail's eventName: the API call
    resource_type: ResourceType
    # Where the detail names the resource: paths tried in order, each a section then keys/indexes.
    ids_at: tuple[tuple[Literal["requestParameters", "responseElements"], *tuple[str | int, ...]], ...]

    def resource_id(self, detail: CloudTrailDetail) -> str | None:
        for section, *keys in self.ids_at:
            found: Any = getattr(detail, section) or {}
            for key in keys:
                found = _step(found, key)
            if isinstance(found, str) and found:
                return found
        return None

    def shown_paths(self) -> str:
        return " or ".join(".".join(str(part) for part in path) for path in self.ids_at)


def _step(found: Any, key: str | int) -> Any:
    if isinstance(key, int):
        return found[key] if isinstance(found, list) and len(found) > key else None
    return found.get(key) if isinstance(found, dict) else None


AUDIT_TRIGGERS = (
    AuditTrigger(
        "aws.s3", "s3.amazonaws.com", "CreateBucket", BUCKET, (("requestParameters", "bucketName"),)
    ),
    # A new group's id exists only in the answer to the call.
    AuditTrigger(
        "aws.ec2",
        "ec2.amazonaws.com",
        "CreateSecurityGroup",
        SECURITY_GROUP,
        (("responseElements", "groupId"),),
    ),
    # A rule added to a group: named by id in the request, or (a call in the default VPC may name the
    # group by name only) by the rules the answer lists.
    AuditTrigger(
        "aws.ec2",
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        SECURITY_GROUP,
        (
            ("requestParameters", "groupId"),
            ("responseElements", "securityGroupRuleSet", "items", 0, "groupId"),
        ),
    ),
    # A rule let out of a group (EC2.2 judges a default group's outbound rules).
    AuditTrigger(
        "aws.ec2",
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupEgress",
        SECURITY_GROUP,
        (("requestParameters", "groupId"),),
    ),
    # A rule changed in place (its range widened to the internet, say). CloudTrail records newer EC2
    # calls with their request wrapped in "<Operation>Request"; the plain form is read too.
    AuditTrigger(
        "aws.ec2",
        "ec2.amazonaws.com",
        "ModifySecurityGroupRules",
        SECURITY_GROUP,
        (
            ("requestParameters", "ModifySecurityGroupRulesRequest", "GroupId"),
            ("requestParameters", "groupId"),
        ),
    ),
)
_BY_CALL = {(t.event_source, t.event_name): t for t in AUDIT_TRIGGERS}


class CloudTrailDetail(BaseModel):
    """The part of a CloudTrail event's `detail` a trigger reads."""

    model_config = ConfigDict(extra="ignore")
    eventSource: str = ""
    eventName: str = ""
    errorCode: str | None = None  # set when the call failed: it created or opened nothing
    awsRegion: str | None = None
    requestParameters: dict[str, Any] | None = None
    responseElements: dict[str, Any] | None = None
    userIdentity: dict[str, Any] | None = None


class CloudTrailEvent(BaseModel):
    """An "AWS API Call via CloudTrail" event as EventBridge delivers it."""

    model_config = ConfigDict(extra="ignore")
    id: str
    account: str | None = None
    detail: CloudTrailDetail


class TriggerResult(CamelModel):
    outcome: Literal["started", "duplicate", "skipped", "deferred"]
    audit_id: str | None = None
    reason: str | None = None


# An event about a resource whose audit is still running (it may wait days for an approval) is
# not dropped: it is kept here, one per resource (the newest wins: the audit reads the resource as
# it is then), and started when that audit completes (its "Audit Completed" event). Only the
# trigger's role writes this prefix.
DEFERRED_PREFIX = "deferred/"
AUDIT_COMPLETED = "Audit Completed"
COMPLETION_GRACE_SECONDS = 15.0  # within the trigger function's timeout


class DeferredEvent(CamelModel):
    event_id: str
    resource_type: ResourceType
    resource_id: str
    mode: str
    started: bool = False


def deferred_key(resource_type: str, resource_id: str) -> str:
    return f"{DEFERRED_PREFIX}{resource_type.replace('::', '-')}/{resource_id}.json"


def audit_id_for_event(event_id: str) -> str:
    """The execution name, derived from the event id: a redelivered event names the same audit."""
    return _NAME_UNSAFE.sub("-", event_id)[:80]


def _role_of(identity: Mapping[str, Any] | None) -> str | None:
    """The IAM role behind the call, for a call made with a role's session."""
    issuer = ((identity or {}).get("sessionContext") or {}).get("sessionIssuer") or {}
    arn = issuer.get("arn")
    return arn if isinstance(arn, str) else None


def start_from_cloudtrail(
    event: Mapping[str, Any],
    mode: str,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    ignored_roles: frozenset[str] = frozenset(),
) -> TriggerResult:
    """The audit one CloudTrail event starts, or why it starts none.

    Starts nothing for an event that is not one of AUDIT_TRIGGERS' calls, a call that failed
    (`errorCode`), an event that names no resource id, or a call made by one of `ignored_roles`
    (the agent's own Apply: a rollback authorizes rules again, which must not start an audit that
    proposes to revoke them). Never raises for a bad event: EventBridge would only retry it.
    """
    try:
        parsed = CloudTrailEvent.model_validate(event)
    except ValidationError as err:
        where = ".".join(str(part) for part in err.errors()[0]["loc"])
        return TriggerResult(outcome="skipped", reason=f"not a CloudTrail event (at {where or 'the top'})")
    detail = parsed.detail
    trigger = _BY_CALL.get((detail.eventSource, detail.eventName))
    if trigger is None or detail.errorCode is not None:
        calls = ", ".join(t.event_name for t in AUDIT_TRIGGERS)
        return TriggerResult(outcome="skipped", reason=f"not a successful call of {calls}")
    resource_id = trigger.resource_id(detail)
    if resource_id is None:
        return TriggerResult(
            outcome="skipped", reason=f"the {trigger.event_name} event names no {trigger.shown_paths()}"
        )
    if (parsed.account not in (None, settings.account)) or (detail.awsRegion not in (None, settings.region)):
        # A bus may receive other accounts' events (a forwarding rule): the deployment audits its own.
        return TriggerResult(
            outcome="skipped", reason="an event of another account or region than this deployment's"
        )
    if (role := _role_of(detail.userIdentity)) in ignored_roles:
        return TriggerResult(outcome="skipped", reason=f"made by this agent's own role {role}")
    return start_from_event(
        parsed.id, resource_id, mode, sfn, s3, settings, records, resource_type=trigger.resource_type
    )


def start_from_event(
    event_id: str,
    resource_id: str,
    mode: str,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    resource_type: ResourceType = BUCKET,
) -> TriggerResult:
    """Start the audit of one resource an event names, once per event id (the audit id is derived
    from it). Never raises for a bad or repeated event (EventBridge would only retry it): it says why."""
    audit_id = audit_id_for_event(event_id)
    try:
        sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
        return TriggerResult(outcome="duplicate", audit_id=audit_id, reason="this event already started it")
    except ClientError as err:
        if error_code(err) != "ExecutionDoesNotExist":
            raise
    resource = ResourceRef(type=resource_type, id=resource_id)
    if mode != "plan" and not settings.protected(resource) and not settings.in_remediation_scope(resource):
        mode = "plan"  # outside the remediation scope, a new resource is still audited: in plan mode
    try:
        request = StartAuditRequest.parse(
            {"resource": {"type": resource_type, "id": resource_id}, "mode": mode}, settings
        )
    except ValidationError as err:
        noun = KINDS[resource_type].noun
        return TriggerResult(outcome="skipped", reason=f"not an auditable {noun}: {err.errors()[0]['msg']}")
    try:
        # The trigger is not a person: whoever approves an audit it started is someone else.
        trigger = Caller(arn=REQUESTED_BY, principal=REQUESTED_BY)
        started = start_audit(request, trigger, sfn, settings, records, s3=s3, audit_id=audit_id)
    except Conflict as conflict:
        # Kept, and started once the running audit completes: a rule opened while an audit waits
        # for its approval must not go unaudited.
        deferred = DeferredEvent(
            event_id=event_id, resource_type=resource_type, resource_id=resource_id, mode=mode
        )
        write_json(
            s3, settings.report_bucket, deferred_key(resource_type, resource_id), deferred.to_json_dict()
        )
        return TriggerResult(
            outcome="deferred",
            audit_id=conflict.extra.get("runningAuditId"),
            reason=f"{conflict.message} This event is audited when that audit completes.",
        )
    except ApiError as refused:  # a protected bucket, or a resource outside the remediation scope
        return TriggerResult(outcome="skipped", reason=refused.message)
    except ClientError as err:
        if error_code(err) == "ExecutionAlreadyExists":  # a concurrent redelivery won the race
            return TriggerResult(
                outcome="duplicate", audit_id=audit_id, reason="this event already started it"
            )
        raise
    return TriggerResult(outcome="started", audit_id=started.audit_id)


def start_deferred(
    completed: Mapping[str, Any], sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> TriggerResult:
    """An audit completed ("Audit Completed" on the agent's bus): start the event kept for its
    resource while it ran, if any, once. A forged completion can only start that audit early,
    where the resource's lock refuses it again (it stays kept)."""
    resource = (completed.get("detail") or {}).get("resource") if isinstance(completed, Mapping) else None
    if not isinstance(resource, dict) or not all(isinstance(resource.get(k), str) for k in ("type", "id")):
        return TriggerResult(outcome="skipped", reason="an Audit Completed event names no resource")
    key = deferred_key(resource["type"], resource["id"])
    try:
        stored = read_json(s3, settings.report_bucket, key)
        kept = DeferredEvent.model_validate(stored) if stored else None
    except ValidationError:
        kept = None
    if kept is None or kept.started:
        return TriggerResult(outcome="skipped", reason="no event was kept for this resource")
    completed_id = (completed.get("detail") or {}).get("auditId")
    if isinstance(completed_id, str):
        # Write Report announces the audit just before its execution ends: let it end first.
        deadline = now() + COMPLETION_GRACE_SECONDS
        while guard.running(sfn, s3, settings, completed_id) and now() < deadline:
            sleep(0.5)
    result = start_from_event(
        kept.event_id,
        kept.resource_id,
        kept.mode,
        sfn,
        s3,
        settings,
        records,
        resource_type=kept.resource_type,
    )
    if result.outcome in ("started", "duplicate"):
        write_json(s3, settings.report_bucket, key, kept.model_copy(update={"started": True}).to_json_dict())
    return result
