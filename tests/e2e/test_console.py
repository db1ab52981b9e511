"""The web console in a real browser, against the deployed stack on LocalStack."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from scripts.localstack_client import ENDPOINT, session
from secagent.aws import client_factory
from secagent.checks import analyze
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings
from secagent.ui.graph import load_definition
from tests.e2e.conftest import screenshot

POLICY_CHECK = "s3_bucket_policy_public"
FINISH_TIMEOUT = 120_000
pytestmark = pytest.mark.e2e


def policy_verdict(bucket: str) -> str:
    snapshot = discover_bucket(bucket, session(), clients=client_factory(session(), endpoint_url=ENDPOINT))
    findings = analyze(snapshot, AgentSettings()).findings
    return next(f.status for f in findings if f.check_id == POLICY_CHECK)


def overflowing(page: Any) -> list[str]:
    """Elements sticking out of a narrow window (the page would scroll sideways); [] when none."""
    return page.evaluate(
        """() => {
        if (document.documentElement.scrollWidth <= window.innerWidth + 1) return [];
        return [...document.querySelectorAll("body *")]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
          .filter((e) => !e.closest(".graph-scroll"))
          .slice(0, 8)
          .map((e) => `${e.tagName}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`);
      }"""
    )


def step_statuses(page: Any) -> tuple[tuple[str, str], ...]:
    items = page.locator("#timeline li").evaluate_all(
        "els => els.map(e => [e.dataset.step, e.dataset.status])"
    )
    return tuple(tuple(item) for item in items)


def start_from_form(page: Any, console: str, bucket: str, mode: str = "remediate") -> str:
    page.goto(f"{console}/#/new")
    page.get_by_label("Bucket name").fill(bucket)
    page.get_by_label("Remediate").check() if mode == "remediate" else page.get_by_label("Plan").check()
    page.get_by_role("button", name="Start audit").click()
    page.wait_for_url("**/#/audits/*")
    return page.url.rsplit("/", 1)[-1]


def watch_until_approval(page: Any) -> list[tuple[tuple[str, str], ...]]:
    """The timeline's successive states until the approval form shows (the steps advancing)."""
    seen: list[tuple[tuple[str, str], ...]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        current = step_statuses(page)
        if current and (not seen or seen[-1] != current):
            seen.append(current)
        if page.locator("#approval-title").count():
            break
        time.sleep(0.1)
    seen.append(step_statuses(page))
    return seen


def test_bad_bucket_name_shows_the_api_message_beside_the_field(page, console):
    page.goto(f"{console}/#/new")
    expect(page.get_by_role("heading", name="Start an audit")).to_be_visible()
    screenshot(page, "start-audit-form")
    page.get_by_label("Bucket name").fill("Not_A_Bucket!")
    page.get_by_role("button", name="Start audit").click()
    error = page.locator("#resource-id-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("is not a valid S3 bucket name")  # the API's own words
    field = page.get_by_label("Bucket name")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    assert "resource-id-error" in (field.get_attribute("aria-describedby") or "")
    assert page.url.endswith("#/new")  # nothing started
    screenshot(page, "start-audit-form-error")
    # A timeout below the API's bound shows beside its own field.
    field.fill("valid-name-for-timeout-check")
    page.get_by_label("Approval timeout (seconds)").fill("5")
    page.get_by_role("button", name="Start audit").click()
    expect(page.locator("#approval-timeout-error")).to_be_visible()
    expect(page.locator("#resource-id-error")).to_be_hidden()


def test_remediate_approve_reaches_remediated_and_fixes_the_bucket(
    page, console, approver_console, public_bucket
):
    assert policy_verdict(public_bucket) == "FAIL"
    audit_id = start_from_form(page, console, public_bucket, "remediate")
    expect(page.get_by_role("heading", name=f"Audit of {public_bucket}")).to_be_visible()

    # The steps advance while the audit runs, until it waits for a person.
    seen = watch_until_approval(page)
    waiting = dict(seen[-1])
    assert waiting["Discover Bucket"] == "succeeded"
    assert waiting["Analyze Configuration"] == "succeeded"
    assert waiting["Propose Fixes"] == "succeeded"
    assert waiting["Await Approval"] == "running"
    assert waiting["Apply Fixes"] == "pending"
    assert len(seen) >= 2, seen  # the page changed as the audit went on

    # The pending plans with their CLI commands and risks.
    approval = page.locator("section.approval")
    expect(approval).to_contain_text(POLICY_CHECK)
    expect(approval.locator("pre.command").first).to_contain_text("aws s3api")
    expect(approval.locator(".risk").first).to_contain_text("Risk:")

    # The graph: every ASL state drawn; colours from this execution.
    graph = page.locator("#graph svg")
    expect(graph).to_be_visible()
    states = load_definition()["States"]
    assert graph.locator("g.node").count() == len(states)
    expect(graph.locator('g.node[data-state="Await Approval"]')).to_have_attribute("data-status", "running")
    expect(graph.locator('g.node[data-state="Plan Only?"]')).to_have_attribute("data-status", "succeeded")
    expect(graph.locator('g.node[data-state="Mark Compliant"]')).to_have_attribute("data-status", "idle")
    screenshot(page, "audit-awaiting-approval")

    # The requester may not approve their own audit (four-eyes): the API says so on the page
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("section.approval .form-status")).to_contain_text("four-eyes")

    # Another person, in their own console, approves
    page.goto(f"{approver_console}/#/audits/{audit_id}")
    expect(page.locator("#approval-title")).to_be_visible()
    approval = page.locator("section.approval")
    lock = approval.locator("li.plan", has_text="Object Lock")
    expect(lock.locator("input[type=checkbox]")).not_to_be_checked()  # irreversible: only when ticked
    expect(lock).to_contain_text("Not included unless you tick it")
    page.get_by_label("Comment (optional)").fill("e2e: approved from the console")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("#decision-note")).to_contain_text("You approved")  # the API took it
    expect(page.locator(".outcome")).to_contain_text("PARTIALLY REMEDIATED", timeout=FINISH_TIMEOUT)
    expect(page.locator(".outcome")).to_have_class(re.compile(r"\boutcome-warn\b"))  # Outcome.style

    done = dict(step_statuses(page))
    assert done["Apply Fixes"] == "succeeded" and done["Verify Fixes"] == "succeeded"
    report = page.locator("section.report")
    expect(report).to_contain_text("Before and after (Verify)")
    row = report.locator("tr", has_text=POLICY_CHECK).first
    expect(row).to_contain_text("fail")
    expect(row).to_contain_text("pass")
    expect(report.locator("h4").first).to_be_visible()  # findings grouped by severity
    expect(report).to_contain_text("FSBP")  # the controls they map to
    expect(graph.locator('g.node[data-state="Record Verified Outcome"]')).to_have_attribute(
        "data-status", "succeeded"
    )
    expect(graph.locator('g.node[data-state="Mark Rejected"]')).to_have_attribute("data-status", "idle")

    # The JSON download is the report.
    download = page.request.get(f"{approver_console}/ui/audits/{audit_id}/report.json")
    assert download.ok
    assert "attachment" in download.headers["content-disposition"]
    assert json.loads(download.body())["outcome"] == "PARTIALLY_REMEDIATED"
    screenshot(page, "audit-report")

    # The fix is real.
    assert policy_verdict(public_bucket) == "PASS"

    # Narrow window: still usable (no horizontal scrolling of the page).
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "audit-report-narrow", full_page=False)
    assert not overflowing(page)

    # The list shows it with its outcome.
    page.set_viewport_size({"width": 1360, "height": 900})
    page.goto(f"{console}/#/audits")
    row = page.locator("tr", has_text=audit_id)
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("remediated")
    screenshot(page, "audits-list", full_page=False)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "audits-list-narrow", full_page=False)
    assert not overflowing(page)


def test_reject_changes_nothing(page, console, public_bucket):
    start_from_form(page, console, public_bucket, "remediate")
    expect(page.locator("#approval-title")).to_be_visible(timeout=90_000)
    page.get_by_label("Comment (optional)").fill("e2e: not now")
    page.get_by_role("button", name="Reject").click()
    expect(page.locator("#decision-note")).to_contain_text("You rejected")
    expect(page.locator(".outcome")).to_contain_text("REJECTED", timeout=FINISH_TIMEOUT)
    statuses = dict(step_statuses(page))
    assert statuses["Apply Fixes"] == "skipped" and statuses["Verify Fixes"] == "skipped"
    expect(page.locator("section.report")).to_contain_text("Decision: reject")
    graph = page.locator("#graph svg")
    expect(graph.locator('g.node[data-state="Mark Rejected"]')).to_have_attribute("data-status", "succeeded")
    expect(graph.locator('g.node[data-state="Apply Fixes"]')).to_have_attribute("data-status", "idle")
    assert policy_verdict(public_bucket) == "FAIL"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_api_shows_a_banner(page):
    dead = _free_port()  # nothing listens there
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secagent.ui.server",
            "--port",
            "0",
            "--api-url",
            f"http://127.0.0.1:{dead}/_aws/execute-api/none/prod",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("secagent console: open http://127.0.0.1:"), line
        url = line.split()[3]
        assert "#token=" in url  # the secret reaches only whoever started it
        page.goto(url)
        expect(page).to_have_url(re.compile(r"#/audits$"))  # and leaves the address bar at once
        banner = page.get_by_role("alert")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("The audit API cannot be reached")
        expect(banner).to_contain_text(f"127.0.0.1:{dead}")
        screenshot(page, "api-unreachable", full_page=False)
    finally:
        process.terminate()
        process.wait(timeout=10)
