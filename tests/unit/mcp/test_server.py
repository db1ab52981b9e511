"""The MCP server in-process through the SDK's own Client, on a fake backend."""

from __future__ import annotations

import json
import urllib.error
from typing import Any

import pytest
from botocore.exceptions import NoCredentialsError
from mcp import Client
from mcp.shared.exceptions import MCPError

from secagent.checks.registry import analyze, checks_for, registry
from secagent.client import ApiResponse
from secagent.mcp.backend import ServerSettings
from secagent.mcp.errors import StackNotDeployed
from secagent.models import AgentSettings, Probe, ResourceNotFound, TransientError
from tests.unit.checks.groups import GROUP_ID
from tests.unit.checks.snapshots import BUCKET, exposed
from tests.unit.mcp.fakes import FakeApi, FakeBackend, open_ssh_group, payload, text, with_client

AUDIT_ID = "0b7f3c9e-1d2a-4c5b-8e6f-7a8b9c0d1e2f"
READ_ONLY = {
    "list_checks",
    "discover_resource",
    "analyze_resource",
    "propose_remediation",
    "get_audit",
    "get_sweep",
    "list_sweeps",
}
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}


def public_snapshot():
    """A bucket whose policy lets anyone read: Block Public Access is off (at both levels), so
    RestrictPublicBuckets does not neutralise it."""
    return exposed(policy=Probe(value=PUBLIC_POLICY))


def tools(backend: FakeBackend | None = None) -> dict[str, Any]:
    async def body(client: Client) -> Any:
        return (await client.list_tools()).tools

    return {tool.name: tool for tool in with_client(backend or FakeBackend(), body)}


def call(backend: FakeBackend, name: str, arguments: dict[str, Any]) -> Any:
    async def body(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    return with_client(backend, body)


# --- tool list and schemas ---


def test_the_nine_tools_are_listed_with_typed_input_schemas():
    listed = tools()
    assert set(listed) == {
        "list_checks",
        "discover_resource",
        "analyze_resource",
        "propose_remediation",
        "start_audit",
        "get_audit",
        "decide_approval",
        "get_sweep",
        "list_sweeps",
    }
    for name in ("discover_resource", "analyze_resource", "propose_remediation", "start_audit"):
        schema = listed[name].input_schema
        assert schema["required"] == ["resourceId"]
        assert schema["properties"]["resourceId"] | {"description": ""} == {
            "type": "string",
            "minLength": 3,
            "maxLength": 63,
            "title": "Resource id",
            "description": "",
        }
        assert "sg-0123abcd" in schema["properties"]["resourceId"]["description"]
        resource_type = schema["properties"]["resourceType"]
        assert resource_type["anyOf"][0]["enum"] == ["AWS::S3::Bucket", "AWS::EC2::SecurityGroup"]
        assert resource_type["default"] is None and "read from the id" in resource_type["description"]
    start = listed["start_audit"].input_schema
    assert start["properties"]["mode"]["enum"] == ["plan", "remediate"]
    assert start["properties"]["mode"]["default"] == "plan"
    timeout = start["properties"]["approvalTimeoutSeconds"]["anyOf"][0]
    assert timeout == {"type": "integer", "minimum": 60, "maximum": 604800}
    for name in ("get_audit", "decide_approval"):
        audit_id = listed[name].input_schema["properties"]["auditId"]
        assert audit_id["pattern"] == "^[A-Za-z0-9-]{1,80}$"  # the API's (secagent.models.records.AUDIT_ID)
    decide = listed["decide_approval"].input_schema
    assert decide["required"] == ["auditId", "decision"]
    assert decide["properties"]["decision"]["enum"] == ["approve", "reject"]
    assert decide["properties"]["comment"]["anyOf"][0] == {"type": "string", "maxLength": 1000}
    # No digest, preview or answer the model could give: the server fetches and asks for those
    assert set(decide["properties"]) == {"auditId", "decision", "comment", "remediationIds"}
    severity = listed["list_checks"].input_schema["$defs"]["Severity"]
    assert severity["enum"] == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]
    for tool in listed.values():
        assert tool.description and len(tool.description) > 80
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"


def test_annotations_tell_reading_tools_from_the_ones_that_lead_to_changes():
    listed = tools()
    for name in READ_ONLY:
        assert listed[name].annotations.read_only_hint is True, name
    assert listed["start_audit"].annotations.read_only_hint is False
    assert listed["start_audit"].annotations.destructive_hint is False
    assert listed["decide_approval"].annotations.destructive_hint is True


def test_no_tool_applies_a_change_directly():
    listed = tools()
    assert not [name for name in listed if any(word in name for word in ("apply", "fix", "put", "delete"))]
    assert "only after a human approves" in listed["propose_remediation"].description
    assert "explicit decision" in listed["decide_approval"].description


def test_get_audit_tells_the_model_every_outcome_and_what_it_means():
    from secagent.models.outcome import Outcome

    described = tools()["get_audit"].description or ""
    assert all(f"{o.value} = {o.wording}" in described for o in Outcome)


def test_descriptions_come_from_the_registry():
    checks = registry()
    listed = tools()
    analyze_text = listed["analyze_resource"].description
    for check_id, check in checks.items():
        assert check_id in analyze_text
        assert all(control in analyze_text for control in check.meta.controls)
    assert f"the {len(checks)} security checks" in listed["list_checks"].description
    remediations = {c.meta.remediation_id for c in checks.values() if c.remediate}
    assert all(r in listed["propose_remediation"].description for r in remediations)


def test_disabled_checks_leave_the_analyze_description_and_are_listed_as_disabled():
    disabled = "s3_bucket_mfa_delete_disabled"
    settings = ServerSettings(agent=AgentSettings(disabled_checks=frozenset({disabled})))
    backend = FakeBackend(settings=settings)
    listed = tools(backend)
    assert disabled not in listed["analyze_resource"].description
    assert f"Disabled in this deployment: {disabled}" in listed["list_checks"].description
    checks = payload(call(backend, "list_checks", {}))["checks"]
    assert [c["enabled"] for c in checks if c["id"] == disabled] == [False]


# --- read-only tools on the domain layer ---


def test_list_checks_gives_ids_severities_controls_and_filters_by_severity():
    everything = payload(call(FakeBackend(), "list_checks", {}))
    assert everything["count"] == len(registry())
    first = everything["checks"][0]
    assert set(first) >= {
        "id",
        "title",
        "severity",
        "controls",
        "remediationId",
        "enabled",
        "autoRemediation",
    }
    high = payload(call(FakeBackend(), "list_checks", {"severity": "HIGH"}))
    assert high["count"] == sum(c.meta.severity == "HIGH" for c in registry().values()) > 0
    assert {c["severity"] for c in high["checks"]} == {"HIGH"}


def test_discover_resource_returns_the_snapshot():
    backend = FakeBackend(public_snapshot())
    result = payload(call(backend, "discover_resource", {"resourceId": BUCKET}))
    assert backend.discovered == [BUCKET]
    assert result["resource"] == {"type": "AWS::S3::Bucket", "id": BUCKET}
    assert result["config"]["policy"]["value"] == PUBLIC_POLICY


def test_analyze_resource_returns_the_same_findings_as_the_domain_layer():
    backend = FakeBackend(public_snapshot())
    result = payload(call(backend, "analyze_resource", {"resourceId": BUCKET}))
    expected = analyze(public_snapshot(), AgentSettings()).to_json_dict()
    assert result["summary"] == expected["summary"]
    assert [(f["checkId"], f["status"]) for f in result["findings"]] == [
        (f["checkId"], f["status"]) for f in expected["findings"]
    ]
    policy = next(f for f in result["findings"] if f["checkId"] == "s3_bucket_policy_public")
    # anyone may read (s3:GetObject), nobody may write: S3.2 only
    assert policy["status"] == "FAIL" and policy["controls"] == ["FSBP:S3.2"]


def test_propose_remediation_proposes_without_applying():
    backend = FakeBackend(public_snapshot())
    result = payload(call(backend, "propose_remediation", {"resourceId": BUCKET}))
    assert result["applied"] is False
    assert "start_audit" in result["howToApply"]
    plan = next(p for p in result["plans"] if "s3_bucket_policy_public" in p["checkIds"])
    assert plan["cliCommand"].startswith("aws s3api ")
    assert result["summary"]["fail"] >= 1
    assert backend.api_or_error.calls == []  # the API is not involved, nothing started


# --- errors: isError with one sentence, and the server keeps serving ---


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"resourceId": "Bad_Bucket"},
            'resourceId: "Bad_Bucket" is not a valid S3 bucket name: only lowercase',
        ),
        (
            {"resourceId": "ab"},
            'resourceId: "ab" is not a valid S3 bucket name: must be 3 to 63 characters long',
        ),
        ({"resourceId": "192.168.1.1"}, "must not be formatted as an IP address"),
        ({}, "resourceId is required"),
        ({"resourceId": 42}, "resourceId must be a string, got 42"),
        (
            {"resourceId": "my-team-logs", "resourceType": "AWS::EC2::SecurityGroup"},
            'resourceId: "my-team-logs" is not a valid security group id: must be "sg-" followed by 8 or 17',
        ),
        ({"resourceId": "sg-0123abcd", "resourceType": "AWS::EC2::Instance"}, "resourceType must be one of"),
    ],
)
def test_bad_resource_arguments_are_tool_errors_naming_the_problem(arguments, expected):
    backend = FakeBackend(public_snapshot())
    for name in ("discover_resource", "analyze_resource", "propose_remediation", "start_audit"):
        result = call(backend, name, arguments)
        assert result.is_error
        assert text(result).startswith(f"Invalid arguments for {name}: ")
        assert expected in text(result)
        assert "pydantic" not in text(result)
    assert backend.discovered == []
    assert backend.api_or_error.calls == []


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        (
            "start_audit",
            {"resourceId": BUCKET, "mode": "fix"},
            'mode must be one of plan, remediate, got "fix"',
        ),
        (
            "start_audit",
            {"resourceId": BUCKET, "approvalTimeoutSeconds": 5},
            "approvalTimeoutSeconds must be greater than or equal to 60, got 5",
        ),
        ("get_audit", {"auditId": "../etc"}, 'auditId "../etc" does not match ^[A-Za-z0-9-]{1,80}$'),
        ("get_audit", {}, "auditId is required"),
        ("decide_approval", {"auditId": AUDIT_ID}, "decision is required"),
        (
            "decide_approval",
            {"auditId": AUDIT_ID, "decision": "maybe"},
            'decision must be one of approve, reject, got "maybe"',
        ),
        ("decide_approval", {"auditId": AUDIT_ID, "decision": "approve", "comment": "x" * 1001}, "comment:"),
        ("list_checks", {"severity": "URGENT"}, "severity must be one of CRITICAL, HIGH, MEDIUM, LOW, INFO"),
    ],
)
def test_bad_arguments_never_reach_the_api(name, arguments, expected):
    backend = FakeBackend()
    result = call(backend, name, arguments)
    assert result.is_error
    assert expected in text(result)
    assert backend.api_or_error.calls == []


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ResourceNotFound(f"bucket {BUCKET} does not exist"), f"Bucket {BUCKET} does not exist."),
        (TransientError("HeadBucket on b: SlowDown"), "HeadBucket on b: SlowDown"),
        (NoCredentialsError(), "No AWS credentials found"),
    ],
)
def test_domain_failures_are_tool_errors(error, expected):
    result = call(FakeBackend(error), "analyze_resource", {"resourceId": BUCKET})
    assert result.is_error
    assert expected in text(result)


def test_a_bug_is_a_generic_tool_error_and_the_server_keeps_serving():
    backend = FakeBackend(RuntimeError("internal detail arn:aws:iam::123:role/x"))

    async def body(client: Client) -> Any:
        broken = await client.call_tool("discover_resource", {"resourceId": BUCKET})
        backend.snapshot_or_error = public_snapshot()
        working = await client.call_tool("discover_resource", {"resourceId": BUCKET})
        return broken, working

    broken, working = with_client(backend, body)
    assert broken.is_error
    assert text(broken) == "Error executing tool discover_resource"
    assert payload(working)["resource"]["id"] == BUCKET


# --- audit tools through the API ---


def test_start_audit_goes_through_the_api():
    api = FakeApi({("start_audit",): ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"})})
    result = payload(
        call(
            FakeBackend(api_or_error=api),
            "start_audit",
            {"resourceId": BUCKET, "mode": "remediate", "approvalTimeoutSeconds": 600},
        )
    )
    assert api.calls == [("start_audit", BUCKET, "remediate", 600, "AWS::S3::Bucket")]
    assert result == {
        "auditId": AUDIT_ID,
        "status": "RUNNING",
        "reportResource": f"audit://{AUDIT_ID}/report",
    }


def test_start_audit_defaults_to_plan_mode():
    api = FakeApi({("start_audit",): ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"})})
    payload(call(FakeBackend(api_or_error=api), "start_audit", {"resourceId": BUCKET}))
    assert api.calls == [("start_audit", BUCKET, "plan", None, "AWS::S3::Bucket")]


@pytest.mark.parametrize(
    ("arguments", "resource_type"),
    [
        ({"resourceId": "sg-0123abcd"}, "AWS::EC2::SecurityGroup"),  # read from the id
        ({"resourceId": "sg-0123abcd", "resourceType": "AWS::EC2::SecurityGroup"}, "AWS::EC2::SecurityGroup"),
        ({"resourceId": "sg-0123abcd", "resourceType": "AWS::S3::Bucket"}, "AWS::S3::Bucket"),  # named so
    ],
)
def test_start_audit_of_a_security_group_names_its_type_to_the_api(arguments, resource_type):
    api = FakeApi({("start_audit",): ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"})})
    payload(call(FakeBackend(api_or_error=api), "start_audit", arguments))
    assert api.calls == [("start_audit", "sg-0123abcd", "plan", None, resource_type)]


@pytest.mark.parametrize("tool", ["discover_resource", "analyze_resource", "propose_remediation"])
def test_the_read_only_tools_discover_a_security_group_by_its_id(tool):
    backend = FakeBackend(open_ssh_group())
    result = payload(call(backend, tool, {"resourceId": GROUP_ID}))
    assert (backend.discovered, backend.discovered_types) == ([GROUP_ID], ["AWS::EC2::SecurityGroup"])
    if tool == "analyze_resource":
        ssh = next(f for f in result["findings"] if f["checkId"] == "ec2_security_group_ssh_open_to_internet")
        assert ssh["status"] == "FAIL"
        assert {f["checkId"] for f in result["findings"]} <= set(checks_for("AWS::EC2::SecurityGroup"))
    if tool == "propose_remediation":
        assert any(p["cliCommand"].startswith("aws ec2 ") for p in result["plans"])


def test_descriptions_name_both_resource_types_and_their_fields():
    listed = tools()
    discover = listed["discover_resource"].description or ""
    assert (
        "S3 bucket: publicAccessBlock" in discover and "EC2 security group: group, ingressRules" in discover
    )
    analyze_text = listed["analyze_resource"].description or ""
    assert f"S3 bucket: {len(checks_for('AWS::S3::Bucket'))} checks: " in analyze_text
    assert f"EC2 security group: {len(checks_for('AWS::EC2::SecurityGroup'))} checks: " in analyze_text
    assert "S3 bucket or EC2 security group" in (listed["start_audit"].description or "")
    checks = payload(call(FakeBackend(), "list_checks", {}))["checks"]
    assert {c["resourceType"] for c in checks} == {"AWS::S3::Bucket", "AWS::EC2::SecurityGroup"}


def test_get_audit_points_at_the_report_resource_instead_of_inlining_it():
    body = {"auditId": AUDIT_ID, "status": "SUCCEEDED", "outcome": "REMEDIATED", "report": {"outcome": "X"}}
    api = FakeApi({("get_audit", AUDIT_ID): ApiResponse(200, body)})
    result = payload(call(FakeBackend(api_or_error=api), "get_audit", {"auditId": AUDIT_ID}))
    assert "report" not in result
    assert result["reportResource"] == f"audit://{AUDIT_ID}/report"
    assert result["outcome"] == "REMEDIATED"


def test_a_rejection_goes_through_the_api_without_asking_anyone():
    api = FakeApi({("decide", AUDIT_ID): ApiResponse(200, {"auditId": AUDIT_ID, "decision": "reject"})})
    arguments = {"auditId": AUDIT_ID, "decision": "reject", "comment": "not now"}
    result = payload(call(FakeBackend(api_or_error=api), "decide_approval", arguments))
    assert api.calls == [("decide", AUDIT_ID, "reject", "not now")]
    assert api.bindings == [{"planDigest": None, "remediationIds": None}]
    assert result == {"auditId": AUDIT_ID, "decision": "reject"}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            ApiResponse(
                409, {"error": "Conflict", "message": f'Audit "{AUDIT_ID}" was already decided (approve).'}
            ),
            f'refused the request (409 Conflict): Audit "{AUDIT_ID}" was already decided (approve).',
        ),
        (
            ApiResponse(404, {"error": "NotFound", "message": f'There is no audit with id "{AUDIT_ID}".'}),
            "(404 NotFound): There is no audit with id",
        ),
        (
            ApiResponse(403, {"message": "Missing Authentication Token"}),
            "(403 Error): Missing Authentication Token",
        ),
        (ApiResponse(502, "<html>Bad gateway</html>"), '(502 Error): "<html>Bad gateway</html>"'),
        (
            urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
            "Cannot reach the audit API",
        ),
        (TimeoutError(), "did not answer in time"),
    ],
)
def test_api_failures_are_tool_errors_with_the_apis_message(answer, expected):
    api = FakeApi({("decide", AUDIT_ID): answer})
    result = call(
        FakeBackend(api_or_error=api), "decide_approval", {"auditId": AUDIT_ID, "decision": "reject"}
    )
    assert result.is_error
    assert expected in text(result)


def test_api_400_names_the_field():
    answer = ApiResponse(
        400, {"error": "InvalidRequest", "message": "must be between 60 and 900", "field": "x"}
    )
    api = FakeApi({("start_audit",): answer})
    result = call(FakeBackend(api_or_error=api), "start_audit", {"resourceId": BUCKET})
    assert result.is_error
    assert text(result) == (
        "Error executing tool start_audit: "
        "The audit API refused the request (400 InvalidRequest): must be between 60 and 900 (field x)"
    )


def test_a_missing_stack_is_a_tool_error_saying_what_to_do():
    missing = StackNotDeployed("The stack SecurityAgent is not deployed in region us-east-1: deploy it.")
    result = call(FakeBackend(api_or_error=missing), "get_audit", {"auditId": AUDIT_ID})
    assert result.is_error
    assert text(result) == f"Error executing tool get_audit: {missing}"


# --- the report resource ---


def read(backend: FakeBackend, uri: str) -> Any:
    """The ReadResourceResult, or the MCPError the client raised (caught inside the session)."""

    async def body(client: Client) -> Any:
        try:
            return await client.read_resource(uri)
        except MCPError as exc:
            return exc

    return with_client(backend, body)


def test_report_resource_template_is_listed():
    async def body(client: Client) -> Any:
        return (await client.list_resource_templates()).resource_templates

    (template,) = with_client(FakeBackend(), body)
    assert template.uri_template == "audit://{auditId}/report"
    assert template.mime_type == "application/json"


def test_report_resource_reads_the_report_through_the_api():
    report = {"auditId": AUDIT_ID, "outcome": "REMEDIATED", "schemaVersion": "1"}
    body = {"auditId": AUDIT_ID, "status": "SUCCEEDED", "report": report}
    api = FakeApi({("get_audit", AUDIT_ID): ApiResponse(200, body)})
    result = read(FakeBackend(api_or_error=api), f"audit://{AUDIT_ID}/report")
    (content,) = result.contents
    assert content.mime_type == "application/json"
    assert json.loads(content.text) == report
    assert api.calls == [("get_audit", AUDIT_ID)]


def test_report_of_a_running_audit_is_an_error_saying_so():
    body = {"auditId": AUDIT_ID, "status": "RUNNING", "currentStep": "Analyze Configuration"}
    api = FakeApi({("get_audit", AUDIT_ID): ApiResponse(200, body)})
    error = read(FakeBackend(api_or_error=api), f"audit://{AUDIT_ID}/report")
    assert isinstance(error, MCPError)
    assert f"Audit {AUDIT_ID} has no report yet: it is RUNNING (step: Analyze Configuration)." in str(error)


@pytest.mark.parametrize("audit_id", [AUDIT_ID, "not%20an%20id"])
def test_report_of_an_unknown_audit_is_not_found(audit_id):
    error = read(FakeBackend(), f"audit://{audit_id}/report")
    assert isinstance(error, MCPError)
    assert error.error.code == -32602  # INVALID_PARAMS: the resource does not exist
    assert "audit" in str(error)
