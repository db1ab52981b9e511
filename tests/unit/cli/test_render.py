"""Text and Markdown rendering used by the CLI (secagent.render) and the progress marks."""

from __future__ import annotations

from typing import Any

from secagent.cli.watch import Progress, Style
from secagent.models.report import Report
from secagent.render import (
    plan_severity,
    render_audit_list,
    render_markdown_report,
    render_pending_plans,
    render_status,
)
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
    assert (
        "| Outcome | **PARTIALLY_REMEDIATED**: the approved fixes were applied and verified; "
        "other findings still fail |" in text
    )


def test_markdown_of_a_plan_has_proposed_fixes_and_no_verification(planned: dict[str, Any]) -> None:
    text = render_markdown_report(Report.model_validate(planned))
    assert "Result: **PROPOSED** (approved: no)" in text
    assert "## Verification" not in text and "## Approval" not in text


def test_markdown_escapes_pipes_in_cells(planned: dict[str, Any]) -> None:
    planned = {**planned, "requestedBy": "a|b"}
    assert "| Requested by | a\\|b |" in render_markdown_report(Report.model_validate(planned))


NAMED_ONLY = {
    "s3control.put_public_access_block": "account-wide: it changes every bucket in the account; approve "
    "it by naming its id",
    "s3.enable_versioning": "irreversible: it cannot be undone; approve it by naming its id",
    "s3.enable_object_lock": "irreversible: it cannot be undone; approve it by naming its id",
}


def _pending(remediated: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's plans as GET /audits/{id} shows them while awaiting approval."""
    return [
        {
            **r["plan"],
            "approvedByDefault": r["plan"]["remediationId"] not in NAMED_ONLY,
            "namedOnlyReason": NAMED_ONLY.get(r["plan"]["remediationId"]),
        }
        for r in remediated["remediations"]
    ]


def test_status_awaiting_approval_lists_the_plans(remediated: dict[str, Any]) -> None:
    body = audit_body(
        "AWAITING_APPROVAL",
        currentStep="Await Approval",
        pendingPlans=_pending(remediated),
        approvalExpiresAt="2026-11-25T16:39:05.010276Z",
    )
    text = render_status(body)
    assert "Awaiting approval of 8 plan(s) until 2026-11-25 16:39:05, worst first:" in text
    assert "Current step: Await Approval" in text
    assert f"Approve the 5 in the default selection: secagent approve {AUDIT_ID}\n" in text
    assert f"secagent approve {AUDIT_ID} --only ID[,ID...]" in text


def test_pending_plans_by_severity_worst_first_with_the_ids_only_takes(remediated: dict[str, Any]) -> None:
    text = render_pending_plans(_pending(remediated))
    lines = text.splitlines()
    # Grouped by the worst severity of the findings each plan fixes, worst first; numbered in the
    # order the plans apply
    headers = [line for line in lines if not line.startswith(" ")]
    assert headers == ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
    numbers = [line.split(".")[0].strip() for line in lines if line.startswith("  ") and line[2].isdigit()]
    assert numbers == ["3", "1", "2", "4", "5", "7", "6", "8"]
    high = text[text.index("HIGH\n") : text.index("MEDIUM\n")]
    # Each plan's remediation id (what --only takes), whether it is reversible and needs naming
    assert "     id: s3.put_bucket_public_access_block   reversible: yes   in the default selection\n" in high
    assert (
        "     id: s3control.put_public_access_block   reversible: yes   needs naming (account-wide: it "
        "changes every bucket in the account)\n" in high
    )
    assert "     fixes: s3_account_block_public_access_off\n" in high
    assert (
        "id: s3.enable_object_lock   reversible: no   needs naming (irreversible: it cannot be undone)"
        in text
    )


def test_plan_severity_is_the_worst_failing_finding_it_fixes(remediated: dict[str, Any]) -> None:
    plan = {"checkIds": ["s3_bucket_acls_enabled", "s3_bucket_lifecycle_missing"]}
    # The check registry rates the checks (MEDIUM and LOW): the worse one
    assert plan_severity(plan) == "MEDIUM"
    # The audit's findings, when known, say how each verdict rated itself (only failing ones count)
    findings = [
        {"checkId": "s3_bucket_acls_enabled", "severity": "LOW", "status": "FAIL"},
        {"checkId": "s3_bucket_lifecycle_missing", "severity": "LOW", "status": "FAIL"},
        {"checkId": "s3_bucket_policy_public", "severity": "CRITICAL", "status": "FAIL"},
    ]
    assert plan_severity(plan, findings) == "LOW"
    # A severity the API gives the plan wins; a plan of unknown checks has none
    assert plan_severity({**plan, "severity": "HIGH"}, findings) == "HIGH"
    assert plan_severity({"checkIds": ["no_such_check"]}) is None
    assert render_pending_plans([{"order": 1, "checkIds": ["no_such_check"]}]).startswith(
        "SEVERITY UNKNOWN\n"
    )


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
