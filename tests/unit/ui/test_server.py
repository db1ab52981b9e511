"""The console server: route allow-list, token, CSRF and Host checks, bodies, 502 JSON, assets."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from secagent.client import ApiResponse, ApiUnreachable
from secagent.ui import server as ui_server
from secagent.ui.server import Backend, Options, allowed_route, make_server


class FakeClient:
    """Records what the console forwards; answers like the API."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.listed_for: list[str | None] = []  # the resource each listing of audits was filtered to
        self.unreachable = False
        self.pages: list[dict[str, Any]] = []  # what GET /audits answers, page after page
        self.audits: dict[str, dict[str, Any]] = {}  # what GET /audits/{id} answers
        self.reads: list[str] = []

    def list_audits(
        self,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        resource: str | None = None,
        **_: Any,
    ) -> ApiResponse:
        self.calls.append(("GET", f"/audits?limit={limit}&nextToken={next_token}", None))
        self.listed_for.append(resource)
        index = int(next_token or 0)
        if index >= len(self.pages):
            return ApiResponse(200, {"audits": []})
        return ApiResponse(200, self.pages[index])

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        if self.unreachable:
            raise ApiUnreachable("http://127.0.0.1:9/prod/audits", ConnectionRefusedError("refused"))
        self.calls.append((method, path, body))
        if method == "POST" and path == "/audits":
            return ApiResponse(202, {"auditId": "a1", "status": "RUNNING"})
        return ApiResponse(200, {"audits": [], "path": path})

    def get_audit(self, audit_id: str) -> ApiResponse:
        self.reads.append(audit_id)
        if audit_id in self.audits:
            return ApiResponse(200, self.audits[audit_id])
        if audit_id == "done":
            return ApiResponse(200, {"auditId": "done", "report": {"outcome": "COMPLIANT"}})
        return ApiResponse(200, {"auditId": audit_id})


@pytest.fixture()
def fake() -> FakeClient:
    return FakeClient()


class Console(NamedTuple):
    host: str
    port: int
    token: str  # this launch's secret, as the page served by the console carries it


@pytest.fixture()
def console(fake: FakeClient) -> Iterator[Console]:
    server = make_server(Backend(Options(), client=fake), 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Console("127.0.0.1", server.server_address[1], server.token)  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def call(
    console: tuple[str, int] | Console,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    host, port = console[0], console[1]
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


def same_origin(console: Console) -> dict[str, str]:
    """What the console's own script sends with a POST."""
    return {
        "X-Secagent-Token": console.token,
        "X-Secagent-Console": "1",
        "Origin": f"http://127.0.0.1:{console.port}",
    }


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/audits", True),
        ("POST", "/audits", True),
        ("GET", "/audits/0b6f1c2e-1d2c-4e0a-9d1e-2f7b9a1c3d4e", True),
        ("POST", "/audits/abc/approval", True),
        ("POST", "/audits/abc/resume", True),
        ("DELETE", "/audits/abc", False),
        ("GET", "/audits/abc/approval", True),  # the preview of a selection
        ("POST", "/audits/abc", False),
        ("GET", "/audits/../../admin", False),
        ("GET", "/audits/a/b", False),
        ("GET", "//evil.example/audits", False),
        ("GET", "/http://evil.example/", False),
        ("GET", "/checks", False),
        ("POST", "/audits/abc/rollback", True),  # starts a rollback audit (four-eyes in the API)
        ("GET", "/audits/abc/rollback", False),
        ("GET", "/exemptions", True),
        ("POST", "/exemptions", True),
        ("POST", "/exemptions/ex-1/revoke", True),
        ("POST", "/exemptions/ex-1/approve", True),
        ("GET", "/exemptions/ex-1", False),
        ("POST", "/exemptions/ex-1", False),
        ("DELETE", "/exemptions/ex-1", False),
        ("GET", "/exemptions/ex-1/revoke", False),
        ("POST", "/exemptions/../audits/revoke", False),
        ("POST", "/exemptions/a/b/revoke", False),
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
        {"resource": {"type": "AWS::S3::Bucket", "id": "my-bucket"}},
        same_origin(console),
    )
    assert status == 202 and body["auditId"] == "a1"
    assert fake.calls[-1][2] == {"resource": {"type": "AWS::S3::Bucket", "id": "my-bucket"}}


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
    headers = {"X-Secagent-Token": console.token, **headers}  # the token alone is not enough either
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
    assert call(console, "PUT", "/api/audits", headers=same_origin(console))[0] == 405
    assert call(console, "PUT", "/api/audits")[0] == 403  # any non-GET needs the token first


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


def test_states_from_the_execution_history_are_folded_and_never_carry_a_cause():
    trace = 'Traceback (most recent call last):\n  File "/var/task/lambdas/analyze.py", line 9'

    def entered(kind: str, name: str) -> list[dict[str, Any]]:
        return [
            {"type": f"{kind}StateEntered", "stateEnteredEventDetails": {"name": name}},
            {"type": f"{kind}StateExited", "stateExitedEventDetails": {"name": name}},
        ]

    class FakeSfn:
        def get_execution_history(self, **kwargs: Any) -> dict[str, Any]:
            assert kwargs["executionArn"] == "arn:aws:states:us-east-1:1:execution:m:a1"
            assert kwargs["includeExecutionData"] is False  # the task token is in the history's data
            failed = {"error": "AccessDenied", "cause": trace}
            return {
                "events": [
                    *entered("Pass", "Start Audit"),
                    *entered("Task", "Discover Bucket")[:1],
                    {"type": "LambdaFunctionScheduled"},
                    {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": {"error": "E"}},
                    {"type": "LambdaFunctionScheduled"},
                    {"type": "LambdaFunctionSucceeded"},
                    *entered("Task", "Discover Bucket")[1:],
                    *entered("Task", "Analyze Configuration")[:1],
                    {"type": "LambdaFunctionScheduled"},
                    {"type": "LambdaFunctionFailed", "lambdaFunctionFailedEventDetails": failed},
                    *entered("Task", "Analyze Configuration")[1:],
                    *entered("Pass", "Mark Failed"),
                    *entered("Task", "Write Failure Report")[:1],
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
    assert "Start Audit" not in result["states"]  # a data-moving Pass: folded into the arrows
    discover = result["states"]["Discover Bucket"]
    assert (discover["status"], discover["attempts"], discover["type"]) == ("succeeded", 2, "Task")
    analyze = result["states"]["Analyze Configuration"]
    assert analyze["status"] == "failed"
    assert analyze["error"]["error"] == "AccessDenied"
    assert set(analyze["error"]) <= {"error", "message"}  # a name and a sentence; never the cause
    # The failure bookkeeping is drawn as Audit Failed: it shows its latest member
    assert result["states"]["Audit Failed"]["state"] == "Write Failure Report"
    assert "Mark Failed" not in result["states"]
    assert result["transitions"] == [
        ["Discover Bucket", "Analyze Configuration"],
        ["Analyze Configuration", "Audit Failed"],
    ]
    assert "Traceback" not in json.dumps(result) and ".py" not in json.dumps(result)


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


# --- the per-launch secret: every state-changing request carries it -----------------------------


def test_the_server_never_serves_its_token_and_the_page_is_not_cached(console):
    # Anyone who can reach 127.0.0.1 (another local user too) may GET every page: none holds the token
    status, headers, body = call(console, "GET", "/")
    assert status == 200
    assert console.token.encode() not in body
    assert headers["cache-control"] == "no-store"
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    assert call(console, "GET", "/index.html")[2] == body
    for asset in ("/static/app.js", "/static/style.css"):
        assert console.token.encode() not in call(console, "GET", asset)[2]


def test_each_launch_makes_its_own_secret():
    servers = [make_server(Backend(Options(), client=FakeClient()), 0) for _ in range(2)]  # type: ignore[arg-type]
    try:
        first, second = (s.token for s in servers)  # type: ignore[attr-defined]
        assert first != second and len(first) >= 43  # token_urlsafe(32)
    finally:
        for server in servers:
            server.server_close()


@pytest.mark.parametrize(
    "token",
    [
        None,  # another origin or another program: it never saw the page
        "",
        "wrong",
        "another-launch-" + "x" * 28,
    ],
)
def test_a_post_without_this_launchs_token_is_refused(console, fake, token):
    headers = {k: v for k, v in same_origin(console).items() if k != "X-Secagent-Token"}
    if token is not None:
        headers["X-Secagent-Token"] = token
    for path, body in [
        ("/api/audits", {"resource": {"type": "AWS::S3::Bucket", "id": "my-bucket"}}),
        ("/api/audits/abc/approval", {"decision": "approve"}),
        ("/api/audits/abc/resume", {}),
    ]:
        status, response_headers, answer = call(console, "POST", path, body, headers)
        assert status == 403, path
        assert answer["error"] == "Forbidden" and "token" in answer["message"]
        assert console.token not in json.dumps(answer)
        assert response_headers["connection"] == "close"  # the unread body is never parsed as a request
    assert fake.calls == []


def test_a_token_one_character_off_is_refused(console, fake):
    last = console.token[-1]
    near = console.token[:-1] + ("A" if last != "A" else "B")
    status, _, _ = call(
        console, "POST", "/api/audits/abc/resume", {}, {**same_origin(console), "X-Secagent-Token": near}
    )
    assert status == 403 and fake.calls == []


def test_a_post_with_this_launchs_token_is_forwarded(console, fake):
    status, _, _ = call(
        console, "POST", "/api/audits/abc/approval", {"decision": "reject"}, same_origin(console)
    )
    assert status == 200
    assert fake.calls == [("POST", "/audits/abc/approval", {"decision": "reject"})]


def test_other_methods_need_the_token_too(console, fake):
    for method in ("PUT", "DELETE", "PATCH"):
        assert call(console, method, "/api/audits")[0] == 403
        assert call(console, method, "/api/audits", headers=same_origin(console))[0] == 405
    assert call(console, "HEAD", "/")[0] == 200  # reading needs no token
    assert fake.calls == []


def test_the_token_is_never_logged(fake, capsys):
    server = make_server(Backend(Options(), client=fake), 0, verbose=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    console = Console("127.0.0.1", server.server_address[1], server.token)  # type: ignore[attr-defined]
    try:
        call(console, "GET", "/")
        call(console, "POST", "/api/audits/abc/resume", {}, same_origin(console))
        call(console, "POST", "/api/audits/abc/resume", {}, {"X-Secagent-Token": "wrong"})
    finally:
        server.shutdown()
        server.server_close()
    logged = capsys.readouterr()
    assert "POST /api/audits/abc/resume" in logged.err  # the log is on...
    assert console.token not in logged.err + logged.out  # ...and the secret is not in it


# --- Content-Length: exact, bounded, and a short body cannot hold a thread ---------------------


def raw_post(console: Console, head: list[str], body: bytes = b"", *, close_write: bool = False) -> Any:
    """POST /api/audits as bytes on a socket (well-formed headers but for `head`); the response."""
    lines = [
        "POST /api/audits HTTP/1.1",
        f"Host: 127.0.0.1:{console.port}",
        *(f"{k}: {v}" for k, v in same_origin(console).items()),
        "Content-Type: application/json",
        *head,
    ]
    sock = socket.create_connection((console.host, console.port), timeout=5)
    try:
        sock.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = json.loads(response.read())
        return response.status, answer, _rest(sock)
    finally:
        sock.close()


def _rest(sock: socket.socket) -> bytes:
    """What the server sends after its answer: b"" once it closes; b"<still open>" if it waits."""
    sock.settimeout(1.0)
    rest = b""
    try:
        while chunk := sock.recv(65536):
            rest += chunk
    except TimeoutError:
        return rest or b"<still open>"
    return rest


GOOD_BODY = json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": "my-bucket"}}).encode()


@pytest.mark.parametrize(
    ("head", "status", "error"),
    [
        ([], 411, "LengthRequired"),  # a body, and no length
        (["Transfer-Encoding: chunked"], 411, "LengthRequired"),
        ([f"Content-Length: {len(GOOD_BODY)}", "Transfer-Encoding: chunked"], 411, "LengthRequired"),
        (["Content-Length: abc"], 400, "InvalidRequest"),
        (["Content-Length: 1_0"], 400, "InvalidRequest"),  # int() would take it
        (["Content-Length: +10"], 400, "InvalidRequest"),
        (["Content-Length: 0x10"], 400, "InvalidRequest"),
        (["Content-Length: -1"], 400, "InvalidRequest"),  # read(-1): until the client hangs up
        ([f"Content-Length: {len(GOOD_BODY)}", f"Content-Length: {len(GOOD_BODY)}"], 400, "InvalidRequest"),
        ([f"Content-Length: {ui_server.MAX_BODY + 1}"], 413, "InvalidRequest"),
        (["Content-Length: 99999999999999999999999"], 400, "InvalidRequest"),
    ],
)
def test_bad_content_length_is_refused_without_reading_the_body(console, fake, head, status, error):
    answered, body, rest = raw_post(console, head, GOOD_BODY)
    assert (answered, body["error"]) == (status, error), body
    assert rest == b""  # and the connection is closed: the body is not read as another request
    assert fake.calls == []


def test_an_oversized_body_is_not_read_as_a_second_request(console, fake):
    """413 before reading: the unread body (here a whole GET) must not be served on that connection."""
    smuggled = f"GET /api/audits?status=RUNNING HTTP/1.1\r\nHost: 127.0.0.1:{console.port}\r\n\r\n".encode()
    body = smuggled + b" " * (ui_server.MAX_BODY + 1 - len(smuggled))
    answered, answer, rest = raw_post(console, [f"Content-Length: {len(body)}"], body)
    assert answered == 413 and answer["error"] == "InvalidRequest"
    assert rest == b"" and fake.calls == []


def test_a_body_shorter_than_announced_does_not_hang_the_server(console, fake, monkeypatch):
    monkeypatch.setattr(ui_server.ConsoleHandler, "timeout", 0.5)
    started = time.monotonic()
    answered, answer, _ = raw_post(console, ["Content-Length: 100"], b'{"resource":')  # socket left open
    assert answered == 408 and answer["error"] == "RequestTimeout"
    assert time.monotonic() - started < 4
    assert fake.calls == []
    assert call(console, "GET", "/api/audits")[0] == 200  # still serving


def test_a_body_cut_short_by_the_client_is_refused(console, fake):
    answered, answer, _ = raw_post(console, ["Content-Length: 100"], b"{}", close_write=True)
    assert answered == 400 and "shorter" in answer["message"]
    assert fake.calls == []


def test_a_post_with_an_exact_length_is_forwarded(console, fake):
    head = [f"Content-Length: {len(GOOD_BODY)}", "Connection: close"]
    answered, answer, _ = raw_post(console, head, GOOD_BODY)
    assert answered == 202 and answer["auditId"] == "a1"
    assert fake.calls == [("POST", "/audits", json.loads(GOOD_BODY))]


# --- names: a trailing newline is not part of a valid bucket name or audit id -------------------

NEWLINES = ["\n", "\r\n"]


@pytest.mark.parametrize("end", NEWLINES)
def test_a_bucket_name_with_a_trailing_newline_is_refused_before_anything_is_signed(console, fake, end):
    body = {"resource": {"type": "AWS::S3::Bucket", "id": f"my-bucket{end}"}}
    status, _, answer = call(console, "POST", "/api/audits", body, same_origin(console))
    assert status == 400 and answer["field"] == "resource.id"
    assert answer["message"].startswith("resource.id: ") and "not a valid S3 bucket name" in answer["message"]
    quoted = urllib.parse.quote(f"my-bucket{end}")
    status, _, answer = call(console, "GET", f"/api/audits?resource={quoted}")
    assert status == 400 and answer["field"] == "resource"
    assert fake.calls == []


@pytest.mark.parametrize("end", NEWLINES)
def test_an_audit_id_with_a_trailing_newline_is_refused(console, fake, end):
    bad = urllib.parse.quote(f"abc{end}", safe="")
    assert call(console, "GET", f"/api/audits/{bad}")[0] == 404
    assert (
        call(console, "POST", f"/api/audits/{bad}/approval", {"decision": "approve"}, same_origin(console))[0]
        == 404
    )
    assert call(console, "POST", f"/api/audits/{bad}/resume", {}, same_origin(console))[0] == 404
    assert call(console, "GET", f"/ui/audits/{bad}/report.json")[0] == 404
    assert call(console, "GET", f"/ui/audits/abc/states?executions={bad}")[0] == 400
    assert fake.calls == []


def test_every_outcome_has_its_style_and_wording_from_the_one_definition(console):
    from pathlib import Path

    from secagent.models.outcome import Outcome

    status, _, body = call(console, "GET", "/ui/outcomes", headers={"X-Secagent-Token": console.token})
    assert status == 200
    assert body == {o.value: {"style": o.style, "wording": o.wording} for o in Outcome}
    css = (Path(ui_server.__file__).parent / "static" / "style.css").read_text()
    for style in {o.style for o in Outcome}:  # the console draws each style
        assert f".badge-outcome-{style}" in css and f".outcome-{style}" in css


# --- rollback and exemptions: forwarded like the audit routes, and checked the same way ---------


def test_rollback_and_exemption_routes_are_forwarded(console, fake):
    headers = same_origin(console)
    assert call(console, "POST", "/api/audits/a1/rollback", {}, headers)[0] == 200
    assert fake.calls[-1] == ("POST", "/audits/a1/rollback", {})
    exemption = {
        "bucket": "my-bucket",
        "checkIds": ["s3_bucket_versioning_disabled"],
        "reason": "r",
        "until": "2026-12-01",
    }
    assert call(console, "POST", "/api/exemptions", exemption, headers)[0] == 200
    assert fake.calls[-1] == ("POST", "/exemptions", exemption)
    assert call(console, "POST", "/api/exemptions/ex-1/revoke", {}, headers)[0] == 200
    assert fake.calls[-1] == ("POST", "/exemptions/ex-1/revoke", {})
    assert call(console, "GET", "/api/exemptions?bucket=my-bucket&status=ALL&evil=1")[0] == 200
    assert fake.calls[-1] == ("GET", "/exemptions?bucket=my-bucket", None)  # other parameters dropped


@pytest.mark.parametrize(
    "path", ["/api/audits/a1/rollback", "/api/exemptions", "/api/exemptions/ex-1/revoke"]
)
def test_rollback_and_exemptions_need_the_token_and_the_console_header(console, fake, path):
    assert call(console, "POST", path, {}, {"X-Secagent-Console": "1"})[0] == 403  # no token
    assert call(console, "POST", path, {}, {"X-Secagent-Token": console.token})[0] == 403  # no header
    origin = {**same_origin(console), "Origin": "http://evil.example"}
    assert call(console, "POST", path, {}, origin)[0] == 403
    assert fake.calls == []


def test_an_exemption_for_a_name_that_is_not_a_bucket_is_refused_before_anything_is_signed(console, fake):
    body = {
        "bucket": "Not_A_Bucket",
        "checkIds": ["s3_bucket_versioning_disabled"],
        "reason": "r",
        "until": "2026-12-01",
    }
    status, _, answer = call(console, "POST", "/api/exemptions", body, same_origin(console))
    assert status == 400 and answer["field"] == "bucket"
    status, _, answer = call(console, "GET", "/api/exemptions?bucket=..%2Faudits")
    assert status == 400 and answer["field"] == "bucket"
    assert fake.calls == []


def test_checks_metadata_comes_from_the_registry(console):
    from secagent.checks import list_checks

    status, _, body = call(console, "GET", "/ui/checks")
    assert status == 200
    assert set(body["checks"]) == {meta.id for meta in list_checks()}
    policy = body["checks"]["s3_bucket_policy_public"]
    assert policy["severity"] == "CRITICAL" and policy["remediationId"] and policy["controls"]


# --- /ui/findings: each resource's latest finished audit with findings, bounded and cached ------


def _summary(audit_id: str, bucket: str, status: str = "SUCCEEDED", outcome: str = "NON_COMPLIANT") -> dict:
    return {
        "auditId": audit_id,
        "status": status,
        "resource": {"type": "AWS::S3::Bucket", "id": bucket},
        "outcome": outcome,
    }


def _finding(check: str, status: str, **more: Any) -> dict[str, Any]:
    return {
        "checkId": check,
        "title": check,
        "severity": "HIGH",
        "status": status,
        "controls": ["FSBP:S3.1"],
        "evidence": {},
        **more,
    }


def _report(audit_id: str, bucket: str, findings: list, **more: Any) -> dict[str, Any]:
    report = {
        "auditId": audit_id,
        "resource": {"type": "AWS::S3::Bucket", "id": bucket},
        "mode": "plan",
        "outcome": "NON_COMPLIANT",
        "finishedAt": "2026-11-30T10:00:00Z",
        "findings": findings,
        **more,
    }
    return {"auditId": audit_id, "status": "SUCCEEDED", "report": report}


def test_findings_of_each_resources_latest_finished_audit(console, fake):
    fake.pages = [
        {
            "audits": [
                _summary("run", "a", status="RUNNING"),
                _summary("a2", "a"),
                _summary("b2", "b", status="FAILED"),
            ],
            "nextToken": "1",
        },
        {"audits": [_summary("a1", "a"), _summary("b1", "b")]},
    ]
    fake.audits = {
        "a2": _report(
            "a2",
            "a",
            [_finding("c1", "FAIL", findingId="f-1", firstObservedAt="2026-11-01")],
            verification={"findings": [_finding("c1", "PASS", resourceId="a", rationale="r")]},
            mode="remediate",
        ),
        "b2": {
            "auditId": "b2",
            "status": "FAILED",
            "report": {"auditId": "b2", "outcome": "FAILED", "findings": []},
        },
        "b1": _report(
            "b1", "b", [_finding("c2", "FAIL", controls=[{"standard": "FSBP", "control": "S3.2"}])]
        ),
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200
    assert [r["resource"]["id"] for r in body["resources"]] == ["a", "b"]
    a, b = body["resources"]
    # After Verify when the audit applied fixes; identity fields from the first analysis
    assert a["auditId"] == "a2" and a["source"] == "verification"
    assert a["findings"] == [
        {**_finding("c1", "PASS"), "findingId": "f-1", "firstObservedAt": "2026-11-01", "before": "FAIL"}
    ]
    # A failed audit without findings: the resource's previous one is shown; controls as they come
    assert b["auditId"] == "b1" and b["source"] == "analysis"
    assert b["findings"][0]["controls"] == [{"standard": "FSBP", "control": "S3.2"}]
    assert "run" not in fake.reads and "a1" not in fake.reads  # running, and older than a shown one
    # Finished reports are read once
    reads = len(fake.reads)
    assert call(console, "GET", "/ui/findings")[0] == 200
    assert len(fake.reads) == reads


def test_failed_audits_cannot_push_a_buckets_findings_out_of_the_view(console, fake):
    """Attack: anyone with states:StartExecution starts executions naming the bucket; Discover refuses
    them and each ends FAILED with a report without findings. Defence: only succeeded audits are
    read, so the bucket's real latest audit is shown however many failed ones came after it."""
    forged = [_summary(f"forged{i}", "victim", status="FAILED") for i in range(5)]
    fake.pages = [{"audits": [*forged, _summary("real", "victim")]}]
    fake.audits = {
        **{
            f"forged{i}": {"auditId": f"forged{i}", "status": "FAILED", "report": {"findings": []}}
            for i in range(5)
        },
        "real": _report("real", "victim", [_finding("s3_bucket_policy_public", "FAIL", severity="CRITICAL")]),
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200
    assert [(r["resource"]["id"], r["auditId"]) for r in body["resources"]] == [("victim", "real")]
    assert not any(read.startswith("forged") for read in fake.reads)


def test_findings_keep_the_most_recently_audited_resources_when_there_are_too_many(
    console, fake, monkeypatch
):
    monkeypatch.setattr(ui_server, "FINDINGS_RESOURCES", 2)
    fake.pages = [
        {"audits": [_summary("z1", "zz-newest"), _summary("a1", "aa-older"), _summary("b1", "bb-oldest")]}
    ]
    fake.audits = {
        audit: _report(audit, bucket, [_finding("c1", "FAIL")])
        for audit, bucket in (("z1", "zz-newest"), ("a1", "aa-older"), ("b1", "bb-oldest"))
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200 and body["truncated"] is True
    assert [r["resource"]["id"] for r in body["resources"]] == ["aa-older", "zz-newest"]  # by name


def test_findings_of_one_bucket_ask_the_api_for_its_audits_only(console, fake):
    fake.pages = [{"audits": [_summary("a1", "wanted")]}]
    fake.audits = {"a1": _report("a1", "wanted", [_finding("c1", "FAIL")])}
    status, _, body = call(console, "GET", "/ui/findings?resource=wanted")
    assert status == 200 and [r["resource"]["id"] for r in body["resources"]] == ["wanted"]
    assert fake.listed_for == ["wanted"]  # the API filtered its history for that bucket
    status, _, body = call(console, "GET", "/ui/findings?resource=Not_A_Bucket")
    assert status == 400 and body["field"] == "resource"


def test_findings_work_is_bounded(console, fake, monkeypatch):
    monkeypatch.setattr(ui_server, "FINDINGS_PAGES", 2)
    monkeypatch.setattr(ui_server, "REPORTS_PER_RESOURCE", 2)
    fake.pages = [{"audits": [_summary(f"x{i}", "x")], "nextToken": str(i + 1)} for i in range(5)]
    fake.audits = {
        f"x{i}": {"auditId": f"x{i}", "status": "SUCCEEDED", "report": {"findings": []}} for i in range(5)
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200
    assert body["resources"] == [] and body["withoutFindings"] == ["x"] and body["truncated"] is True
    assert len([c for c in fake.calls if c[1].startswith("/audits?")]) == 2  # pages listed
    assert fake.reads == ["x0", "x1"]  # reports read for the resource


def test_findings_pass_the_apis_error_on(console, fake):
    class Refusing(FakeClient):
        def list_audits(self, **_: Any) -> ApiResponse:
            return ApiResponse(403, {"error": "Forbidden", "message": "not for you"})

    server = make_server(Backend(Options(), client=Refusing()), 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        status, _, body = call(("127.0.0.1", server.server_address[1]), "GET", "/ui/findings")
    finally:
        server.shutdown()
        server.server_close()
    assert status == 403 and body["message"] == "not for you"


# --- security groups: the new-audit form names the type, or the console reads it from the id -----

GROUP_ID = "sg-0123abcd"


def test_the_resource_types_the_form_offers(console):
    status, _, body = call(console, "GET", "/ui/resource-types")
    assert status == 200
    assert [(k["type"], k["label"], k["exemptible"]) for k in body["resourceTypes"]] == [
        ("AWS::S3::Bucket", "S3 bucket", True),
        ("AWS::EC2::SecurityGroup", "EC2 security group", False),  # the API exempts buckets only
    ]
    assert all(k["idHint"] for k in body["resourceTypes"])


@pytest.mark.parametrize(
    ("resource", "forwarded"),
    [
        (
            {"type": "AWS::EC2::SecurityGroup", "id": GROUP_ID},
            {"type": "AWS::EC2::SecurityGroup", "id": GROUP_ID},
        ),
        # no type chosen: read from the id, and named to the API
        ({"id": GROUP_ID}, {"type": "AWS::EC2::SecurityGroup", "id": GROUP_ID}),
        (
            {"type": "", "id": "sg-0123456789abcdef0"},
            {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123456789abcdef0"},
        ),
        ({"id": "my-team-logs"}, {"type": "AWS::S3::Bucket", "id": "my-team-logs"}),
        # a bucket named like a group id, its type chosen
        ({"type": "AWS::S3::Bucket", "id": GROUP_ID}, {"type": "AWS::S3::Bucket", "id": GROUP_ID}),
    ],
)
def test_a_new_audit_of_a_security_group_or_a_bucket_is_forwarded_with_its_type(
    console, fake, resource, forwarded
):
    status, _, answer = call(
        console, "POST", "/api/audits", {"resource": resource, "mode": "plan"}, same_origin(console)
    )
    assert (status, answer["auditId"]) == (202, "a1")
    assert fake.calls == [("POST", "/audits", {"resource": forwarded, "mode": "plan"})]


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        (
            {"type": "AWS::EC2::SecurityGroup", "id": "my-team-logs"},
            'resource.id: "my-team-logs" is not a valid security group id: must be "sg-" followed by 8 or 17',
        ),
        (
            {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123ABCD"},
            'resource.id: "sg-0123ABCD" is not a valid security',
        ),
        (
            {"type": "AWS::EC2::SecurityGroup", "id": f"{GROUP_ID}\n"},
            'resource.id: "sg-0123abcd\\n" is not a valid',
        ),
        ({"id": "Not_A_Bucket!"}, 'resource.id: "Not_A_Bucket!" is not a valid S3 bucket name'),
    ],
)
def test_an_id_its_type_does_not_fit_is_refused_before_anything_is_signed(console, fake, resource, message):
    status, _, answer = call(console, "POST", "/api/audits", {"resource": resource}, same_origin(console))
    assert status == 400 and answer["field"] == "resource.id"
    assert answer["message"].startswith(message), answer["message"]
    assert fake.calls == []


def test_an_unknown_resource_type_is_the_apis_to_refuse(console, fake):
    body = {"resource": {"type": "AWS::IAM::Role", "id": "admin"}}
    assert call(console, "POST", "/api/audits", body, same_origin(console))[0] == 202  # the fake accepts
    assert fake.calls == [("POST", "/audits", body)]


def test_audits_and_findings_filter_by_a_security_group_id(console, fake):
    assert call(console, "GET", f"/api/audits?resource={GROUP_ID}")[0] == 200
    assert fake.calls[-1] == ("GET", f"/audits?resource={GROUP_ID}", None)
    assert call(console, "GET", f"/ui/findings?resource={GROUP_ID}")[0] == 200
    assert fake.listed_for[-1] == GROUP_ID


def test_findings_of_a_security_group_carry_its_type(console, fake):
    group = {"type": "AWS::EC2::SecurityGroup", "id": GROUP_ID}
    finding = {"checkId": "ec2_security_group_ssh_open_to_internet", "status": "FAIL", "severity": "HIGH"}
    fake.pages = [{"audits": [{"auditId": "g1", "status": "SUCCEEDED", "resource": group}]}]
    fake.audits = {
        "g1": {"auditId": "g1", "status": "SUCCEEDED", "report": {"resource": group, "findings": [finding]}}
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200
    [entry] = body["resources"]
    assert entry["resource"] == group and entry["findings"][0]["checkId"] == finding["checkId"]


def test_the_page_script_names_each_resource_by_its_type():
    from pathlib import Path

    script = (Path(ui_server.__file__).parent / "static" / "app.js").read_text()
    assert '"/ui/resource-types"' in script
    # the new-audit form: a type choice, or the id read by the console; exemptions for buckets only
    assert 'h("option", { value: "", text: "Read it from the id" })' in script
    assert "kindOf(resource).exemptible" in script
    for stale in ('text: "Bucket" }', '"any bucket"', "S3 bucket (AWS::S3::Bucket)"):
        assert stale not in script


def test_findings_of_a_bucket_and_a_group_with_one_id_are_kept_apart(console, fake):
    """Attack: a bucket named like a security group id, audited clean, must not hide the group's FAIL."""
    group = {"type": "AWS::EC2::SecurityGroup", "id": GROUP_ID}
    bucket = {"type": "AWS::S3::Bucket", "id": GROUP_ID}  # a valid bucket name too
    open_ssh = {"checkId": "ec2_security_group_ssh_open_to_internet", "status": "FAIL", "severity": "HIGH"}
    clean = {"checkId": "s3_bucket_versioning_disabled", "status": "PASS", "severity": "MEDIUM"}
    fake.pages = [
        {
            "audits": [
                {"auditId": "b1", "status": "SUCCEEDED", "resource": bucket},  # newest
                {"auditId": "g1", "status": "SUCCEEDED", "resource": group},
            ]
        }
    ]
    fake.audits = {
        "b1": {"auditId": "b1", "status": "SUCCEEDED", "report": {"resource": bucket, "findings": [clean]}},
        "g1": {"auditId": "g1", "status": "SUCCEEDED", "report": {"resource": group, "findings": [open_ssh]}},
    }
    status, _, body = call(console, "GET", "/ui/findings")
    assert status == 200
    shown = {entry["resource"]["type"]: entry["findings"] for entry in body["resources"]}
    assert shown == {"AWS::S3::Bucket": [clean], "AWS::EC2::SecurityGroup": [open_ssh]}
