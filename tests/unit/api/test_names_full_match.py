"""Bucket names and audit ids are checked with a full match: a trailing newline is not accepted.

Python's `re.match(r"^...$", ...)` accepts "my-bucket\n" (`$` matches before a final newline). A
bucket "my-bucket\n" would also take a different lock (locks/<type>/<id>.json) than "my-bucket",
so the one-audit-per-bucket guard would not see it. Pydantic's own `pattern=` runs on the Rust
regex engine by default, where `$` is the end of the text: checked here as well.
"""

import json
from typing import Annotated, Any

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic import Field as PydanticField

from secagent.api import (
    ApiSettings,
    ApprovalRequest,
    BadRequest,
    ListAuditsQuery,
    NotFound,
    StartAuditRequest,
    get_audit,
    parse_body,
    resume_audit,
)
from secagent.api.aws import describe_execution
from secagent.api.parsing import parse_query
from secagent.discovery.names import bucket_name_problem, validate_bucket_name
from secagent.models.errors import InvalidInput
from tests.unit.api.conftest import AUDIT_ID, EXECUTION_ARN, INPUT
from tests.unit.api.fakes import FakeStepFunctions

ENDS = ["\n", "\r\n"]


@pytest.mark.parametrize("name", ["my-bucket\n", "my-bucket\r\n", "my-bucket\n\n", "my\nbucket", "abc\n"])
def test_bucket_names_are_full_matches(name: str) -> None:
    assert bucket_name_problem(name) is not None
    with pytest.raises(InvalidInput):
        validate_bucket_name(name)
    if name.rstrip() != name:
        assert bucket_name_problem(name.rstrip()) is None  # the same name without its line ending is fine


@pytest.mark.parametrize("end", ENDS)
def test_start_audit_body_refuses_a_bucket_name_with_a_trailing_newline(
    settings: ApiSettings, end: str
) -> None:
    body = json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": f"customer-data{end}"}})
    with pytest.raises(BadRequest) as caught:
        parse_body(StartAuditRequest, body, settings)
    assert caught.value.field == "resource.id"
    assert "is not a valid S3 bucket name" in caught.value.message
    assert "\n" not in caught.value.message and "\r" not in caught.value.message  # shown escaped


@pytest.mark.parametrize("end", ENDS)
def test_list_query_refuses_a_bucket_name_with_a_trailing_newline(settings: ApiSettings, end: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_query(ListAuditsQuery, {"resource": f"customer-data{end}"}, settings)
    assert "is not a valid S3 bucket name" in caught.value.message


@pytest.mark.parametrize("end", ENDS)
def test_an_audit_id_with_a_trailing_newline_is_not_found_and_never_sent(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, end: str
) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="FAILED")  # the real audit exists
    for action in (
        lambda: describe_execution(sfn, settings.execution_arn(AUDIT_ID + end), AUDIT_ID + end),
        lambda: get_audit(AUDIT_ID + end, sfn, s3, settings),
        lambda: resume_audit(AUDIT_ID + end, sfn, s3, settings),
    ):
        with pytest.raises(NotFound) as caught:
            action()
        assert "\n" not in caught.value.message  # shown escaped
    assert sfn.called("DescribeExecution") == []  # refused before Step Functions is asked


def test_a_valid_audit_id_is_still_described(sfn: FakeStepFunctions, settings: ApiSettings) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    assert describe_execution(sfn, EXECUTION_ARN, AUDIT_ID)["name"] == AUDIT_ID


@pytest.mark.parametrize("end", ENDS)
def test_plan_digest_pattern_runs_on_an_engine_where_dollar_is_the_end(end: str) -> None:
    """ApprovalRequest's `pattern=` is pydantic-core's Rust regex: `$` does not match before a newline."""
    assert ApprovalRequest.model_config.get("regex_engine", "rust-regex") == "rust-regex"
    with pytest.raises(ValidationError):
        ApprovalRequest.model_validate({"decision": "approve", "planDigest": "ab" * 32 + end})
    # The same pattern under Python's `re` would let it through: why each engine is checked.
    python_re = TypeAdapter(
        Annotated[str, PydanticField(pattern=r"^[0-9a-f]{64}$")], config=ConfigDict(regex_engine="python-re")
    )
    assert python_re.validate_python("ab" * 32 + "\n") == "ab" * 32 + "\n"
