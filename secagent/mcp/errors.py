"""Every anticipated failure becomes one clear sentence for the model (an `isError` tool result).

Anything not mapped here is a bug: the SDK answers `Error executing tool <name>` without the
exception's text and logs the traceback to stderr, and the server keeps serving.
"""

import json
import socket
import urllib.error
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from secagent.client import ApiResponse
from secagent.models.errors import AccessDenied, InvalidInput, ResourceNotFound, TransientError

NO_CREDENTIALS = (
    "No AWS credentials found: give the MCP server an AWS_PROFILE (or --profile) or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in its environment."
)


class StackNotDeployed(Exception):
    """The stack whose API the audit tools use cannot be found."""


class ApiRefused(Exception):
    """The audit API answered with an error status; `message` is its own sentence."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"The audit API refused the request ({status} {code}): {message}")
        self.status = status
        self.code = code


def check_api(response: ApiResponse) -> dict[str, Any]:
    """The body of a 2xx answer; anything else raises ApiRefused with the API's own message."""
    if response.ok and isinstance(response.body, dict):
        return response.body
    body = response.body if isinstance(response.body, dict) else {}
    code = str(body.get("error") or ("Ok" if response.ok else "Error"))
    message = body.get("message") or (
        "the answer is not a JSON object" if response.ok else _short(response.body) or "no details"
    )
    if body.get("field"):
        message = f"{message} (field {body['field']})"
    raise ApiRefused(response.status, code, str(message))


def message_for(exc: BaseException) -> str | None:
    """One sentence for an anticipated failure, None for a bug."""
    match exc:
        case ToolError() | ApiRefused() | StackNotDeployed():
            return str(exc)
        case InvalidInput() | ResourceNotFound():
            text = str(exc)
            return text[:1].upper() + text[1:] + "."
        case AccessDenied():
            return f"Access denied: {exc}."
        case TransientError():
            return f"AWS did not answer normally ({exc}); this is usually temporary, try again."
        case NoCredentialsError():
            return NO_CREDENTIALS
        case NoRegionError():
            return "No AWS region configured: pass --region or set AWS_DEFAULT_REGION for the MCP server."
        case ProfileNotFound():
            return f"{exc}: pass an existing --profile (see ~/.aws/config)."
        case EndpointConnectionError():
            return f"Cannot reach AWS: {exc}."
        case ClientError():
            error = exc.response.get("Error", {})
            operation = getattr(exc, "operation_name", "the call")
            detail = f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}".rstrip(": ")
            return f"AWS refused {operation}: {detail}."
        case BotoCoreError():
            return f"AWS call failed: {exc}."
        case urllib.error.URLError():
            url = getattr(exc, "url", None)
            return f"Cannot reach the audit API{f' at {url}' if url else ''}: {exc.reason}."
        case TimeoutError() | socket.timeout():
            return "The audit API did not answer in time; try again."
    return None


def as_tool_error(exc: BaseException) -> ToolError | None:
    message = message_for(exc)
    return None if message is None else ToolError(message)


def describe_validation_error(err: ValidationError) -> str:
    """All argument problems on one line, in plain words: "resourceId: ...; mode: must be one of ..."."""
    return "; ".join(_explain(detail) for detail in err.errors(include_url=False))


def _explain(detail: ErrorDetails) -> str:
    field = ".".join(str(part) for part in detail["loc"]) or "arguments"
    kind, ctx, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    match kind:
        case "missing":
            return f"{field} is required"
        case "literal_error" | "enum":
            choices = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
            return f"{field} must be one of {choices}, got {_short(value)}"
        case "string_pattern_mismatch":
            return f"{field} {_short(value)} does not match {ctx.get('pattern')}"
        case "value_error":
            return f"{field}: {ctx.get('error', detail['msg'])}"
        case "string_type":
            return f"{field} must be a string, got {_short(value)}"
        case "int_type" | "int_parsing" | "int_from_float":
            return f"{field} must be an integer, got {_short(value)}"
        case "greater_than_equal" | "less_than_equal":
            return f"{field} {detail['msg'].replace('Input should be', 'must be')}, got {_short(value)}"
        case _:
            return f"{field}: {detail['msg']}"


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
