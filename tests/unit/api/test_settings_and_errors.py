"""ApiSettings from the environment mapping; the one exception -> (status, body) mapping."""

import pytest
from pydantic import ValidationError

from secagent.api import ApiSettings, BadRequest, Conflict, NotFound, UpstreamError, error_response

ENV = {
    "STATE_MACHINE_ARN": "arn:aws-us-gov:states:us-gov-west-1:123456789012:stateMachine:SecAgentAudit",
    "REPORT_BUCKET": "secagent-reports",
}


def test_api_settings_from_env_defaults_timeouts() -> None:
    settings = ApiSettings.from_env(ENV)
    assert settings.default_approval_timeout_seconds == 3600
    assert settings.max_approval_timeout_seconds == 604800
    assert settings.max_body_bytes == 16384


def test_api_settings_from_env_reads_timeouts() -> None:
    env = ENV | {"DEFAULT_APPROVAL_TIMEOUT_SECONDS": "600", "MAX_APPROVAL_TIMEOUT_SECONDS": "7200"}
    settings = ApiSettings.from_env(env)
    assert (settings.default_approval_timeout_seconds, settings.max_approval_timeout_seconds) == (600, 7200)


@pytest.mark.parametrize(
    "env",
    [
        {},
        ENV | {"STATE_MACHINE_ARN": "arn:aws:lambda:us-east-1:123456789012:function:f"},
        ENV | {"DEFAULT_APPROVAL_TIMEOUT_SECONDS": "30"},
        ENV | {"MAX_APPROVAL_TIMEOUT_SECONDS": "1800"},  # below the default 3600
    ],
)
def test_api_settings_from_env_invalid_fails_fast(env: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ApiSettings.from_env(env)


def test_api_settings_execution_arn_keeps_partition_region_account_and_name() -> None:
    settings = ApiSettings.from_env(ENV)
    assert settings.execution_arn("abc") == (
        "arn:aws-us-gov:states:us-gov-west-1:123456789012:execution:SecAgentAudit:abc"
    )
    assert (settings.approval_key("abc"), settings.report_key("abc")) == (
        "approvals/abc.json",
        "reports/abc.json",
    )


@pytest.mark.parametrize(
    ("exc", "status", "body"),
    [
        (
            BadRequest("mode: must be one of plan, remediate", field="mode"),
            400,
            {"error": "InvalidRequest", "message": "mode: must be one of plan, remediate", "field": "mode"},
        ),
        (
            BadRequest("The request body is empty."),
            400,
            {"error": "InvalidRequest", "message": "The request body is empty."},
        ),
        (NotFound("There is no audit."), 404, {"error": "NotFound", "message": "There is no audit."}),
        (Conflict("Already decided."), 409, {"error": "Conflict", "message": "Already decided."}),
    ],
)
def test_error_response_api_errors_keep_status_code_and_message(
    exc: Exception, status: int, body: dict
) -> None:
    assert error_response(exc, "req-1") == (status, body)


@pytest.mark.parametrize(
    "exc", [RuntimeError("secret detail /var/task/x.py"), UpstreamError("S3 failed: 503")]
)
def test_error_response_anything_else_is_500_without_detail(exc: Exception) -> None:
    status, body = error_response(exc, "req-1")
    assert status == 500
    assert body == {
        "error": "InternalError",
        "message": "The request failed unexpectedly; quote the requestId when reporting it.",
        "requestId": "req-1",
    }
