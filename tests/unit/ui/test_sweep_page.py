"""The console's sweep page: its API routes forwarded (and only those), with their query parameters,
checked bodies, and the same token, CSRF and Host protections as every other route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secagent.client import ApiResponse
from secagent.ui import server as ui_server
from secagent.ui.server import Backend, Options, allowed_route, make_server
from tests.unit.ui.test_server import Console, FakeClient, call, same_origin

SWEEP_ID = "sweep-7f3c9e1d"
STATIC = Path(ui_server.__file__).parent / "static"


class FakeSweepClient(FakeClient):
    """Answers the sweep routes as the API does; records every call."""

    def request(self, method: str, path: str, body: Any = None) -> ApiResponse:
        if not path.startswith("/sweeps"):
            return super().request(method, path, body)
        self.calls.append((method, path, body))
        if method == "POST" and path == "/sweeps":
            return ApiResponse(202, {"sweepId": SWEEP_ID, "status": "RUNNING"})
        if method == "POST" and path.endswith("/audits"):
            return ApiResponse(202, {"auditId": "a1", "status": "RUNNING", "sweepId": SWEEP_ID})
        return ApiResponse(200, {"path": path})


@pytest.fixture()
def fake() -> FakeSweepClient:
    return FakeSweepClient()


@pytest.fixture()
def console(fake: FakeSweepClient) -> Iterator[Console]:
    server = make_server(Backend(Options(), client=fake), 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Console("127.0.0.1", server.server_address[1], server.token)  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/sweeps", True),
        ("POST", "/sweeps", True),
        ("GET", f"/sweeps/{SWEEP_ID}", True),
        ("GET", f"/sweeps/{SWEEP_ID}/report", True),
        ("GET", f"/sweeps/{SWEEP_ID}/findings", True),
        ("POST", f"/sweeps/{SWEEP_ID}/audits", True),  # an audit of what it found: the approval gate
        ("POST", f"/sweeps/{SWEEP_ID}", False),
        ("DELETE", f"/sweeps/{SWEEP_ID}", False),
        ("GET", f"/sweeps/{SWEEP_ID}/audits", False),
        ("POST", f"/sweeps/{SWEEP_ID}/report", False),
        ("POST", f"/sweeps/{SWEEP_ID}/findings", False),
        ("POST", f"/sweeps/{SWEEP_ID}/approval", False),
        ("GET", "/sweeps/a/b", False),
        ("GET", "/sweeps/../audits", False),
        ("GET", "/sweeps/", False),
        ("POST", "/sweeps/a/b/audits", False),
    ],
)
def test_allow_list_of_the_sweep_routes(method: str, path: str, allowed: bool) -> None:
    assert (allowed_route(method, path) is not None) is allowed


@pytest.mark.parametrize(
    ("asked", "forwarded"),
    [
        ("/api/sweeps?limit=5&nextToken=t1&status=ALL", "/sweeps?limit=5&nextToken=t1"),
        ("/api/sweeps", "/sweeps"),
        (f"/api/sweeps/{SWEEP_ID}?format=markdown", f"/sweeps/{SWEEP_ID}"),
        (f"/api/sweeps/{SWEEP_ID}/report?format=markdown&x=1", f"/sweeps/{SWEEP_ID}/report?format=markdown"),
        (f"/api/sweeps/{SWEEP_ID}/report", f"/sweeps/{SWEEP_ID}/report"),
        (
            f"/api/sweeps/{SWEEP_ID}/findings?format=asff&page=2&evil=1",
            f"/sweeps/{SWEEP_ID}/findings?format=asff&page=2",
        ),
    ],
)
def test_reads_are_forwarded_with_their_own_query_parameters_only(
    console: Console, fake: FakeSweepClient, asked: str, forwarded: str
) -> None:
    status, _, body = call(console, "GET", asked)
    assert status == 200 and body == {"path": forwarded}
    assert fake.calls == [("GET", forwarded, None)]


def test_starting_a_sweep_and_an_audit_from_it_are_forwarded(console: Console, fake: FakeSweepClient) -> None:
    headers = same_origin(console)
    sweep = {"accounts": ["111111111111"], "resourceTypes": ["AWS::S3::Bucket"], "mode": "plan"}
    status, _, body = call(console, "POST", "/api/sweeps", sweep, headers)
    assert (status, body["sweepId"]) == (202, SWEEP_ID)
    assert fake.calls[-1] == ("POST", "/sweeps", sweep)
    audit = {"resource": {"id": "sg-0123abcd"}, "accountId": "111111111111", "mode": "remediate"}
    status, _, body = call(console, "POST", f"/api/sweeps/{SWEEP_ID}/audits", audit, headers)
    assert (status, body["auditId"]) == (202, "a1")
    # The type read from the id is named to the API, as for a new audit
    assert fake.calls[-1] == (
        "POST",
        f"/sweeps/{SWEEP_ID}/audits",
        {
            "resource": {"id": "sg-0123abcd", "type": "AWS::EC2::SecurityGroup"},
            "accountId": "111111111111",
            "mode": "remediate",
        },
    )


@pytest.mark.parametrize("path", ["/api/sweeps", f"/api/sweeps/{SWEEP_ID}/audits"])
def test_sweep_posts_need_the_token_the_console_header_and_its_origin(
    console: Console, fake: FakeSweepClient, path: str
) -> None:
    assert call(console, "POST", path, {}, {"X-Secagent-Console": "1"})[0] == 403  # no token
    assert call(console, "POST", path, {}, {"X-Secagent-Token": console.token})[0] == 403  # no header
    wrong = "x" * len(console.token)
    assert call(console, "POST", path, {}, {**same_origin(console), "X-Secagent-Token": wrong})[0] == 403
    assert (
        call(console, "POST", path, {}, {**same_origin(console), "Origin": "http://evil.example"})[0] == 403
    )
    cross = {"X-Secagent-Token": console.token, "X-Secagent-Console": "1", "Sec-Fetch-Site": "cross-site"}
    assert call(console, "POST", path, {}, cross)[0] == 403
    assert call(console, "GET", path.replace("/audits", ""), headers={"Host": "evil.example"})[0] == 421
    assert fake.calls == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/sweeps", {"accounts": ["111111111111", "12345"]}, "accounts"),
        ("/api/sweeps", {"accounts": ["111111111111\n"]}, "accounts"),
        (
            f"/api/sweeps/{SWEEP_ID}/audits",
            {"resource": {"type": "AWS::S3::Bucket", "id": "b"}, "accountId": "1"},
            "accountId",
        ),
        (
            f"/api/sweeps/{SWEEP_ID}/audits",
            {"resource": {"type": "AWS::EC2::SecurityGroup", "id": "my-bucket"}},
            "resource.id",
        ),
        (f"/api/sweeps/{SWEEP_ID}/audits", {"resource": {"id": "Not_A_Bucket"}}, "resource.id"),
    ],
)
def test_ids_in_a_sweep_body_are_checked_before_anything_is_signed(
    console: Console, fake: FakeSweepClient, path: str, body: dict[str, Any], field: str
) -> None:
    status, _, answer = call(console, "POST", path, body, same_origin(console))
    assert status == 400 and answer["field"] == field
    assert fake.calls == []


def test_the_page_loads_the_sweep_script_and_links_the_sweeps(console: Console) -> None:
    status, headers, _ = call(console, "GET", "/static/sweeps.js")
    assert status == 200 and headers["content-type"].startswith(("text/javascript", "application/javascript"))
    page = call(console, "GET", "/")[2].decode()
    assert '<script src="/static/sweeps.js" defer></script>' in page
    assert page.index("/static/app.js") < page.index("/static/sweeps.js")  # it uses app.js's helpers
    assert 'href="#/sweeps" data-nav="sweeps"' in page


def test_the_sweep_page_uses_the_routes_the_console_forwards_and_names_broken_accounts() -> None:
    script = (STATIC / "sweeps.js").read_text()
    app = (STATIC / "app.js").read_text()
    assert "renderSweep(token, decodeURIComponent(parts[1]))" in app and "renderSweeps(token)" in app
    assert 'call("POST", "/api/sweeps", body)' in script
    assert "/api/sweeps/${encodeURIComponent(sweep.sweepId)}/audits" in script
    assert "/api/sweeps/${encodeURIComponent(sweep.sweepId)}/report" in script
    assert "could not be listed" in script and "Audit and fix" in script
    assert "#/audits/${encodeURIComponent(result.body.auditId)}" in script  # the approval wait
    assert "innerHTML" not in script  # every text through textContent, as in app.js
