"""boto3 clients aimed at the project's LocalStack, for scripts and tests."""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3
import botocore.exceptions
from botocore.config import Config

# Same defaults as scripts/localstack-env.sh: LOCALSTACK_PORT picks the LocalStack.
PORT = os.environ.get("LOCALSTACK_PORT", "4566")
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{PORT}"
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
STACK_NAME = "SecurityAgent"


def session() -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        region_name=REGION,
    )


def client(service: str, **config: Any) -> Any:
    return session().client(
        service, endpoint_url=ENDPOINT, config=Config(retries={"max_attempts": 2}, **config)
    )


def stack_outputs(stack_name: str = STACK_NAME) -> dict[str, str]:
    """The deployed stack's outputs; raises LookupError naming the fix when it is not deployed."""
    try:
        stack = client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except botocore.exceptions.ClientError as exc:
        raise LookupError(f"stack {stack_name} is not deployed on {ENDPOINT}: run `make deploy`") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _stack_exists(name: str) -> bool:
    try:
        stack_outputs(name)
    except (LookupError, botocore.exceptions.EndpointConnectionError):
        return False
    return True


def _api_stage_deployed() -> bool:
    """LocalStack drops the REST API's stage when an update replaces its deployment (routes changed)."""
    outputs = stack_outputs()
    stages = client("apigateway").get_stages(restApiId=outputs["ApiId"])["item"]
    return any(stage["stageName"] == outputs["ApiStage"] for stage in stages)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "stack-exists":
        sys.exit(0 if _stack_exists(sys.argv[2]) else 1)
    if sys.argv[1:] == ["api-stage-deployed"]:
        sys.exit(0 if _api_stage_deployed() else 1)
    sys.exit("usage: python -m scripts.localstack_client stack-exists STACK | api-stage-deployed")
