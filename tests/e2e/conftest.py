"""Browser tests of the web console: Debian's Chromium driven by Playwright, against the deployed stack.

Needs LocalStack with the stack deployed (`make localstack-up`, `make deploy`; LOCALSTACK_PORT picks
which one) and `/usr/bin/chromium` (installed by `make bootstrap`; Playwright never downloads a
browser here). The console runs in this process on a free port of 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.buckets import create_public_bucket
from scripts.identities import person
from scripts.localstack_client import ENDPOINT, REGION, client, stack_outputs
from tests.deployed import APPROVER_ROLE

CHROMIUM = os.environ.get("SECAGENT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots are refreshed on purpose (SECAGENT_UPDATE_SCREENSHOTS=1); an ordinary
# test run keeps its own, so it leaves the working tree as it found it.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("SECAGENT_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "secagent-screenshots"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser tests of the web console against the deployed stack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def aws_environment() -> None:
    """The console signs with the usual credential chain: LocalStack's test credentials here."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    try:
        urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=3).read()
    except OSError as exc:
        pytest.fail(f"LocalStack is not reachable on {ENDPOINT} ({exc}); run `make localstack-up` first")
    try:
        return stack_outputs()
    except LookupError as exc:
        pytest.fail(str(exc))


class Console(str):
    """A console's base URL; `token` is its per-launch secret (the URL fragment `secagent ui` prints)."""

    token: str


CONSOLES: list[Console] = []


def _serve(backend: Any) -> Iterator[Console]:
    from secagent.ui.server import make_server

    server = make_server(backend, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = Console(f"http://127.0.0.1:{server.server_address[1]}")
    url.token = server.token  # type: ignore[attr-defined]
    CONSOLES.append(url)
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def console(outputs: dict[str, str]) -> Iterator[Console]:
    """The requester's console (secagent.ui.server) on a free port, finding the API from the stack."""
    from secagent.ui.server import Backend, Options

    yield from _serve(Backend(Options(endpoint_url=ENDPOINT, region=REGION)))


@pytest.fixture(scope="session")
def approver_console(outputs: dict[str, str]) -> Iterator[Console]:
    """Another person's console (four-eyes: the requester may not approve), signed as their role."""
    from secagent.client import AuditApiClient
    from secagent.ui.server import Backend, Options

    session = person(APPROVER_ROLE, "console")
    backend = Backend(
        Options(endpoint_url=ENDPOINT, region=REGION),
        client=AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=session),
        sfn=session.client("stepfunctions", endpoint_url=ENDPOINT),
        state_machine_arn=outputs["StateMachineArn"],
    )
    yield from _serve(backend)


# Module scope, not session: Playwright's sync API runs an asyncio loop in this thread until it
# stops, and later tests in the same run (the MCP client's anyio.run) need the thread free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: `make bootstrap` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def page(browser: Any, console: Console, approver_console: Console) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
    # As the person who started each console would: its secret in the tab, before the page's script.
    tokens = json.dumps({c: c.token for c in CONSOLES})
    context.add_init_script(
        f"const t = {tokens}[location.origin]; if (t) sessionStorage.setItem('secagent-token', t);"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.set_default_timeout(20_000)
    yield page
    context.close()
    # No script errors and no CSP violation (anything loaded from elsewhere would be one).
    unexpected = [e for e in errors if "502" not in e and "Failed to load resource" not in e]
    assert not unexpected, unexpected


def screenshot(page: Any, name: str, *, full_page: bool = True, element: Any = None) -> Path:
    """The page (or one element of it) as docs/screenshots/<name>.png when refreshing them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if element is not None:
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture()
def public_bucket() -> str:
    return create_public_bucket(client("s3"), "console-public")
