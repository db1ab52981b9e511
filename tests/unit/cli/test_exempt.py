"""secagent exempt grant / list / revoke: what the person sees, and the API's refusals as exit codes."""

import io

import pytest

from secagent.cli.common import EXIT_OK, EXIT_USAGE, CliError
from secagent.cli.exempt import grant, revoke, show
from secagent.client import ApiResponse
from tests.unit.cli.conftest import FakeApi

EXEMPTION = {
    "exemptionId": "logs-bucket." + "a" * 32,
    "bucket": "logs-bucket",
    "checkIds": ["s3_bucket_access_logging_disabled"],
    "reason": "this is the log bucket",
    "until": "2027-01-15",
    "grantedBy": "arn:aws:sts::000000000000:assumed-role/SecurityLead/alice",
    "grantedAt": "2026-11-30T10:00:00Z",
    "status": "ACTIVE",
}


def test_grant_names_the_exemption_the_granter_and_how_to_revoke_it() -> None:
    api = FakeApi(grant_exemption=ApiResponse(201, EXEMPTION))
    out = io.StringIO()
    code = grant(
        api, "logs-bucket", ["s3_bucket_access_logging_disabled"], "this is the log bucket", "2027-01-15", out
    )
    assert code == EXIT_OK
    assert api.calls == [
        (
            "grant_exemption",
            ("logs-bucket", ["s3_bucket_access_logging_disabled"], "this is the log bucket", "2027-01-15"),
            {},
        )
    ]
    text = out.getvalue()
    assert EXEMPTION["exemptionId"] in text and "alice" in text and "until 2027-01-15" in text
    assert f"secagent exempt revoke {EXEMPTION['exemptionId']}" in text


def test_a_refused_grant_is_a_usage_error_with_the_apis_sentence() -> None:
    refusal = {
        "error": "InvalidRequest",
        "field": "until",
        "message": "until 2027-06-01 is more than 90 days ahead",
    }
    api = FakeApi(grant_exemption=ApiResponse(400, refusal))
    with pytest.raises(CliError) as err:
        grant(api, "logs-bucket", ["x"], "r", "2027-06-01", io.StringIO())
    assert err.value.code == EXIT_USAGE and "more than 90 days ahead" in str(err.value)


def test_list_and_revoke() -> None:
    revoked = {
        **EXEMPTION,
        "status": "REVOKED",
        "revokedBy": "arn:aws:iam::000000000000:user/bob",
        "revokedAt": "x",
    }
    api = FakeApi(
        list_exemptions=ApiResponse(200, {"exemptions": [revoked]}),
        revoke_exemption=ApiResponse(200, revoked),
    )
    out = io.StringIO()
    assert show(api, "logs-bucket", out) == EXIT_OK
    assert (
        "REVOKED" in out.getvalue()
        and "this is the log bucket" in out.getvalue()
        and "user/bob" in out.getvalue()
    )
    out = io.StringIO()
    assert revoke(api, EXEMPTION["exemptionId"], out) == EXIT_OK
    assert "revoked by arn:aws:iam::000000000000:user/bob" in out.getvalue()
    empty = FakeApi(list_exemptions=ApiResponse(200, {"exemptions": []}))
    out = io.StringIO()
    show(empty, "logs-bucket", out)
    assert out.getvalue() == "No exemptions granted through the API on logs-bucket.\n"
