"""Text and Markdown rendering used by the CLI (secagent.render) and the progress marks."""

from __future__ import annotations

from typing import Any

from secagent.cli.watch import Progress, Style
from secagent.models.report import Report
from secagent.render import render_audit_list, render_markdown_report, render_status
from tests.unit.cli.conftest import AUDIT_ID, audit_body, step


def test_markdown_groups_failing_findings_by_severity(remediated: dict[str, Any]) -> None:
    text = render_markdown_report(Report.model_validate(remediated))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[0] == "# Security audit of AWS::S3::Bucket `cli-demo-public-1`"
    assert [h for h in headings if h.startswith("## ")] == [
        "## Findings",
        "## Remediations",
        "## Approval",
        "## Verification",
        "## Steps",
    ]
    assert headings.index("### Critical") < headings.index("### High") < headings.index("### Low")
    assert (
        "- **FAIL** -> fixed: Bucket policy grants public access `s3_bucket_policy_public` "
        "(FSBP:S3.2, FSBP:S3.3)" in text
    )
    assert "- **FAIL** -> still FAIL: Bucket server access logging is not enabled" in text
    assert "### Passed (8)" in text
    assert "```sh\naws s3api put-public-access-block --bucket cli-demo-public-1" in text
    assert "| Outcome | **PARTIALLY_REMEDIATED** |" in text


def test_markdown_of_a_plan_has_proposed_fixes_and_no_verification(planned: dict[str, Any]) -> None:
    text = render_markdown_report(Report.model_validate(planned))
    assert "Result: **PROPOSED** (approved: no)" in text
    assert "## Verification" not in text and "## Approval" not in text


def test_markdown_escapes_pipes_in_cells(planned: dict[str, Any]) -> None:
    planned = {**planned, "requestedBy": "a|b"}
    assert "| Requested by | a\\|b |" in render_markdown_report(Report.model_validate(planned))


def test_status_awaiting_approval_lists_the_plans(remediated: dict[str, Any]) -> None:
    body = audit_body(
        "AWAITING_APPROVAL",
        currentStep="Await Approval",
        pendingPlans=[r["plan"] for r in remediated["remediations"]],
        approvalExpiresAt="2026-11-25T16:39:05.010276Z",
    )
    text = render_status(body)
    assert "Awaiting approval of 8 plan(s) until 2026-11-25 16:39:05:" in text
    assert "Current step: Await Approval" in text


def test_empty_list() -> None:
    assert render_audit_list([]) == "No audits."


def test_progress_marks_without_unicode_or_with_colour() -> None:
    body = audit_body(
        timeline=[step("Discover Bucket", "failed", error={"error": "AccessDenied", "message": "refused"})]
    )
    ascii_lines = Progress(AUDIT_ID, Style(unicode=False)).update(body)
    assert ascii_lines == ["  !! Discover Bucket  failed: refused"]
    colour = Progress(AUDIT_ID, Style(color=True)).update(body)
    assert colour == ["  \033[31m✗\033[0m Discover Bucket  failed: refused"]


def test_progress_of_a_resumed_audit() -> None:
    first = audit_body(
        "FAILED",
        timeline=[
            step("Discover Bucket", "succeeded", execution="a"),
            step("Analyze Configuration", "failed", execution="a", error={"error": "AccessDenied"}),
            step("Propose Fixes", "skipped"),
        ],
    )
    progress = Progress(AUDIT_ID)
    assert progress.update(first)[1:] == [
        "  ✗ Analyze Configuration  failed: AccessDenied",
        "  - Propose Fixes  skipped",
    ]
    resumed = audit_body(
        timeline=[
            step("Discover Bucket", "succeeded", execution="a", reused=True),
            step("Analyze Configuration", "failed", execution="a_r1"),
            step("Propose Fixes", "running"),
        ]
    )
    # the same follower: only the step run again is news
    assert progress.update(resumed) == ["  ✗ Analyze Configuration  failed"]
    # `secagent resume --wait` follows with a fresh view: the reused step says so
    assert Progress(AUDIT_ID).update(resumed) == [
        "  ✓ Discover Bucket  reused from the earlier run",
        "  ✗ Analyze Configuration  failed",
    ]
    assert progress.update(resumed) == []
    assert progress.running(resumed) == "Propose Fixes"
