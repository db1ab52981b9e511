"""Edge input: raw body -> request model, pydantic errors -> one plain-words BadRequest."""

import json
from typing import Any, Protocol

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from secagent.api.errors import BadRequest
from secagent.api.settings import ApiSettings

UNKNOWN_CALLER = "unknown (no IAM identity in request context)"


class Parsable[M](Protocol):
    def parse(self, data: dict[str, Any], settings: ApiSettings) -> M: ...


def parse_body[M](model: Parsable[M], body: str | bytes | None, settings: ApiSettings) -> M:
    """Validate a JSON request body; every problem is a BadRequest, never a 500."""
    if body is None or not body.strip():
        raise BadRequest("The request body is empty; send a JSON object.")
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > settings.max_body_bytes:
        raise BadRequest(
            f"The request body is {len(raw)} bytes, larger than the limit of "
            f"{settings.max_body_bytes} bytes ({settings.max_body_bytes // 1024} KiB)."
        )
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # JSONDecodeError, bad UTF-8, absurd nesting
        where = (
            f" (line {err.lineno}, column {err.colno}: {err.msg})"
            if isinstance(err, json.JSONDecodeError)
            else ""
        )
        raise BadRequest(f"The request body is not valid JSON{where}.") from None
    if not isinstance(data, dict):
        raise BadRequest(f"The request body must be a JSON object, not {_json_type(data)}.")
    try:
        return model.parse(data, settings)
    except ValidationError as err:
        raise bad_request(err) from None


def parse_query[M](model: Parsable[M], params: dict[str, str] | None, settings: ApiSettings) -> M:
    """Validate a query string (all values are strings); every problem is a BadRequest."""
    try:
        return model.parse(dict(params or {}), settings)
    except ValidationError as err:
        raise bad_request(err) from None


def bad_request(err: ValidationError) -> BadRequest:
    """The first problem, in plain words, with the dotted path of the field."""
    first = err.errors(include_url=False)[0]
    field = ".".join(str(part) for part in first["loc"])
    return BadRequest(_explain(field, first), field=field or None)


def _explain(field: str, error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    match kind:
        case "extra_forbidden":
            return f'unexpected field "{field}"'
        case "missing":
            return f"{field}: is required"
        case "literal_error":
            choices = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
            return f"{field}: must be one of {choices}, got {_shown(value)}"
        case "int_type" | "int_parsing" | "int_from_float":
            return f"{field}: must be an integer, got {_shown(value)}"
        case "string_type":
            return f"{field}: must be a string, got {_shown(value)}"
        case "model_type" | "dict_type" | "model_attributes_type":
            return f"{field}: must be an object, got {_shown(value)}"
        case "string_too_long":
            return f"{field}: must be at most {ctx.get('max_length')} characters"
        case _:  # our own PydanticCustomError messages are already plain words
            return f"{field}: {error['msg']}"


def _json_type(value: Any) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case _:
            return "an object"


def _shown(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return _json_type(value)
    text = json.dumps(value)
    return f"{_json_type(value)} {text if len(text) <= 60 else text[:57] + '...'}"


def caller_identity(request_context: dict[str, Any] | None) -> str:
    """Who called (IAM authorization fills identity.userArn); LocalStack and tests may leave it empty."""
    identity = (request_context or {}).get("identity") or {}
    return identity.get("userArn") or identity.get("caller") or UNKNOWN_CALLER
