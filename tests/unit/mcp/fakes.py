"""A backend without AWS: a fixed snapshot (or an exception) and a scripted audit API."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client
from mcp_types import CallToolResult

from secagent.client import ApiResponse
from secagent.mcp.backend import ServerSettings
from secagent.mcp.server import build_server
from secagent.models.snapshot import ResourceRef, SecurityGroupSnapshot, Snapshot
from tests.unit.checks.groups import open_to, rule


def open_ssh_group() -> SecurityGroupSnapshot:
    """A security group that lets anyone on the internet reach SSH."""
    return open_to(rule("tcp", 22, "0.0.0.0/0"))


@dataclass
class FakeApi:
    """Answers from `answers[(method, path)]`, default 404; records every call."""

    answers: dict[tuple[str, ...], ApiResponse | Exception] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    bindings: list[dict[str, Any]] = field(default_factory=list)  # planDigest / remediationIds sent

    def _answer(self, *key: str) -> ApiResponse:
        answer = self.answers.get(
            key, ApiResponse(404, {"error": "NotFound", "message": "There is no audit."})
        )
        if isinstance(answer, Exception):
            raise answer
        return answer

    def start_audit(
        self,
        resource_id: str,
        mode: str = "plan",
        approval_timeout_seconds: int | None = None,
        *,
        resource_type: str = "AWS::S3::Bucket",
    ) -> ApiResponse:
        self.calls.append(("start_audit", resource_id, mode, approval_timeout_seconds, resource_type))
        return self._answer("start_audit")

    def get_audit(self, audit_id: str) -> ApiResponse:
        self.calls.append(("get_audit", audit_id))
        return self._answer("get_audit", audit_id)

    def preview_approval(self, audit_id: str, remediation_ids: list[str] | None = None) -> ApiResponse:
        self.calls.append(("preview_approval", audit_id, remediation_ids))
        return self._answer("preview_approval", audit_id)

    def decide(
        self,
        audit_id: str,
        decision: str,
        comment: str | None = None,
        *,
        plan_digest: str | None = None,
        remediation_ids: list[str] | None = None,
    ) -> ApiResponse:
        self.calls.append(("decide", audit_id, decision, comment))
        self.bindings.append({"planDigest": plan_digest, "remediationIds": remediation_ids})
        return self._answer("decide", audit_id)


@dataclass
class FakeBackend:
    snapshot_or_error: Snapshot | Exception | None = None
    api_or_error: FakeApi | Exception = field(default_factory=FakeApi)
    settings: ServerSettings = field(default_factory=ServerSettings)
    discovered: list[str] = field(default_factory=list)  # the ids of the resources discovered
    discovered_types: list[str] = field(default_factory=list)

    def snapshot(self, resource: ResourceRef) -> Snapshot:
        self.discovered.append(resource.id)
        self.discovered_types.append(resource.type)
        if isinstance(self.snapshot_or_error, Exception):
            raise self.snapshot_or_error
        assert self.snapshot_or_error is not None, "this test gave the fake no snapshot"
        return self.snapshot_or_error

    def api(self) -> FakeApi:
        if isinstance(self.api_or_error, Exception):
            raise self.api_or_error
        return self.api_or_error


def with_client(backend: FakeBackend, body: Callable[[Client], Awaitable[Any]], **options: Any) -> Any:
    """Run `body(client)` against the server built on `backend`, in-process, through the SDK's Client.

    `options`: the Client's, e.g. `elicitation_callback` (the client then declares
    elicitation) or `mode="legacy"` (the pre-2026 handshake: elicitation as a server request);
    `approvals=False` builds the server as the HTTP transport does.
    """

    async def main() -> Any:
        approvals = options.pop("approvals", True)
        async with Client(build_server(backend=backend, approvals=approvals), **options) as client:
            return await body(client)

    return anyio.run(main)


def text(result: CallToolResult) -> str:
    assert result.content, result
    first = result.content[0]
    assert first.type == "text"
    return first.text


def payload(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    assert json.loads(text(result)) == result.structured_content
    return result.structured_content
