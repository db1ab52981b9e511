"""Tool arguments naming a resource or an audit: a trailing newline is refused before the backend is used.

Bucket names and security group ids go through secagent.discovery.names (Python `re`, full
matches), by way of the tools' own check of the id against its type. Audit ids have a
`pattern=` that pydantic-core runs with its Rust regex (where `$` is the end of the text) and an
after-validator with `re.fullmatch`, so the check holds on either engine.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from mcp.shared.exceptions import MCPError
from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from secagent.client import ApiResponse
from secagent.mcp.inputs import AUDIT_ID_PATTERN, AuditId
from tests.unit.checks.snapshots import BUCKET
from tests.unit.mcp.fakes import FakeApi, FakeBackend, text
from tests.unit.mcp.test_server import AUDIT_ID, call, public_snapshot, read

ENDS = ["\n", "\r\n"]


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize(
    "tool", ["discover_resource", "analyze_resource", "propose_remediation", "start_audit"]
)
def test_a_bucket_name_with_a_trailing_newline_is_a_tool_error(tool, end):
    backend = FakeBackend(public_snapshot())
    result = call(backend, tool, {"resourceId": f"{BUCKET}{end}"})
    assert result.is_error
    assert "is not a valid S3 bucket name" in text(result)
    assert backend.discovered == [] and backend.api_or_error.calls == []


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize(
    "tool", ["discover_resource", "analyze_resource", "propose_remediation", "start_audit"]
)
def test_a_security_group_id_with_a_trailing_newline_is_a_tool_error(tool, end):
    backend = FakeBackend(public_snapshot())
    arguments = {"resourceId": f"sg-0123abcd{end}", "resourceType": "AWS::EC2::SecurityGroup"}
    result = call(backend, tool, arguments)
    assert result.is_error
    assert "is not a valid security group id" in text(result)
    assert backend.discovered == [] and backend.api_or_error.calls == []


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [("get_audit", {}), ("decide_approval", {"decision": "reject"})],
)
def test_an_audit_id_with_a_trailing_newline_is_a_tool_error(tool, arguments, end):
    api = FakeApi({("get_audit", AUDIT_ID): ApiResponse(200, {"auditId": AUDIT_ID, "status": "RUNNING"})})
    backend = FakeBackend(api_or_error=api)
    result = call(backend, tool, {"auditId": f"{AUDIT_ID}{end}", **arguments})
    assert result.is_error and "auditId" in text(result)
    assert api.calls == []


@pytest.mark.parametrize("end", ["%0A", "%0D%0A"])
def test_the_report_resource_refuses_an_audit_id_with_a_trailing_newline(end):
    api = FakeApi({("get_audit", AUDIT_ID): ApiResponse(200, {"auditId": AUDIT_ID, "status": "SUCCEEDED"})})
    error = read(FakeBackend(api_or_error=api), f"audit://{AUDIT_ID}{end}/report")
    assert isinstance(error, MCPError)
    assert api.calls == []


@pytest.mark.parametrize("engine", ["rust-regex", "python-re"])
@pytest.mark.parametrize("end", ENDS)
def test_audit_id_type_refuses_a_trailing_newline_on_either_regex_engine(engine, end):
    adapter = TypeAdapter(AuditId, config=ConfigDict(regex_engine=engine))
    assert adapter.validate_python(AUDIT_ID) == AUDIT_ID
    with pytest.raises(ValidationError):
        adapter.validate_python(f"{AUDIT_ID}{end}")


def test_the_published_pattern_alone_would_not_be_enough_under_python_re():
    """Why AuditId also full-matches: `$` under Python's `re` matches before a final newline."""
    bare = TypeAdapter(
        Annotated[str, Field(pattern=AUDIT_ID_PATTERN)], config=ConfigDict(regex_engine="python-re")
    )
    assert bare.validate_python(f"{AUDIT_ID}\n") == f"{AUDIT_ID}\n"
    assert TypeAdapter(AuditId).json_schema()["pattern"] == AUDIT_ID_PATTERN  # still published
