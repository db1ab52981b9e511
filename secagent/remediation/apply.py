"""Execute an ApiCall with a boto3 Session. The workflow's Apply step reuses this."""

from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

from secagent.aws import (
    ACCESS_DENIED_CODES,
    RESOURCE_MISSING_CODES,
    TRANSIENT_ERROR_CODES,
    ClientFactory,
    client_factory,
)
from secagent.models.errors import AccessDenied, InvalidInput, ResourceNotFound, TransientError
from secagent.models.plans import ApiCall


def execute_api_call(
    call: ApiCall, session: boto3.Session | None = None, *, clients: ClientFactory | None = None
) -> dict[str, Any]:
    """Run ``call`` and return the response without ResponseMetadata; AWS errors become typed errors."""
    make = clients or client_factory(session or boto3.Session())
    client = make(call.service, call.region)
    method = xform_name(call.operation)
    if method not in {xform_name(op) for op in client.meta.service_model.operation_names}:
        raise InvalidInput(f"{call.service} has no operation {call.operation}")
    try:
        response = getattr(client, method)(**call.parameters)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        message = f"{call.service}:{call.operation} failed: {code}"
        if code in TRANSIENT_ERROR_CODES or status >= 500:
            raise TransientError(message) from err
        if code in ACCESS_DENIED_CODES:
            raise AccessDenied(message) from err
        if code in RESOURCE_MISSING_CODES:
            raise ResourceNotFound(message) from err
        raise
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
