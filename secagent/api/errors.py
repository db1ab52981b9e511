"""API errors as typed exceptions, and the one place that turns any exception into an answer."""

from typing import Any


class ApiError(Exception):
    """An expected, client-facing failure: ``status`` and ``code`` go on the wire, ``message`` too."""

    status: int = 500
    code: str = "InternalError"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra: dict[str, Any] = {}  # more members of the error body (e.g. runningAuditId)


class BadRequest(ApiError):
    status = 400
    code = "InvalidRequest"


class Forbidden(ApiError):
    status = 403
    code = "Forbidden"


class NotFound(ApiError):
    status = 404
    code = "NotFound"


class Conflict(ApiError):
    status = 409
    code = "Conflict"


class Unprocessable(ApiError):
    status = 422
    code = "Unprocessable"


class UpstreamError(Exception):
    """An AWS call failed unexpectedly; the message holds only the error code, never request data."""


INTERNAL_MESSAGE = "The request failed unexpectedly; quote the requestId when reporting it."


def error_response(exc: Exception, request_id: str | None = None) -> tuple[int, dict[str, Any]]:
    """(status, body) for any exception: ApiError as itself, anything else as a bare 500."""
    if isinstance(exc, ApiError):
        body: dict[str, Any] = {"error": exc.code, "message": exc.message}
        if exc.field:
            body["field"] = exc.field
        return exc.status, {**body, **exc.extra}
    # No exception text here: it may hold ARNs, tokens or stack details. The log has it.
    return 500, {"error": "InternalError", "message": INTERNAL_MESSAGE, "requestId": request_id}
