"""The MCP server as a client sees it: the SDK's stdio client spawns `python -m secagent.mcp.server`
against LocalStack and the deployed stack."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ElicitRequestParams, ElicitResult

from scripts.buckets import create_public_bucket
from scripts.localstack_client import ENDPOINT, REGION
from tests.deployed import approver_credentials

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
POLICY_CHECK = "s3_bucket_policy_public"
TOOLS = {
    "list_checks",
    "discover_resource",
    "analyze_resource",
    "propose_remediation",
    "start_audit",
    "get_audit",
    "decide_approval",
    "get_sweep",  # read-only: a sweep's progress and posture
    "list_sweeps",
}


REQUESTER = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


class Person:
    """The MCP client's user, answering the server's elicitation (accept and approve)."""

    def __init__(self) -> None:
        self.shown: list[ElicitRequestParams] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.shown.append(params)
        return ElicitResult(action="accept", content={"approve": True})


def server_parameters(credentials: dict[str, str] | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(PYTHON if PYTHON.exists() else Path(sys.executable)),
        args=["-m", "secagent.mcp.server", "--endpoint-url", ENDPOINT, "--region", REGION],
        # The SDK passes on only a safe subset of the environment: AWS settings go explicitly.
        env={**(credentials or REQUESTER), "AWS_DEFAULT_REGION": REGION},
        cwd=str(ROOT),
    )


def over_stdio(
    body: Callable[[ClientSession], Awaitable[Any]],
    *,
    credentials: dict[str, str] | None = None,
    person_answering: Person | None = None,
) -> Any:
    async def main() -> Any:
        options: dict[str, Any] = {"read_timeout_seconds": 60}
        if person_answering is not None:
            options["elicitation_callback"] = person_answering
        async with (
            stdio_client(server_parameters(credentials)) as (read, write),
            ClientSession(read, write, **options) as session,
        ):
            await session.initialize()
            return await body(session)

    return anyio.run(main)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result
    first = result.content[0]
    assert first.type == "text"
    return first.text


@pytest.fixture()
def public_bucket(aws) -> str:
    return create_public_bucket(aws("s3"), "mcp-public")


def test_tools_and_report_template_are_listed_with_typed_schemas(outputs):
    async def body(session: ClientSession) -> Any:
        return (await session.list_tools()).tools, (
            await session.list_resource_templates()
        ).resource_templates

    tools, templates = over_stdio(body)
    by_name = {tool.name: tool for tool in tools}
    assert set(by_name) == TOOLS
    assert by_name["analyze_resource"].input_schema["required"] == ["resourceId"]
    assert by_name["analyze_resource"].input_schema["properties"]["resourceId"]["maxLength"] == 63
    assert POLICY_CHECK in by_name["analyze_resource"].description
    assert by_name["start_audit"].input_schema["properties"]["mode"]["enum"] == ["plan", "remediate"]
    assert by_name["decide_approval"].input_schema["properties"]["decision"]["enum"] == ["approve", "reject"]
    assert by_name["get_audit"].input_schema["properties"]["auditId"]["pattern"] == "^[A-Za-z0-9-]{1,80}$"
    assert [t.uri_template for t in templates] == ["audit://{auditId}/report"]


def test_discover_and_analyze_a_public_bucket_and_bad_arguments_do_not_stop_the_server(public_bucket):
    async def body(session: ClientSession) -> Any:
        discovered = await session.call_tool("discover_resource", {"resourceId": public_bucket})
        bad_name = await session.call_tool("analyze_resource", {"resourceId": "Not_A_Bucket"})
        missing = await session.call_tool(
            "analyze_resource", {"resourceId": f"mcp-missing-{uuid.uuid4().hex[:8]}"}
        )
        analyzed = await session.call_tool("analyze_resource", {"resourceId": public_bucket})
        proposed = await session.call_tool("propose_remediation", {"resourceId": public_bucket})
        return discovered, bad_name, missing, analyzed, proposed

    discovered, bad_name, missing, analyzed, proposed = over_stdio(body)
    snapshot = structured(discovered)
    assert snapshot["resource"]["id"] == public_bucket
    assert snapshot["config"]["policy"]["value"]["Statement"][0]["Principal"] == "*"

    assert "Invalid arguments for analyze_resource: resourceId:" in error_text(bad_name)
    assert "is not a valid S3 bucket name" in error_text(bad_name)
    assert "does not exist" in error_text(missing)

    analysis = structured(analyzed)
    verdicts = {f["checkId"]: f["status"] for f in analysis["findings"]}
    assert verdicts[POLICY_CHECK] == "FAIL"
    assert analysis["summary"]["fail"] >= 1

    plans = structured(proposed)
    assert plans["applied"] is False
    assert any(POLICY_CHECK in plan["checkIds"] for plan in plans["plans"])


async def _wait_status(
    session: ClientSession, audit_id: str, wanted: set[str], timeout: float
) -> dict[str, Any]:
    status: dict[str, Any] = {}
    with anyio.move_on_after(timeout):
        while True:
            status = structured(await session.call_tool("get_audit", {"auditId": audit_id}))
            if status["status"] in wanted:
                return status
            await anyio.sleep(1)
    raise AssertionError(f"audit {audit_id} did not reach {wanted} in {timeout}s; last: {status}")


def test_remediate_audit_approved_through_mcp_makes_the_bucket_private(public_bucket):
    # Given an audit started through MCP (by the requester), waiting for approval
    async def start(session: ClientSession) -> Any:
        started = structured(
            await session.call_tool("start_audit", {"resourceId": public_bucket, "mode": "remediate"})
        )
        audit_id = started["auditId"]
        assert started["reportResource"] == f"audit://{audit_id}/report"
        # No report before the audit finishes: a resource error, and the server goes on.
        try:
            await session.read_resource(f"audit://{audit_id}/report")
            early: MCPError | None = None
        except MCPError as exc:
            early = exc
        waiting = await _wait_status(session, audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"}, 180)
        bad_decision = await session.call_tool("decide_approval", {"auditId": audit_id, "decision": "yes"})
        # A client with no person to ask (no elicitation) cannot approve, whatever the model passes
        unasked = await session.call_tool(
            "decide_approval",
            {"auditId": audit_id, "decision": "approve", "planDigest": waiting.get("planDigest")},
        )
        return audit_id, early, waiting, bad_decision, unasked

    audit_id, early, waiting, bad_decision, unasked = over_stdio(start)
    assert early is not None and "has no report yet" in str(early)
    assert waiting["status"] == "AWAITING_APPROVAL", waiting
    assert any(POLICY_CHECK in plan["checkIds"] for plan in waiting["pendingPlans"])
    assert 'decision must be one of approve, reject, got "yes"' in error_text(bad_decision)
    assert "must be made by a person" in error_text(unasked)

    # When the requester's own client asks its person, the API still refuses (four-eyes)
    async def approve(session: ClientSession) -> Any:
        return await session.call_tool(
            "decide_approval",
            {"auditId": audit_id, "decision": "approve", "comment": "approved via MCP test"},
        )

    own = over_stdio(approve, person_answering=Person())
    assert "four-eyes" in error_text(own)

    # When another person approves through their MCP client, after confirming what is applied
    other = Person()

    async def approve_and_follow(session: ClientSession) -> Any:
        decided = structured(await approve(session))
        twice = await approve(session)
        done = await _wait_status(session, audit_id, {"SUCCEEDED", "FAILED"}, 180)
        report = await session.read_resource(f"audit://{audit_id}/report")
        analyzed = structured(await session.call_tool("analyze_resource", {"resourceId": public_bucket}))
        return decided, twice, done, report, analyzed

    decided, twice, done, report, analyzed = over_stdio(
        approve_and_follow, credentials=approver_credentials(), person_answering=other
    )
    # Then the person was shown the plans and the digest, and the fixes are applied
    assert other.shown and public_bucket in other.shown[0].message
    assert decided["decision"] == "approve"
    assert twice.is_error
    assert done["status"] == "SUCCEEDED", done
    assert done["outcome"] == "PARTIALLY_REMEDIATED"  # unapproved and unfixable findings remain
    assert done["reportResource"] == f"audit://{done['auditId']}/report"

    (content,) = report.contents
    assert content.mime_type == "application/json"
    document = json.loads(content.text)
    assert document["outcome"] == "PARTIALLY_REMEDIATED"
    assert document["approval"]["decision"] == "approve"
    assert {f["checkId"]: f["status"] for f in analyzed["findings"]}[POLICY_CHECK] == "PASS"


def test_streamable_http_on_loopback_when_asked(outputs, tmp_path):
    port = _free_port()
    params = server_parameters()
    log = tmp_path / "mcp-http.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [params.command, *params.args, "--transport", "http", "--port", str(port)],
            cwd=params.cwd,
            env={**os.environ, **(params.env or {})},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        _wait_listening(port, process, log)

        async def main() -> Any:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                tools = (await client.list_tools()).tools
                checks = await client.call_tool("list_checks", {"severity": "CRITICAL"})
                return {t.name for t in tools}, checks

        names, checks = anyio.run(main)
        assert names == TOOLS
        assert {c["severity"] for c in structured(checks)["checks"]} <= {"CRITICAL"}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the HTTP server exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")
