"""CloudTrail trigger Lambda (EventBridge target): audit the resource a CloudTrail event names, once
per event. The calls that start an audit, and where each names its resource, are
secagent.api.triggers.AUDIT_TRIGGERS (CreateBucket, CreateSecurityGroup, AuthorizeSecurityGroupIngress).

EventBridge cannot name a Step Functions execution; this function names it after the event id,
so a redelivered event starts nothing, and a resource already being audited is not audited twice:
its event is kept and started when that audit completes (the agent's "Audit Completed" event).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from lambdas.observability import logger, metrics, tracer
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.api.triggers import AUDIT_COMPLETED, IGNORED_ROLES_ENV, start_deferred, start_from_cloudtrail
from secagent.aws import client_factory
from secagent.workflow._aws import EVENT_SOURCE


@dataclass(frozen=True)
class TriggerEnvironment:
    """Everything the trigger reads from its environment variables: the API's settings (it starts
    audits as the API does), the mode it starts them in (TRIGGER_MODE) and the agent's own roles
    whose calls it ignores (TRIGGER_IGNORED_ROLE_ARNS, comma-separated)."""

    api: ApiSettings
    mode: str
    ignored_roles: frozenset[str]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "TriggerEnvironment":
        env = dict(os.environ if environ is None else environ)
        roles = frozenset(r.strip() for r in env.get(IGNORED_ROLES_ENV, "").split(",") if r.strip())
        mode = env.get("TRIGGER_MODE", "remediate")
        return cls(api=ApiSettings.from_env(env), mode=mode, ignored_roles=roles)


@dataclass(frozen=True)
class Deps:
    env: TriggerEnvironment
    sfn: Any
    s3: Any
    records: RecordStore


@cache
def deps() -> Deps:
    """Built once per warm environment, from one environment model (as every tool's)."""
    env, make = TriggerEnvironment.from_env(), client_factory()
    return Deps(env, make("stepfunctions", None), make("s3", None), RecordStore.deployed(env.api, make))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    d = deps()
    if event.get("source") == EVENT_SOURCE and event.get("detail-type") == AUDIT_COMPLETED:
        # An audit ended: start the event kept for its resource while it ran.
        result = start_deferred(event, d.sfn, d.s3, d.env.api, d.records)
    else:
        result = start_from_cloudtrail(
            event, d.env.mode, d.sfn, d.s3, d.env.api, d.records, ignored_roles=d.env.ignored_roles
        )
    metrics.add_metric(name=f"Trigger{result.outcome.title()}", unit=MetricUnit.Count, value=1)
    detail = event.get("detail")
    call = detail.get("eventName") if isinstance(detail, dict) else None
    logger.info(
        "cloudtrail event", extra={"eventId": event.get("id"), "eventName": call, **result.to_json_dict()}
    )
    return result.to_json_dict()
