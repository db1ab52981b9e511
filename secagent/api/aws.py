"""The few Step Functions and S3 reads/writes the API makes, with their errors translated."""

import json
from typing import Any

from botocore.exceptions import ClientError

from secagent.api.errors import NotFound, UpstreamError
from secagent.models.records import AUDIT_ID


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "Unknown"))


def describe_execution(sfn: Any, execution_arn: str, audit_id: str) -> dict[str, Any]:
    """DescribeExecution; an audit id that names no execution of our state machine is NotFound."""
    if not AUDIT_ID.fullmatch(audit_id):
        raise NotFound(f"There is no audit with id {json.dumps(audit_id[:100])}.")
    try:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
    except ClientError as err:
        if error_code(err) in {"ExecutionDoesNotExist", "InvalidArn"}:
            raise NotFound(f'There is no audit with id "{audit_id}".') from None
        raise
    return described


def read_document(s3: Any, bucket: str, key: str) -> Any:
    """The object as parsed JSON (any JSON value), or None when it does not exist (yet)."""
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as err:
        if error_code(err) in {"NoSuchKey", "404"}:
            return None
        raise UpstreamError(f"S3 GetObject {key} failed: {error_code(err)}") from None
    return json.loads(body)


def read_json(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The object as a JSON object, or None when it does not exist (yet) or is not an object."""
    data = read_document(s3, bucket, key)
    return data if isinstance(data, dict) else None


def write_json(s3: Any, bucket: str, key: str, data: dict[str, Any]) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(data).encode(), ContentType="application/json")
