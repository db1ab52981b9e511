"""`secagent ui`: the web console, served on 127.0.0.1 and talking to the deployed audit API.

The browser talks only to this server. It serves the page's assets from `static/` (no CDN) and
forwards the audit API's own routes under `/api/...` to the deployed API, signing each call with
SigV4 from the usual AWS credential chain, so no AWS credential ever reaches the browser. It
also answers the graph of the workflow (`/ui/graph`, from the ASL packaged with it, folded to the
steps a person reads), the checks' metadata (`/ui/checks`, from the local registry), the
resource types it audits (`/ui/resource-types`: S3 buckets, EC2 security groups), the findings
of each audited resource's latest finished audit (`/ui/findings`, from the API's reports) and,
when it knows the stack, the states each execution entered (`/ui/audits/{id}/states`, from the
execution history, read without execution data) to colour that graph. The sweep page uses the
API's sweep routes (`/sweeps...`): start a sweep of several accounts (read-only), follow it, read
its posture, and start an audit of a resource it found, which waits for a person's approval.

A resource id is checked here as the API checks it, before anything is signed or sent: a new
audit's against its type, or, when the form names none, against the type the id reads as (a
security group id reads as a group, anything else as a bucket), which it then names to the API.

Who may change anything: every request other than GET/HEAD must carry the per-launch secret
(`X-Secagent-Token`), a random value made when the server starts. The server never serves it:
it is printed once, in the fragment of the URL to open (`http://127.0.0.1:8780/#token=...`),
which browsers do not send to any server; the page moves it into its tab's sessionStorage and
drops it from the address bar. So neither another origin nor another local process or user that
can reach 127.0.0.1 can read it from the server. It is never logged or put in an error message.
Bodies need an exact Content-Length (at most MAX_BODY), and a body that
stops short cannot hold a thread: each connection has a socket timeout.

    python -m secagent.ui.server [--port 8780] [--endpoint-url URL] [--stack-name NAME]
                                 [--region R] [--profile P] [--api-url URL]
"""

from __future__ import annotations

import argparse
import collections
import hmac
import json
import mimetypes
import re
import secrets
import sys
import threading
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secagent.client import ApiUnreachable
from secagent.models.outcome import Outcome
from secagent.models.snapshot import BUCKET, ResourceType
from secagent.resources import KINDS, RESOURCE_TYPES, InvalidResourceId, checked_resource
from secagent.ui.graph import console_graph, fold_history

if TYPE_CHECKING:
    from secagent.client import AuditApiClient

HOST = "127.0.0.1"
DEFAULT_PORT = 8780
STATIC = Path(__file__).resolve().parent / "static"
MAX_BODY = 16 * 1024
CSRF_HEADER = "X-Secagent-Console"
TOKEN_HEADER = "X-Secagent-Token"
REQUEST_TIMEOUT = 10.0  # seconds a connection may sit idle or stall in the middle of a body
_DIGITS = re.compile(r"[0-9]{1,20}")

_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
# The audit API's routes, and only those: (method, path pattern under /api).
ROUTES: list[tuple[str, re.Pattern[str]]] = [
    ("GET", re.compile(r"/audits")),
    ("POST", re.compile(r"/audits")),
    ("GET", re.compile(rf"/audits/(?P<id>{_ID})")),
    ("GET", re.compile(rf"/audits/(?P<id>{_ID})/approval")),  # what approving a selection applies
    ("POST", re.compile(rf"/audits/(?P<id>{_ID})/approval")),
    ("POST", re.compile(rf"/audits/(?P<id>{_ID})/resume")),
    ("POST", re.compile(rf"/audits/(?P<id>{_ID})/rollback")),  # a new audit that undoes the fixes
    ("GET", re.compile(r"/exemptions")),  # ?bucket=name (the API exempts buckets only)
    ("POST", re.compile(r"/exemptions")),
    ("POST", re.compile(rf"/exemptions/(?P<id>{_ID})/approve")),  # another person than its requester
    ("POST", re.compile(rf"/exemptions/(?P<id>{_ID})/revoke")),
    ("GET", re.compile(r"/sweeps")),  # sweeps: every account's resources judged, read-only
    ("POST", re.compile(r"/sweeps")),
    ("GET", re.compile(rf"/sweeps/(?P<id>{_ID})")),
    ("GET", re.compile(rf"/sweeps/(?P<id>{_ID})/report")),  # ?format=markdown
    ("GET", re.compile(rf"/sweeps/(?P<id>{_ID})/findings")),  # ?format=ocsf|asff&page=N
    ("POST", re.compile(rf"/sweeps/(?P<id>{_ID})/audits")),  # an audit of what it found (approval gate)
]
LIST_QUERY = ("status", "resource", "limit", "nextToken")
# The query parameters forwarded on the sweep routes (any other is dropped, as on the others).
SWEEP_QUERY: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"/sweeps"), ("limit", "nextToken")),
    (re.compile(rf"/sweeps/{_ID}/report"), ("format",)),
    (re.compile(rf"/sweeps/{_ID}/findings"), ("format", "page")),
]
_ACCOUNT = re.compile(r"[0-9]{12}")
# /ui/findings: bounded work. Audits listed (pages of 50, newest first), resources shown, reports
# read per resource before giving up on finding one with findings, and finished reports cached.
FINDINGS_PAGES = 6
FINDINGS_RESOURCES = 100
REPORTS_PER_RESOURCE = 3
REPORT_CACHE = 512
_FINISHED = ("SUCCEEDED", "FAILED")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def allowed_route(method: str, path: str) -> re.Match[str] | None:
    """The match of an API route the console may forward, or None."""
    for route_method, pattern in ROUTES:
        if route_method == method and (match := pattern.fullmatch(path)):
            return match
    return None


@dataclass
class Options:
    endpoint_url: str | None = None
    stack_name: str = "SecurityAgent"
    region: str | None = None
    profile: str | None = None
    api_url: str | None = None


class ConsoleUnavailable(Exception):
    """The console cannot reach or find the API (answered as 502/503 JSON)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


class Backend:
    """The signed API client and, when the stack is known, its Step Functions history reader.

    Built on first use (not at start-up) so the console starts, and says so, when the API is down.
    """

    def __init__(
        self,
        options: Options,
        *,
        client: AuditApiClient | None = None,
        sfn: Any = None,
        state_machine_arn: str | None = None,
    ) -> None:
        self.options = options
        self._client = client
        self._sfn = sfn
        self._state_machine_arn = state_machine_arn
        self._lock = threading.Lock()
        self._reports: collections.OrderedDict[str, dict[str, Any] | None] = collections.OrderedDict()

    def client(self) -> AuditApiClient:
        with self._lock:
            if self._client is None:
                self._connect()
            assert self._client is not None
            return self._client

    def _connect(self) -> None:
        import botocore.exceptions

        from secagent.aws import SetupError, checked_session, stack_api_outputs
        from secagent.client import AuditApiClient

        options = self.options
        where = options.endpoint_url or "AWS"
        try:
            session = checked_session(options.profile, options.region)
            if options.api_url:
                self._client = AuditApiClient(options.api_url, session=session)
                return
            outputs = stack_api_outputs(session, options.stack_name, options.endpoint_url)
        except SetupError as exc:
            raise ConsoleUnavailable(503, "ConsoleNotConfigured", exc.message) from exc
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
            raise ConsoleUnavailable(
                502,
                "ApiUnreachable",
                f"could not reach {where} to find the stack {options.stack_name}: {exc}",
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:  # credentials, config...
            raise ConsoleUnavailable(503, "ConsoleNotConfigured", str(exc)) from exc
        except botocore.exceptions.ClientError as exc:
            raise ConsoleUnavailable(502, "StackLookupFailed", str(exc)) from exc
        self._client = AuditApiClient.for_stack(outputs, endpoint_url=options.endpoint_url, session=session)
        if arn := outputs.get("StateMachineArn"):
            self._state_machine_arn = arn
            self._sfn = session.client("stepfunctions", endpoint_url=options.endpoint_url)

    def state_history(self, executions: list[str]) -> dict[str, Any]:
        """Per node of the (folded) graph: status and attempts over the audit's executions; taken edges.

        Read without execution data: Await Approval's scheduled parameters hold the task token, and
        a state's input or output may hold a bucket's policy. An error shows its name and message,
        never its cause (a Lambda's cause carries its stack trace).
        """
        self.client()  # connects, finds the state machine
        if self._sfn is None or self._state_machine_arn is None:
            return {"available": False, "states": {}, "transitions": []}
        from secagent.aws import execution_history
        from secagent.workflow.timeline import build_timeline

        base = self._state_machine_arn.replace(":stateMachine:", ":execution:")
        entered: list[list[tuple[str, dict[str, Any]]]] = []
        for name in executions:
            events = execution_history(self._sfn, f"{base}:{name}")
            entered.append(
                [
                    (
                        record.name,
                        {
                            "state": record.name,
                            "status": record.status,
                            "attempts": record.attempts,
                            "type": record.type,
                            "execution": name,
                            "started": record.started.isoformat() if record.started else None,
                            "ended": record.ended.isoformat() if record.ended else None,
                            # {error, message}: the timeline never keeps a cause (workflow.failures)
                            "error": record.error.model_dump(exclude_none=True) or None
                            if record.error
                            else None,
                        },
                    )
                    for record in build_timeline(events, include_all=True)
                ]
            )
        states, transitions = fold_history(console_graph_cached(), entered)
        return {"available": True, "states": states, "transitions": transitions}

    # --- findings across resources --------------------------------------------------------------

    def latest_findings(self, resource: str | None = None) -> dict[str, Any]:
        """Each audited resource with the findings of its latest succeeded audit that has findings;
        with `resource`, that one only (the API filters its audits over the whole history).

        Lists audits through the API (newest first, at most FINDINGS_PAGES pages of 50) and reads
        reports through `GET /audits/{id}` as the report download does, at most
        REPORTS_PER_RESOURCE per resource, for at most FINDINGS_RESOURCES resources; a finished
        audit's report never changes, so each is read once (REPORT_CACHE of them kept).
        """
        client = self.client()
        audits: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(FINDINGS_PAGES):
            response = client.list_audits(limit=50, next_token=token, resource=resource)
            if response.status != 200 or not isinstance(response.body, dict):
                raise UpstreamAnswer(response.status, response.body)
            audits += response.body.get("audits") or []
            token = response.body.get("nextToken")
            if not token:
                break
        # By type and id: a bucket may be named like a security group id, and neither may hide the other.
        candidates: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for audit in audits:  # newest first
            named = audit.get("resource") or {}
            resource_id, resource_type = named.get("id"), named.get("type")
            # Succeeded audits only: a failed one judged nothing whole, and anyone who may start an
            # execution can make failed ones (Discover refuses them) to push real audits out of reach.
            if (
                isinstance(resource_id, str)
                and isinstance(resource_type, str)
                and audit.get("status") == "SUCCEEDED"
            ):
                candidates.setdefault((resource_id, resource_type), []).append(audit)
        # The most recently audited resources (the listing is newest first), shown by name.
        names = sorted(list(candidates)[:FINDINGS_RESOURCES])

        def latest(resource: tuple[str, str]) -> dict[str, Any] | None:
            for audit in candidates[resource][:REPORTS_PER_RESOURCE]:
                entry = self._findings_of(client, audit)
                if entry is not None and entry["findings"]:
                    return entry
            return None

        with ThreadPoolExecutor(max_workers=4) as pool:
            entries = list(pool.map(latest, names))
        return {
            "resources": [e for e in entries if e is not None],
            "withoutFindings": [n[0] for n, e in zip(names, entries, strict=True) if e is None],
            "auditsListed": len(audits),
            "truncated": bool(token) or len(candidates) > FINDINGS_RESOURCES,
        }

    def _findings_of(self, client: AuditApiClient, audit: dict[str, Any]) -> dict[str, Any] | None:
        audit_id = str(audit.get("auditId"))
        with self._lock:
            if audit_id in self._reports:
                self._reports.move_to_end(audit_id)
                return self._reports[audit_id]
        response = client.get_audit(audit_id)
        body = response.body if isinstance(response.body, dict) else {}
        if response.status != 200:
            return None  # e.g. gone: the next older audit of the resource is tried
        report = body.get("report")
        entry = findings_entry(audit, report) if isinstance(report, dict) else None
        if body.get("status") in _FINISHED and report:
            with self._lock:
                self._reports[audit_id] = entry
                while len(self._reports) > REPORT_CACHE:
                    self._reports.popitem(last=False)
        return entry


class UpstreamAnswer(Exception):
    """The API answered a call the console made for itself with an error: passed on as it is."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"the API answered {status}")
        self.status, self.body = status, body


_IDENTITY = ("findingId", "firstObservedAt", "lastObservedAt")


def findings_entry(audit: dict[str, Any], report: dict[str, Any]) -> dict[str, Any]:
    """A report's findings as the findings view shows them: after Verify when the audit applied fixes.

    Verify's findings are the bucket as it was left; identity fields missing there are taken from
    the first analysis of the same check, and `before` keeps the first analysis's verdict.
    """
    first = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    verification = report.get("verification") if isinstance(report.get("verification"), dict) else None
    after = [f for f in (verification or {}).get("findings") or [] if isinstance(f, dict)]
    findings: list[dict[str, Any]] = []
    if after:
        before = {f.get("checkId"): f for f in first}
        for finding in after:
            earlier = before.get(finding.get("checkId")) or {}
            shown = {k: v for k, v in finding.items() if k not in ("resourceId", "rationale", "error")}
            for key in _IDENTITY:
                if key not in shown and key in earlier:
                    shown[key] = earlier[key]
            shown["before"] = earlier.get("status")
            findings.append(shown)
    else:
        findings = first
    resource = report.get("resource") or audit.get("resource") or {}
    return {
        "resource": resource,
        "auditId": report.get("auditId") or audit.get("auditId"),
        "mode": report.get("mode") or audit.get("mode"),
        "outcome": report.get("outcome") or audit.get("outcome"),
        "finishedAt": report.get("finishedAt") or audit.get("stoppedAt"),
        "source": "verification" if after else "analysis",
        "findings": findings,
    }


_GRAPH: Any = None


def console_graph_cached() -> Any:
    global _GRAPH
    if _GRAPH is None:
        _GRAPH = console_graph()
    return _GRAPH


def _checks_json() -> bytes:
    """Each check's title, severity, controls and fix, from the local registry (the console ranks
    proposed fixes by the worst finding they fix before any report exists)."""
    from secagent.checks import list_checks

    checks = {
        meta.id: {
            "title": meta.title,
            "severity": meta.severity.value,
            "controls": meta.controls,
            "remediationId": meta.remediation_id,
        }
        for meta in list_checks()
    }
    return json.dumps({"checks": checks}).encode()


def _outcomes_json() -> bytes:
    """Each outcome's console style and wording, from the one Outcome definition."""
    return json.dumps({o.value: {"style": o.style, "wording": o.wording} for o in Outcome}).encode()


def _resource_types_json() -> bytes:
    """The resource types an audit may name, as the console shows them (secagent.resources);
    only buckets take exemptions through the API."""
    kinds = [
        {
            "type": k.type,
            "label": k.label,
            "idHint": k.id_hint,
            "exemptible": k.type == BUCKET,
        }
        for k in KINDS.values()
    ]
    return json.dumps({"resourceTypes": kinds}).encode()


def _graph_json() -> bytes:
    return json.dumps(console_graph_cached().to_json()).encode()


class ConsoleHandler(BaseHTTPRequestHandler):
    server_version = "secagent-ui"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer
    backend: Backend  # set on the subclass made by make_server
    token: str  # the per-launch secret, set on the subclass made by make_server
    _body: bytes = b""  # a POST's body, read (bounded) by _dispatch
    port: int
    graph_cache: bytes | None = None
    # Socket timeout (StreamRequestHandler.setup): a client announcing more body than it sends,
    # or holding an idle connection, cannot keep a thread forever.
    timeout = REQUEST_TIMEOUT

    # --- plumbing ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
        self._send(
            status,
            json.dumps(body).encode(),
            "application/json",
            {"Cache-Control": "no-store", **(extra or {})},
        )

    def _error(self, status: int, error: str, message: str, **more: Any) -> None:
        self._json(status, {"error": error, "message": message, **more})

    def _allowed_hosts(self) -> set[str]:
        port = self.server.server_port
        return {f"127.0.0.1:{port}", f"localhost:{port}"}

    def _host_ok(self) -> bool:
        """A page served from another name (DNS rebinding) must not reach the console."""
        return (self.headers.get("Host") or "") in self._allowed_hosts()

    def _token_ok(self) -> bool:
        """The request carries this launch's secret (compared in constant time)."""
        sent = self.headers.get_all(TOKEN_HEADER) or []
        if len(sent) != 1:
            return False
        return hmac.compare_digest(sent[0].strip().encode("utf-8", "replace"), self.token.encode())

    def _refuse_unread(self, status: int, error: str, message: str) -> None:
        """An error answered without reading the request's body: the connection cannot be reused."""
        self.close_connection = True
        self._json(status, {"error": error, "message": message}, {"Connection": "close"})

    def _content_length(self) -> int | None:
        """The announced body length; None once an error has been answered (body left unread)."""
        if self.headers.get("Transfer-Encoding") is not None:
            self._refuse_unread(411, "LengthRequired", "send the body with a Content-Length, not chunked")
            return None
        values = self.headers.get_all("Content-Length") or []
        if not values:
            self._refuse_unread(411, "LengthRequired", "a Content-Length header is required")
            return None
        if len(values) > 1 or not _DIGITS.fullmatch(values[0].strip(" \t")):
            self._refuse_unread(400, "InvalidRequest", "Content-Length must be one non-negative integer")
            return None
        length = int(values[0].strip(" \t"))
        if length > MAX_BODY:
            self._refuse_unread(413, "InvalidRequest", f"request body over {MAX_BODY // 1024} KiB")
            return None
        return length

    def _csrf_ok(self) -> bool:
        """State-changing calls come only from the console's own script."""
        if self.headers.get(CSRF_HEADER) != "1":
            return False
        origin = self.headers.get("Origin")
        if origin is not None:
            return origin in {f"http://{h}" for h in self._allowed_hosts()}
        return self.headers.get("Sec-Fetch-Site", "same-origin") == "same-origin"

    # --- dispatch ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _method_not_allowed(self) -> None:
        self._dispatch(self.command)

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def _dispatch(self, method: str) -> None:
        if not self._host_ok():
            self._refuse_unread(
                421, "MisdirectedRequest", "the console answers only on 127.0.0.1 and localhost"
            )
            return
        self._body = b""
        if method != "GET":  # state-changing: checked before a byte of the body is read
            if not self._token_ok():
                self._refuse_unread(
                    403, "Forbidden", "missing or wrong console token: reload the console page and try again"
                )
                return
            if not self._csrf_ok():
                self._refuse_unread(
                    403, "Forbidden", "cross-site request refused (missing console header or wrong origin)"
                )
                return
            if method != "POST":
                self._refuse_unread(405, "MethodNotAllowed", "the console answers GET and POST only")
                return
            body = self._read_body()
            if body is None:
                return
            self._body = body
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path
        try:
            if path.startswith("/api/"):
                self._proxy(method, path.removeprefix("/api"), parsed.query)
            elif method != "GET":
                self._error(405, "MethodNotAllowed", "only the API routes accept POST")
            elif path == "/ui/graph":
                if ConsoleHandler.graph_cache is None:
                    ConsoleHandler.graph_cache = _graph_json()
                self._send(200, ConsoleHandler.graph_cache, "application/json")
            elif path == "/ui/outcomes":
                self._send(200, _outcomes_json(), "application/json")
            elif path == "/ui/checks":
                self._send(200, _checks_json(), "application/json")
            elif path == "/ui/resource-types":
                self._send(200, _resource_types_json(), "application/json")
            elif path == "/ui/findings":
                wanted = urllib.parse.parse_qs(parsed.query).get("resource", [None])[0]
                if wanted is None or not self._bad_resource("resource", wanted):
                    self._json(200, self.backend.latest_findings(wanted))
            elif match := re.fullmatch(rf"/ui/audits/({_ID})/states", path):
                self._states(match.group(1), parsed.query)
            elif match := re.fullmatch(rf"/ui/audits/({_ID})/report\.json", path):
                self._report(match.group(1))
            else:
                self._static(path)
        except ConsoleUnavailable as exc:
            self._error(exc.status, exc.error, exc.message)
        except ApiUnreachable as exc:
            self._error(502, "ApiUnreachable", str(exc), url=exc.url)
        except UpstreamAnswer as exc:
            fallback = {"error": "UpstreamError", "message": str(exc)}
            self._json(exc.status, exc.body if isinstance(exc.body, dict) else fallback)

    def _page(self) -> None:
        """index.html (it holds no secret: the token arrives in the URL fragment); never cached."""
        page = (STATIC / "index.html").read_bytes()
        self._send(200, page, "text/html; charset=utf-8", {"Cache-Control": "no-store"})

    def _static(self, path: str) -> None:
        if path in {"/", "/index.html", "/static/index.html"}:
            self._page()
            return
        name = path.removeprefix("/static/")
        if path not in {"/", "/index.html"} and not path.startswith("/static/"):
            self._error(404, "NotFound", f"no page {path}")
            return
        target = (STATIC / name).resolve()
        if not target.is_relative_to(STATIC) or not target.is_file():
            self._error(404, "NotFound", f"no asset {path}")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in {"application/javascript", "image/svg+xml"}:
            content_type += "; charset=utf-8"
        self._send(200, target.read_bytes(), content_type, {"Cache-Control": "no-cache"})

    def _read_body(self) -> bytes | None:
        """Exactly Content-Length bytes (checked first); None once an error has been answered."""
        length = self._content_length()
        if length is None:
            return None
        try:
            raw = self.rfile.read(length) if length else b""
        except TimeoutError:  # fewer bytes than announced, and the client keeps the socket open
            self._refuse_unread(408, "RequestTimeout", "the request body did not arrive in time")
            return None
        if len(raw) != length:  # fewer bytes than announced, then the client closed its side
            self._refuse_unread(400, "InvalidRequest", "the request body is shorter than its Content-Length")
            return None
        return raw

    def _read_json_body(self) -> tuple[bool, Any]:
        raw = self._body
        if not raw:
            return True, None
        try:
            return True, json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, absurdly nested
            self._error(400, "InvalidRequest", "the request body is not JSON")
            return False, None

    def _proxy(self, method: str, path: str, query: str) -> None:
        if allowed_route(method, path) is None:
            self._error(
                404, "NotFound", f"the console forwards only the audit API's routes, not {method} {path}"
            )
            return
        if method == "POST":
            ok, body = self._read_json_body()
            if not ok:
                return
        else:
            body = None
        if path == "/audits" and method == "POST" and isinstance(body, dict):
            resource = body.get("resource")
            if isinstance(resource, dict) and self._bad_audited_resource(resource):
                return
        if path == "/exemptions" and method == "POST" and isinstance(body, dict):
            bucket = body.get("bucket")
            if isinstance(bucket, str) and self._bad_bucket("bucket", bucket):
                return
        if path == "/exemptions" and method == "GET":
            found = urllib.parse.parse_qs(query).get("bucket") if query else None
            if found:
                if self._bad_bucket("bucket", found[0]):
                    return
                path += "?" + urllib.parse.urlencode({"bucket": found[0]})
        if path == "/audits" and method == "GET" and query:
            params = urllib.parse.parse_qs(query)
            kept = {k: params[k][0] for k in LIST_QUERY if params.get(k)}
            if "resource" in kept and self._bad_resource("resource", kept["resource"]):
                return
            path += "?" + urllib.parse.urlencode(kept) if kept else ""
        if method == "GET" and path.endswith("/approval") and query:
            ids = urllib.parse.parse_qs(query).get("remediationIds")
            path += "?" + urllib.parse.urlencode({"remediationIds": ids[0]}) if ids else ""
        if path.startswith("/sweeps"):
            if method == "POST" and isinstance(body, dict) and self._bad_sweep_body(path, body):
                return
            if method == "GET" and query:
                path += _sweep_query(path, query)
        response = self.backend.client().request(method, path, body)
        payload = response.body
        if not isinstance(payload, dict | list):
            text = "" if payload is None else str(payload)
            payload = {
                "error": "UpstreamError",
                "message": text[:500] or f"the API answered {response.status}",
            }
        self._json(response.status, payload)

    def _bad_bucket(self, field: str, name: str) -> bool:
        """Answer 400 (as the API would) for a name that is not a bucket's; nothing is signed or sent."""
        return self._bad_resource(field, name, BUCKET)

    def _bad_resource(self, field: str, resource_id: str, resource_type: ResourceType | None = None) -> bool:
        """Answer 400 (as the API would) for an id that cannot name a resource of `resource_type`
        (without one: of the type it reads as); nothing is signed or sent."""
        try:
            checked_resource(resource_id, resource_type)
        except InvalidResourceId as exc:
            self._error(400, "InvalidRequest", f"{field}: {exc.message}", field=field)
            return True
        return False

    def _bad_audited_resource(self, resource: dict[str, Any]) -> bool:
        """A new audit's resource: its id checked against its type; with no type given, the type the
        id reads as is checked and written into the request. An unknown type is the API's to refuse."""
        resource_id, given = resource.get("id"), resource.get("type")
        if not isinstance(resource_id, str) or given not in (None, "", *RESOURCE_TYPES):
            return False
        try:
            resource["type"] = checked_resource(resource_id, given or None).type
        except InvalidResourceId as exc:
            self._error(400, "InvalidRequest", f"resource.id: {exc.message}", field="resource.id")
            return True
        return False

    def _bad_sweep_body(self, path: str, body: dict[str, Any]) -> bool:
        """A sweep's accounts, and the resource and account of an audit started from a sweep, checked
        as the API checks them; nothing is signed or sent when one is not."""
        accounts = body.get("accounts") if path == "/sweeps" else None
        if isinstance(accounts, list):
            for account in accounts:
                if isinstance(account, str) and not _ACCOUNT.fullmatch(account):
                    self._error(
                        400, "InvalidRequest", "accounts: an AWS account id is 12 digits", field="accounts"
                    )
                    return True
        if path.endswith("/audits"):
            account = body.get("accountId")
            if isinstance(account, str) and not _ACCOUNT.fullmatch(account):
                self._error(
                    400, "InvalidRequest", "accountId: an AWS account id is 12 digits", field="accountId"
                )
                return True
            resource = body.get("resource")
            if isinstance(resource, dict) and self._bad_audited_resource(resource):
                return True
        return False

    def _states(self, audit_id: str, query: str) -> None:
        names = [n for n in (urllib.parse.parse_qs(query).get("executions") or [audit_id])[0].split(",") if n]
        if not names or len(names) > 20 or not all(re.fullmatch(_ID, n) for n in names):
            self._error(400, "InvalidRequest", "executions: a comma-separated list of execution names")
            return
        import botocore.exceptions

        try:
            self._json(200, self.backend.state_history(names))
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = 404 if code == "ExecutionDoesNotExist" else 502
            self._error(status, code or "StepFunctionsError", str(exc))
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError) as exc:
            self._error(502, "ApiUnreachable", f"Step Functions cannot be reached: {exc}")

    def _report(self, audit_id: str) -> None:
        response = self.backend.client().get_audit(audit_id)
        body = response.body if isinstance(response.body, dict) else {}
        if response.status != 200:
            self._json(response.status, body or {"error": "UpstreamError", "message": str(response.body)})
        elif not body.get("report"):
            self._error(404, "NotFound", f"audit {audit_id} has no report yet")
        else:
            self._send(
                200,
                json.dumps(body["report"], indent=2).encode(),
                "application/json",
                {
                    "Content-Disposition": f'attachment; filename="audit-{audit_id}.json"',
                    "Cache-Control": "no-store",
                },
            )


def _sweep_query(path: str, query: str) -> str:
    """`?...` with the query parameters the sweep route takes (SWEEP_QUERY), each once; "" if none."""
    params = urllib.parse.parse_qs(query)
    for pattern, names in SWEEP_QUERY:
        if pattern.fullmatch(path):
            kept = {k: params[k][0] for k in names if params.get(k)}
            return "?" + urllib.parse.urlencode(kept) if kept else ""
    return ""


def make_server(backend: Backend, port: int = DEFAULT_PORT, *, verbose: bool = False) -> ThreadingHTTPServer:
    """The console's HTTP server on 127.0.0.1 (port 0: any free port); not yet serving.

    Each server makes its own secret (`server.token`, for in-process callers such as tests); the
    browser learns it only from the page the server serves.
    """
    token = secrets.token_urlsafe(32)
    handler = type("BoundConsoleHandler", (ConsoleHandler,), {"backend": backend, "token": token})
    server = ThreadingHTTPServer((HOST, port), handler)
    server.token = token  # type: ignore[attr-defined]
    server.daemon_threads = True
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secagent ui",
        description="Serve the web console on 127.0.0.1 (the API is called on your behalf).",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default %(default)s; 0 = any)"
    )
    parser.add_argument(
        "--endpoint-url", help="AWS endpoint (LocalStack: http://127.0.0.1:4566); env AWS_ENDPOINT_URL"
    )
    parser.add_argument(
        "--stack-name", help="the deployed stack (default SecurityAgent); env SECAGENT_STACK_NAME"
    )
    parser.add_argument("--region", help="AWS region (default: the credential chain's)")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument(
        "--api-url", help="the API's base URL, instead of finding it from the stack; env SECAGENT_API_URL"
    )
    parser.add_argument("--verbose", action="store_true", help="log each request on stderr")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    import os

    return Options(
        endpoint_url=args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
        stack_name=args.stack_name or os.environ.get("SECAGENT_STACK_NAME") or "SecurityAgent",
        region=args.region,
        profile=args.profile,
        api_url=args.api_url or os.environ.get("SECAGENT_API_URL") or None,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        server = make_server(Backend(options_from(args)), args.port, verbose=args.verbose)
    except OSError as exc:
        print(f"secagent ui: cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    # The secret goes only here: to the person who started the console (a fragment is never sent).
    url = f"http://{HOST}:{server.server_address[1]}/#token={server.token}"  # type: ignore[attr-defined]
    print(f"secagent console: open {url}  (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
