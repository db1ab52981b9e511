"""CreateBucket trigger Lambda (EventBridge target): audit the new bucket, once per event.

EventBridge cannot name a Step Functions execution; this function names it after the event id,
so a redelivered event starts nothing, and a bucket already being audited is not audited twice.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict

from lambdas.observability import logger, metrics, tracer
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.api.triggers import start_from_event
from secagent.aws import client_factory


class _RequestParameters(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucketName: str


class _Detail(BaseModel):
    model_config = ConfigDict(extra="ignore")
    eventSource: str = ""
    eventName: str
    errorCode: str | None = None
    requestParameters: _RequestParameters


class BucketCreatedEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    detail: _Detail


@dataclass(frozen=True)
class TriggerEnvironment:
    """Everything the trigger reads from its environment variables: the API's settings (it starts
    audits as the API does) and the mode it starts them in (TRIGGER_MODE)."""

    api: ApiSettings
    mode: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "TriggerEnvironment":
        env = dict(os.environ if environ is None else environ)
        return cls(api=ApiSettings.from_env(env), mode=env.get("TRIGGER_MODE", "remediate"))


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
    parsed = BucketCreatedEvent.model_validate(event)
    bucket = parsed.detail.requestParameters.bucketName
    detail = parsed.detail
    # The rule matches only successful CreateBucket calls; an invocation with anything else (the
    # function invoked directly) starts nothing.
    if (detail.eventSource, detail.eventName, detail.errorCode) != ("s3.amazonaws.com", "CreateBucket", None):
        logger.info(
            "not a successful CreateBucket", extra={"eventId": parsed.id, "eventName": detail.eventName}
        )
        return {"outcome": "skipped", "reason": "not a successful CreateBucket call"}
    d = deps()
    result = start_from_event(parsed.id, bucket, d.env.mode, d.sfn, d.s3, d.env.api, d.records)
    metrics.add_metric(name=f"Trigger{result.outcome.title()}", unit=MetricUnit.Count, value=1)
    logger.info("bucket created", extra={"bucket": bucket, "eventId": parsed.id, **result.to_json_dict()})
    return result.to_json_dict()
