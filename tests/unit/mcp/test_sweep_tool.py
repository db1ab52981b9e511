"""The read-only sweep tools, get_sweep and list_sweeps, in-process through the SDK's Client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcp import Client

from secagent.client import ApiResponse
from tests.unit.mcp.fakes import FakeApi, FakeBackend, payload, text, with_client

SWEEP_ID = "sweep-7f3c9e1d"
OWN, BROKEN = "111111111111", "333333333333"


@dataclass
class FakeSweepApi(FakeApi):
    """The audit API's fake with the sweep routes (answers keyed by (method, sweepId))."""

    def get_sweep(self, sweep_id: str) -> ApiResponse:
        self.calls.append(("get_sweep", sweep_id))
        return self._answer("get_sweep", sweep_id)

    def sweep_report(self, sweep_id: str, fmt: str = "json") -> ApiResponse:
        self.calls.append(("sweep_report", sweep_id, fmt))
        return self._answer("sweep_report", sweep_id)

    def list_sweeps(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse:
        self.calls.append(("list_sweeps", limit, next_token))
        return self._answer("list_sweeps")

    def __getattr__(self, name: str) -> Any:
        # Anything that starts work (a sweep, its audits) must never be reached from a tool.
        if name.startswith("start_") or name in {"decide", "resume", "rollback"}:
            raise AssertionError(f"a sweep tool called {name}")
        raise AttributeError(name)


def sweep(status: str = "SUCCEEDED") -> dict[str, Any]:
    return {
        "sweepId": SWEEP_ID,
        "status": status,
        "accounts": [OWN, BROKEN],
        "progress": {"total": 40, "done": 40 if status != "RUNNING" else 12, "failed": 1, "remaining": 0},
        "listing": [
            {"accountId": OWN, "status": "LISTED", "resources": 40, "error": None},
            {
                "accountId": BROKEN,
                "status": "FAILED",
                "resources": 0,
                "error": {"error": "AccessDenied", "message": "the member role is missing"},
            },
        ],
        "summary": None
        if status == "RUNNING"
        else {
            "resources": 40,
            "compliant": 30,
            "nonCompliant": 9,
            "unjudged": 1,
            "failingBySeverity": {"critical": 1, "high": 3, "medium": 5, "low": 0, "info": 0},
        },
    }


def failing_resource(n: int) -> dict[str, Any]:
    return {
        "accountId": OWN,
        "region": "us-east-1",
        "resource": {"type": "AWS::S3::Bucket", "id": f"bucket-{n:02d}"},
        "resourceArn": f"arn:aws:s3:::bucket-{n:02d}",
        "worst": "CRITICAL" if n == 0 else "HIGH",
        "failing": 2,
        "failingBySeverity": {"critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0},
        "checks": [{"checkId": "s3_bucket_policy_public", "severity": "CRITICAL", "controls": []}],
    }


def report(resources: int = 12) -> dict[str, Any]:
    return {
        "schemaVersion": "1",
        "sweepId": SWEEP_ID,
        "complete": False,
        "incompleteReasons": [
            {"reason": "ACCOUNT_NOT_LISTED", "accountId": BROKEN, "count": 1, "message": "not listed"}
        ],
        "failingResources": [failing_resource(n) for n in range(resources)],
    }


def call(api: FakeApi, name: str, arguments: dict[str, Any]) -> Any:
    async def body(client: Client) -> Any:
        return await client.call_tool(name, arguments)

    return with_client(FakeBackend(api_or_error=api), body)


def test_a_finished_sweep_gives_status_progress_summary_and_its_worst_failing_resources() -> None:
    api = FakeSweepApi(
        {
            ("get_sweep", SWEEP_ID): ApiResponse(200, sweep()),
            ("sweep_report", SWEEP_ID): ApiResponse(200, report()),
        }
    )
    result = payload(call(api, "get_sweep", {"sweepId": SWEEP_ID}))
    assert result["status"] == "SUCCEEDED" and result["progress"]["done"] == 40
    assert result["summary"]["failingBySeverity"]["critical"] == 1
    broken = next(e for e in result["listing"] if e["status"] == "FAILED")
    assert broken["accountId"] == BROKEN and broken["error"]["error"] == "AccessDenied"
    assert result["complete"] is False and result["incompleteReasons"][0]["accountId"] == BROKEN
    assert result["failingResourceCount"] == 12
    top = result["topFailingResources"]
    assert len(top) == 10 and top[0]["resource"]["id"] == "bucket-00" and top[0]["worst"] == "CRITICAL"
    assert "failingBySeverity" not in top[0]  # kept short: the report has the rest
    assert api.calls == [("get_sweep", SWEEP_ID), ("sweep_report", SWEEP_ID, "json")]


def test_a_running_sweep_is_its_status_alone() -> None:
    api = FakeSweepApi({("get_sweep", SWEEP_ID): ApiResponse(200, sweep("RUNNING"))})
    result = payload(call(api, "get_sweep", {"sweepId": SWEEP_ID}))
    assert result["status"] == "RUNNING" and result["progress"]["remaining"] == 0
    assert "topFailingResources" not in result
    assert api.calls == [("get_sweep", SWEEP_ID)]


def test_a_report_the_api_refuses_leaves_the_status_and_says_why() -> None:
    refused = ApiResponse(404, {"error": "NotFound", "message": "no posture report was written"})
    api = FakeSweepApi(
        {("get_sweep", SWEEP_ID): ApiResponse(200, sweep("FAILED")), ("sweep_report", SWEEP_ID): refused}
    )
    result = payload(call(api, "get_sweep", {"sweepId": SWEEP_ID}))
    assert result["status"] == "FAILED"
    assert "no posture report was written" in result["reportError"]


def test_an_unknown_sweep_is_a_tool_error_with_the_apis_message() -> None:
    result = call(FakeSweepApi({}), "get_sweep", {"sweepId": SWEEP_ID})
    assert result.is_error and "404" in text(result)


def test_a_malformed_sweep_id_never_reaches_the_api() -> None:
    api = FakeSweepApi({})
    for bad in ("../x", "a/b", f"{SWEEP_ID}\n", "x" * 81):
        result = call(api, "get_sweep", {"sweepId": bad})
        assert result.is_error and "Invalid arguments for get_sweep: sweepId" in text(result), text(result)
    assert api.calls == []


def test_list_sweeps_passes_the_page_it_asks_for() -> None:
    page = {"sweeps": [{"sweepId": SWEEP_ID, "status": "RUNNING"}], "nextToken": "t2"}
    api = FakeSweepApi({("list_sweeps",): ApiResponse(200, page)})
    assert payload(call(api, "list_sweeps", {"limit": 5, "nextToken": "t1"})) == page
    assert api.calls == [("list_sweeps", 5, "t1")]


def test_the_sweep_tools_are_read_only_and_none_starts_a_sweep_or_its_fixes() -> None:
    async def body(client: Client) -> Any:
        return (await client.list_tools()).tools

    listed = {tool.name: tool for tool in with_client(FakeBackend(), body)}
    for name in ("get_sweep", "list_sweeps"):
        annotations = listed[name].annotations
        assert annotations.read_only_hint is True and annotations.destructive_hint is False, name
    assert not [name for name in listed if "sweep" in name and not name.startswith(("get_", "list_"))]
    assert listed["get_sweep"].input_schema["properties"]["sweepId"]["pattern"] == "^[A-Za-z0-9-]{1,80}$"
    assert "secagent sweep remediate" in (listed["get_sweep"].description or "")
