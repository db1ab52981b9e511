"""Request bodies: strict models, and every problem told as one plain sentence naming the field."""

import json
from typing import Any

import pytest

from secagent.api import ApiSettings, ApprovalRequest, BadRequest, StartAuditRequest, parse_body

GOOD = {"resource": {"type": "AWS::S3::Bucket", "id": "customer-data"}}


def bad(model: Any, body: str | bytes | None, settings: ApiSettings) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_body(model, body, settings)
    return caught.value


def test_start_audit_request_minimal_body_takes_defaults(settings: ApiSettings) -> None:
    # Given a body with only the resource
    # When it is parsed
    request = parse_body(StartAuditRequest, json.dumps(GOOD), settings)
    # Then mode and timeout take their defaults
    assert request.resource.id == "customer-data"
    assert (request.mode, request.approval_timeout_seconds) == ("plan", 3600)


def test_start_audit_request_default_timeout_comes_from_settings() -> None:
    # Given a deployment whose default approval timeout is 900 s
    custom = ApiSettings(
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        report_bucket="reports-bucket",
        default_approval_timeout_seconds=900,
        max_approval_timeout_seconds=1800,
    )
    # When a body without a timeout is parsed, and one above the deployment's maximum
    request = parse_body(StartAuditRequest, json.dumps(GOOD), custom)
    err = bad(StartAuditRequest, json.dumps({**GOOD, "approvalTimeoutSeconds": 3600}), custom)
    # Then both follow the settings
    assert request.approval_timeout_seconds == 900
    assert err.message == "approvalTimeoutSeconds: must be between 60 and 1800"


def test_start_audit_request_full_body_is_accepted(settings: ApiSettings) -> None:
    body = {**GOOD, "mode": "remediate", "approvalTimeoutSeconds": 604800}
    request = parse_body(StartAuditRequest, json.dumps(body), settings)
    assert (request.mode, request.approval_timeout_seconds) == ("remediate", 604800)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "resource", "resource: is required"),
        (
            {"resource": "customer-data"},
            "resource",
            'resource: must be an object, got a string "customer-data"',
        ),
        ({"resource": {"type": "AWS::S3::Bucket"}}, "resource.id", "resource.id: is required"),
        (
            {"resource": {"type": "AWS::EC2::Instance", "id": "i-1"}},
            "resource.type",
            "resource.type: must be one of AWS::S3::Bucket, AWS::EC2::SecurityGroup, "
            'got a string "AWS::EC2::Instance"',
        ),
        (
            {"resource": {"type": "AWS::S3::Bucket", "id": "My_Bucket"}},
            "resource.id",
            'resource.id: "My_Bucket" is not a valid S3 bucket name: only lowercase letters, digits, '
            "dots and hyphens; must start and end with a letter or digit",
        ),
        (
            {"resource": {"type": "AWS::S3::Bucket", "id": 42}},
            "resource.id",
            "resource.id: must be a string, got a number 42",
        ),
        ({**GOOD, "mode": "fix"}, "mode", 'mode: must be one of plan, remediate, got a string "fix"'),
        (
            {**GOOD, "approvalTimeoutSeconds": 59},
            "approvalTimeoutSeconds",
            "approvalTimeoutSeconds: must be between 60 and 604800",
        ),
        (
            {**GOOD, "approvalTimeoutSeconds": "60"},
            "approvalTimeoutSeconds",
            'approvalTimeoutSeconds: must be an integer, got a string "60"',
        ),
        (
            {**GOOD, "approvalTimeoutSeconds": 1.5},
            "approvalTimeoutSeconds",
            "approvalTimeoutSeconds: must be an integer, got a number 1.5",
        ),
        (
            {**GOOD, "approvalTimeoutSeconds": True},
            "approvalTimeoutSeconds",
            "approvalTimeoutSeconds: must be an integer, got a boolean true",
        ),
        (
            {**GOOD, "approvalTimeoutSeconds": None},
            "approvalTimeoutSeconds",
            "approvalTimeoutSeconds: must be an integer, got null",
        ),
        ({**GOOD, "mdoe": "plan"}, "mdoe", 'unexpected field "mdoe"'),
        ({**GOOD, "faults": {}}, "faults", 'unexpected field "faults"'),
        (
            {"resource": {**GOOD["resource"], "region": "eu-west-1"}},
            "resource.region",
            'unexpected field "resource.region"',
        ),
        (
            {"resource": GOOD["resource"], "approval_timeout_seconds": 60},
            "approval_timeout_seconds",
            'unexpected field "approval_timeout_seconds"',
        ),
    ],
)
def test_start_audit_request_invalid_field_names_field_and_problem(
    settings: ApiSettings, body: dict[str, Any], field: str, message: str
) -> None:
    # Given a JSON object with one problem
    # When it is parsed
    err = bad(StartAuditRequest, json.dumps(body), settings)
    # Then the 400 names the field and says what is wrong
    assert (err.status, err.code, err.field, err.message) == (400, "InvalidRequest", field, message)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "must be 3 to 63 characters long"),
        ("a" * 64, "must be 3 to 63 characters long"),
        ("192.168.5.4", "must not be formatted as an IP address"),
        ("xn--bucket", "must not start with any of xn--"),
        ("my..bucket", "must not contain two adjacent periods"),
        ("UPPER-case", "only lowercase letters"),
    ],
)
def test_start_audit_request_invalid_bucket_name_says_which_rule(
    settings: ApiSettings, name: str, problem: str
) -> None:
    err = bad(StartAuditRequest, json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": name}}), settings)
    assert err.field == "resource.id"
    assert err.message.startswith(f'resource.id: "{name}" is not a valid S3 bucket name: ')
    assert problem in err.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "The request body is empty; send a JSON object."),
        ("", "The request body is empty; send a JSON object."),
        ("  \n", "The request body is empty; send a JSON object."),
        ('{"resource": ', "The request body is not valid JSON (line 1, column 14: Expecting value)."),
        (b"\xff\xfe{", "The request body is not valid JSON."),
        ("[1, 2]", "The request body must be a JSON object, not an array."),
        ('"plan"', "The request body must be a JSON object, not a string."),
        ("null", "The request body must be a JSON object, not null."),
        ("[" * 8000 + "]" * 8000, "The request body must be a JSON object, not an array."),
    ],
)
def test_parse_body_unusable_body_is_bad_request_without_field(
    settings: ApiSettings, body: str | bytes | None, message: str
) -> None:
    err = bad(StartAuditRequest, body, settings)
    assert (err.status, err.field, err.message) == (400, None, message)


def test_parse_body_over_16_kib_is_refused_before_parsing(settings: ApiSettings) -> None:
    # Given a valid JSON object of 16 KiB + 1 byte
    body = json.dumps({**GOOD, "pad": ""})
    body = body.replace('"pad": ""', '"pad": "' + "x" * (16 * 1024 - len(body) + 1) + '"')
    assert len(body) == 16 * 1024 + 1
    # When it is parsed
    err = bad(StartAuditRequest, body, settings)
    # Then the limit, not the extra field, is the problem reported
    assert err.message == "The request body is 16385 bytes, larger than the limit of 16384 bytes (16 KiB)."


def test_approval_request_decision_and_comment_are_accepted(settings: ApiSettings) -> None:
    body = json.dumps({"decision": "approve", "comment": "ok by me", "planDigest": "ab" * 32})
    request = parse_body(ApprovalRequest, body, settings)
    assert (request.decision, request.comment, request.plan_digest) == ("approve", "ok by me", "ab" * 32)
    assert parse_body(ApprovalRequest, '{"decision": "reject"}', settings).comment is None


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "decision", "decision: is required"),
        (
            {"decision": "APPROVE"},
            "decision",
            'decision: must be one of approve, reject, got a string "APPROVE"',
        ),
        ({"decision": "reject", "comment": 5}, "comment", "comment: must be a string, got a number 5"),
        (
            {"decision": "reject", "comment": "x" * 1001},
            "comment",
            "comment: must be at most 1000 characters",
        ),
        ({"decision": "reject", "approver": "me"}, "approver", 'unexpected field "approver"'),
        ({"decision": "approve", "planDigest": "xyz"}, "planDigest", None),
        ({"decision": "approve", "planDigest": "ab" * 32, "remediationIds": []}, "remediationIds", None),
    ],
)
def test_approval_request_invalid_field_is_named(
    settings: ApiSettings, body: dict[str, Any], field: str, message: str
) -> None:
    err = bad(ApprovalRequest, json.dumps(body), settings)
    assert err.field == field
    if message is not None:
        assert err.message == message
