"""secagent exempt request / approve / list / revoke: what each person sees, refusals as exit codes."""

import io

import pytest

from secagent.cli.common import EXIT_OK, EXIT_USAGE, CliError
from secagent.cli.exempt import approve, request, revoke, show
from secagent.client import ApiResponse
from tests.unit.cli.conftest import FakeApi

ALICE = "arn:aws:sts::000000000000:assumed-role/SecurityLead/alice"
BOB = "arn:aws:sts::000000000000:assumed-role/SecurityApprover/bob"
PENDING = {
    "exemptionId": "logs-bucket." + "a" * 32,
    "bucket": "logs-bucket",
    "checkIds": ["s3_bucket_access_logging_disabled"],
    "reason": "this is the log bucket",
    "until": "2027-01-15",
    "requestedBy": ALICE,
    "requestedAt": "2026-11-30T10:00:00Z",
    "status": "PENDING",
}
ACTIVE = {**PENDING, "status": "ACTIVE", "approvedBy": BOB, "approvedAt": "2026-11-30T11:00:00Z"}


def test_a_request_says_it_exempts_nothing_until_another_person_approves() -> None:
    api = FakeApi(request_exemption=ApiResponse(201, PENDING))
    out = io.StringIO()
    code = request(
        api, "logs-bucket", ["s3_bucket_access_logging_disabled"], "this is the log bucket", "2027-01-15", out
    )
    assert code == EXIT_OK
    assert api.calls == [
        (
            "request_exemption",
            ("logs-bucket", ["s3_bucket_access_logging_disabled"], "this is the log bucket", "2027-01-15"),
            {},
        )
    ]
    text = out.getvalue()
    assert PENDING["exemptionId"] in text and "alice" in text and "until 2027-01-15" in text
    assert (
        f"exempts nothing until another person approves it: secagent exempt approve {PENDING['exemptionId']}"
        in text
    )


def test_approve_names_the_approver_and_what_the_next_audit_reports() -> None:
    api = FakeApi(approve_exemption=ApiResponse(200, ACTIVE))
    out = io.StringIO()
    assert approve(api, PENDING["exemptionId"], out) == EXIT_OK
    assert (
        f"approved by {BOB}" in out.getvalue()
        and "s3_bucket_access_logging_disabled EXEMPT" in out.getvalue()
    )


@pytest.mark.parametrize(
    ("status", "body", "code", "says"),
    [
        (
            400,
            {
                "error": "InvalidRequest",
                "field": "until",
                "message": "until 2027-06-01 is more than 90 days ahead",
            },
            EXIT_USAGE,
            "more than 90 days ahead",
        ),
        (
            403,
            {
                "error": "Forbidden",
                "message": "Exemption x was requested by alice, who may not also approve it",
            },
            3,
            "who may not also approve it",
        ),
    ],
)
def test_refusals_are_the_apis_sentence_with_an_exit_code(
    status: int, body: dict, code: int, says: str
) -> None:
    api = FakeApi(request_exemption=ApiResponse(status, body), approve_exemption=ApiResponse(status, body))
    action = (
        (lambda: request(api, "logs-bucket", ["x"], "r", "2027-06-01", io.StringIO()))
        if status == 400
        else (lambda: approve(api, "x", io.StringIO()))
    )
    with pytest.raises(CliError) as err:
        action()
    assert err.value.code == code and says in str(err.value)


def test_list_and_revoke() -> None:
    revoked = {
        **ACTIVE,
        "status": "REVOKED",
        "revokedBy": "arn:aws:iam::000000000000:user/carol",
        "revokedAt": "x",
    }
    api = FakeApi(
        list_exemptions=ApiResponse(200, {"exemptions": [revoked]}),
        revoke_exemption=ApiResponse(200, revoked),
    )
    out = io.StringIO()
    assert show(api, "logs-bucket", out) == EXIT_OK
    text = out.getvalue()
    assert "REVOKED" in text and "this is the log bucket" in text and "user/carol" in text
    assert f"requested by {ALICE}" in text and f"approved by {BOB}" in text
    out = io.StringIO()
    assert revoke(api, PENDING["exemptionId"], out) == EXIT_OK
    assert "revoked by arn:aws:iam::000000000000:user/carol" in out.getvalue()
    empty = FakeApi(list_exemptions=ApiResponse(200, {"exemptions": []}))
    out = io.StringIO()
    show(empty, "logs-bucket", out)
    assert out.getvalue() == "No exemptions requested through the API on logs-bucket.\n"
