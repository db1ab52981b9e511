"""Inject AWS error responses at the SDK boundary (botocore before-call), on top of moto."""

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from secagent.aws import ClientFactory, client_factory


def failing_clients(
    session: boto3.Session, failures: dict[str, tuple[int, str]]
) -> tuple[ClientFactory, list[str]]:
    """Client factory whose clients answer ``failures["s3.GetBucketAcl"] = (status, code)`` instead of AWS.

    The short-circuit happens before botocore's retry loop, like an error that outlived retries.
    Returns the factory and the list of operations actually intercepted.
    """
    inner = client_factory(session)
    hits: list[str] = []

    def hook(operation: str, status: int, code: str) -> Callable[..., Any]:
        def respond(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            hits.append(operation)
            parsed = {
                "Error": {"Code": code, "Message": f"injected {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
            }
            return AWSResponse("https://injected", status, {}, None), parsed

        return respond

    def make(service: str, region: str | None = None) -> Any:
        client = inner(service, region)
        svc = client.meta.service_model.service_id.hyphenize()
        for key, (status, code) in failures.items():
            target, operation = key.split(".", 1)
            if target == service:
                client.meta.events.register(f"before-call.{svc}.{operation}", hook(key, status, code))
        return client

    return make, hits


def allow_log_delivery(s3: Any, log_bucket: str) -> None:
    """Let S3 server access logging write to ``log_bucket`` (moto checks this like AWS does)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{log_bucket}/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=log_bucket, Policy=json.dumps(policy))
