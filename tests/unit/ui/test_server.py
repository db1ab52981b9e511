"""The console server: route allow-list, CSRF and Host checks, API unreachable -> 502 JSON, assets."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from secagent.client import ApiResponse, ApiUnreachable
from secagent.ui import server as ui_server
from secagent.ui.server import Backend, Options, allowed_route, make_server


class FakeClient:
    """Records what the console forwards; answers like the API."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.unreachable = False

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        if self.unreachable:
            raise ApiUnreachable("http://127.0.0.1:9/prod/audits", ConnectionRefusedError("refused"))
        self.calls.append((method, path, body))
        if method == "POST" and path == "/audits":
            return ApiResponse(202, {"auditId": "a1", "status": "RUNNING"})
        return ApiResponse(200, {"audits": [], "path": path})

    def get_audit(self, audit_id: str) -> ApiResponse:
        if audit_id == "done":
            return ApiResponse(200, {"auditId": "done", "report": {"outcome": "COMPLIANT"}})
        return ApiResponse(200, {"auditId": audit_id})


@pytest.fixture()
def fake() -> FakeClient:
    return FakeClient()


@pytest.fixture()
def console(fake: FakeClient) -> Iterator[tuple[str, int]]:
    server = make_server(Backend(Options(), client=fake), 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_address[1]
    server.shutdown()
    server.server_close()


def call(
    console: tuple[str, int], method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    host, port = console
    connection = http.client.HTTPConnection(host, port, timeout=5)
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    connection.request(method, path, body=data, headers=all_headers)
    response = connection.getresponse()
    raw = response.read()
    content_type = response.getheader("Content-Type", "")
    parsed = json.loads(raw) if raw and content_type.startswith("application/json") else raw
    result = (response.status, {k.lower(): v for k, v in response.getheaders()}, parsed)
    connection.close()
    return result


def same_origin(console: tuple[str, int]) -> dict[str, str]:
    return {"X-Secagent-Console": "1", "Origin": f"http://127.0.0.1:{console[1]}"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/audits", True),
        ("POST", "/audits", True),
        ("GET", "/audits/0b6f1c2e-1d2c-4e0a-9d1e-2f7b9a1c3d4e", True),
        ("POST", "/audits/abc/approval", True),
        ("POST", "/audits/abc/resume", True),
        ("DELETE", "/audits/abc", False),
        ("GET", "/audits/abc/approval", False),
        ("POST", "/audits/abc", False),
        ("GET", "/audits/../../admin", False),
        ("GET", "/audits/a/b", False),
        ("GET", "//evil.example/audits", False),
        ("GET", "/http://evil.example/", False),
        ("GET", "/checks", False),
    ],
)
def test_allow_list(method, path, allowed):
    assert (allowed_route(method, path) is not None) is allowed


def test_forwards_the_api_routes(console, fake):
    status, _, body = call(console, "GET", "/api/audits?status=RUNNING&limit=5&evil=1")
    assert status == 200
    assert fake.calls[-1] == ("GET", "/audits?status=RUNNING&limit=5", None)  # unknown parameters dropped
    status, _, body = call(
        console,
        "POST",
        "/api/audits",
        {"resource": {"type": "AWS::S3::Bucket", "id": "b"}},
        same_origin(console),
    )
    assert status == 202 and body["auditId"] == "a1"
    assert fake.calls[-1][2] == {"resource": {"type": "AWS::S3::Bucket", "id": "b"}}


def test_refuses_routes_outside_the_allow_list(console, fake):
    for method, path in [("GET", "/api/checks"), ("GET", "/api/audits/a/b/c"), ("POST", "/api/audits/x")]:
        status, _, body = call(console, method, path, {}, same_origin(console))
        assert status == 404 and body["error"] == "NotFound", (method, path)
    assert fake.calls == []


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a plain form post from another site cannot set the header
        {"Origin": "http://127.0.0.1:1"},
        {"X-Secagent-Console": "1", "Origin": "http://evil.example"},
        {"X-Secagent-Console": "1", "Sec-Fetch-Site": "cross-site"},
        {"X-Secagent-Console": "0"},
    ],
)
def test_csrf_refusal(console, fake, headers):
    status, _, body = call(console, "POST", "/api/audits/abc/approval", {"decision": "approve"}, headers)
    assert status == 403 and body["error"] == "Forbidden"
    assert fake.calls == []


def test_other_host_names_are_refused(console, fake):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example."""
    status, _, _body = call(console, "GET", "/api/audits", headers={"Host": "evil.example"})
    assert status == 421
    assert fake.calls == []
    status, _, _ = call(console, "GET", "/", headers={"Host": f"localhost:{console[1]}"})
    assert status == 200


def test_unreachable_api_is_a_502_json(console, fake):
    fake.unreachable = True
    status, headers, body = call(console, "GET", "/api/audits")
    assert status == 502
    assert headers["content-type"] == "application/json"
    assert body["error"] == "ApiUnreachable"
    assert "127.0.0.1:9" in body["message"]


def test_stack_lookup_on_a_dead_endpoint_is_a_502(monkeypatch):
    port = _free_port()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    backend = Backend(Options(endpoint_url=f"http://127.0.0.1:{port}", region="us-east-1"))
    with pytest.raises(ui_server.ConsoleUnavailable) as caught:
        backend.client()
    assert caught.value.status == 502 and caught.value.error == "ApiUnreachable"


def test_api_url_with_nothing_listening_answers_502(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    server = make_server(
        Backend(Options(api_url=f"http://127.0.0.1:{_free_port()}/prod", region="us-east-1")), 0
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = call(("127.0.0.1", server.server_address[1]), "GET", "/api/audits")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 502 and body["error"] == "ApiUnreachable"


def test_security_headers_and_assets(console):
    status, headers, body = call(console, "GET", "/")
    assert status == 200
    assert headers["content-security-policy"].startswith("default-src 'self'")
    assert headers["x-content-type-options"] == "nosniff"
    page = body.decode()
    assert "<script" in page and "http://" not in page and "https://" not in page  # nothing from elsewhere
    assert "<script>" not in page  # no inline script
    for asset in ("/static/app.js", "/static/style.css", "/static/favicon.svg"):
        status, _, content = call(console, "GET", asset)
        assert status == 200, asset
        assert b"https://" not in content and b"//cdn" not in content
    assert call(console, "GET", "/static/../server.py")[0] == 404
    assert call(console, "GET", "/static/%2e%2e/server.py")[0] == 404
    assert call(console, "GET", "/etc/passwd")[0] == 404
    assert call(console, "PUT", "/api/audits")[0] == 405


def test_graph_and_report_download(console):
    status, _, graph = call(console, "GET", "/ui/graph")
    assert status == 200 and graph["nodes"] and graph["edges"]
    status, headers, body = call(console, "GET", "/ui/audits/done/report.json")
    assert status == 200
    assert headers["content-disposition"] == 'attachment; filename="audit-done.json"'
    assert body == {"outcome": "COMPLIANT"}
    assert call(console, "GET", "/ui/audits/running/report.json")[0] == 404


def test_states_without_a_known_stack_are_not_available(console):
    status, _, body = call(console, "GET", "/ui/audits/a1/states?executions=a1,a1_r1")
    assert status == 200 and body == {"available": False, "states": {}, "transitions": []}
    assert call(console, "GET", "/ui/audits/a1/states?executions=../x")[0] == 400


def test_states_from_the_execution_history():
    class FakeSfn:
        def get_execution_history(self, **kwargs: Any) -> dict[str, Any]:
            assert kwargs["executionArn"] == "arn:aws:states:us-east-1:1:execution:m:a1"
            return {
                "events": [
                    {"type": "PassStateEntered", "stateEnteredEventDetails": {"name": "Start Audit"}},
                    {"type": "PassStateExited", "stateExitedEventDetails": {"name": "Start Audit"}},
                    {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Discover Bucket"}},
                    {"type": "LambdaFunctionScheduled"},
                    {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "E"}},
                    {"type": "LambdaFunctionScheduled"},
                ]
            }

    backend = Backend(
        Options(),
        client=FakeClient(),
        sfn=FakeSfn(),
        state_machine_arn="arn:aws:states:us-east-1:1:stateMachine:m",
    )  # type: ignore[arg-type]
    result = backend.state_history(["a1"])
    assert result["available"] is True
    assert result["states"]["Start Audit"]["status"] == "succeeded"
    assert result["states"]["Discover Bucket"] | {"error": None} == {
        "status": "retrying",
        "attempts": 2,
        "type": "Task",
        "execution": "a1",
        "error": None,
    }
    assert result["transitions"] == [["Start Audit", "Discover Bucket"]]


def test_main_refuses_a_busy_port(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert ui_server.main(["--port", str(sock.getsockname()[1])]) == 3
    assert "cannot listen" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
