"""The installed `secagent` command against the deployed stack on LocalStack (a real process each time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from scripts.buckets import create_public_bucket
from scripts.localstack_client import ENDPOINT, REGION
from tests.deployed import approver_credentials, start_direct

SECAGENT = Path(sys.prefix) / "bin" / "secagent"
ENV = {
    **os.environ,
    "AWS_ENDPOINT_URL": ENDPOINT,
    "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
    "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
    "AWS_DEFAULT_REGION": REGION,
    "NO_COLOR": "1",
}


def approver_env() -> dict[str, str]:
    """The CLI's environment for another person than the requester (four-eyes)."""
    return {**ENV, **approver_credentials()}


def secagent(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if not SECAGENT.exists():
        pytest.fail(f"{SECAGENT} is missing: run `.venv/bin/pip install --no-deps -e .`")
    return subprocess.run(
        [str(SECAGENT), *args], capture_output=True, text=True, timeout=timeout, env=env or ENV, check=False
    )


def one_clean_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("secagent") and "error:" in result.stderr
    return result.stderr


def route_missing(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 3 and "no such route" in result.stderr


def status_json(audit_id: str) -> dict[str, Any]:
    result = secagent("status", audit_id, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_status(audit_id: str, wanted: set[str], timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = status_json(audit_id)
        if body["status"] in wanted:
            return body
        assert time.monotonic() < deadline, f"audit {audit_id} still {body['status']} after {timeout}s"
        time.sleep(0.5)


def make_public_bucket(aws: Any) -> str:
    return create_public_bucket(aws("s3"), "cli-public")


@pytest.fixture(scope="module")
def planned(aws: Any, outputs: dict[str, str]) -> tuple[str, subprocess.CompletedProcess[str]]:
    """One plan-mode audit followed with --wait: (audit id, the finished command)."""
    bucket = make_public_bucket(aws)
    result = secagent("audit", bucket, "--wait")
    first = result.stdout.splitlines()[0] if result.stdout else ""
    assert first.startswith("Audit "), (result.stdout, result.stderr)
    return first.split()[1], result


def test_audit_wait_in_plan_mode_shows_steps_and_exits_1_with_findings(planned: Any) -> None:
    _, result = planned
    assert result.returncode == 1, result.stderr
    assert "Outcome: NON_COMPLIANT" in result.stdout
    assert "s3_bucket_policy_public" in result.stdout and "PROPOSED" in result.stdout
    # step lines while waiting: the timeline's "✓ Step  0.41s", or "· Step" from currentStep (older API)
    assert any(line.startswith(("  ✓ ", "  · ")) for line in result.stdout.splitlines())
    assert "\033[" not in result.stdout  # not a terminal


def test_status_of_it_exits_0_and_shows_the_steps(planned: Any) -> None:
    audit_id, _ = planned
    result = secagent("status", audit_id)
    assert result.returncode == 0, result.stderr
    assert f"Audit {audit_id}" in result.stdout and "Status: SUCCEEDED" in result.stdout
    assert "outcome: NON_COMPLIANT" in result.stdout


def test_list_shows_it(planned: Any) -> None:
    audit_id, _ = planned
    result = secagent("list", "--limit", "50")
    if route_missing(result):
        pytest.skip("GET /audits is not deployed on this stack yet")
    assert result.returncode == 0, result.stderr
    assert audit_id in result.stdout


def test_report_formats(planned: Any) -> None:
    audit_id, _ = planned
    as_json = secagent("report", audit_id, "--format", "json")
    assert as_json.returncode == 1, as_json.stderr  # the outcome's exit code: findings remain
    report = json.loads(as_json.stdout)
    assert report["auditId"] == audit_id and report["outcome"] == "NON_COMPLIANT"
    markdown = secagent("report", audit_id, "--format", "markdown")
    assert markdown.returncode == 1
    assert markdown.stdout.startswith("# Security audit of AWS::S3::Bucket")
    for heading in ("## Findings", "### Critical", "## Remediations", "## Steps"):
        assert f"\n{heading}\n" in markdown.stdout


def test_remediate_approve_then_status(aws: Any, outputs: dict[str, str]) -> None:
    bucket = make_public_bucket(aws)
    started = secagent("audit", bucket, "--remediate")
    assert started.returncode == 0, started.stderr
    audit_id = started.stdout.strip()  # the id alone on stdout, for scripts
    uuid.UUID(audit_id)
    waiting = wait_status(audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"})
    assert waiting["status"] == "AWAITING_APPROVAL", waiting
    shown = secagent("status", audit_id)
    assert "Awaiting approval of" in shown.stdout and "$ aws s3api" in shown.stdout

    # The requester may not approve (four-eyes); a script must quote the digest it reviewed
    own = secagent("approve", audit_id, "--yes", "--digest", waiting["planDigest"])
    assert own.returncode == 3 and "four-eyes" in one_clean_error_line(own)
    unreviewed = secagent("approve", audit_id, "--yes", env=approver_env())
    assert unreviewed.returncode == 2 and "--digest" in unreviewed.stderr
    approved = secagent(
        "approve",
        audit_id,
        "--comment",
        "cli integration test",
        "--yes",
        "--digest",
        waiting["planDigest"],
        env=approver_env(),
    )
    assert approved.returncode == 0, approved.stderr
    assert f"Approved audit {audit_id}" in approved.stdout
    again = secagent("approve", audit_id, "--yes", "--digest", waiting["planDigest"], env=approver_env())
    refused = one_clean_error_line(again)  # decided already: nothing pending to approve
    assert again.returncode == 3 and ("already decided" in refused or "not awaiting approval" in refused)

    done = wait_status(audit_id, {"SUCCEEDED", "FAILED"})
    # The approved fixes took effect; what was not approved (the account-wide Block Public Access,
    # HIGH) or has no fix still fails: never called REMEDIATED
    assert done["outcome"] == "PARTIALLY_REMEDIATED", done
    final = secagent("status", audit_id)
    assert final.returncode == 0 and "outcome: PARTIALLY_REMEDIATED" in final.stdout
    assert secagent("report", audit_id).returncode == 1  # a HIGH finding is left: a CI gate fails
    assert secagent("--fail-on", "critical", "report", audit_id).returncode == 0  # no CRITICAL left

    # The requester asks for a rollback: a new audit that another person approves like any other
    undo = secagent("rollback", audit_id)
    assert undo.returncode == 0, undo.stderr
    rollback_id = undo.stdout.split("started as audit ")[1].split(":")[0]
    pending = wait_status(rollback_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"})
    assert pending["status"] == "AWAITING_APPROVAL" and pending["mode"] == "rollback", pending
    own = secagent("approve", rollback_id, "--yes", "--digest", pending["planDigest"])
    assert own.returncode == 3 and "four-eyes" in one_clean_error_line(own)
    approved_undo = secagent(
        "approve", rollback_id, "--yes", "--digest", pending["planDigest"], "--wait", env=approver_env()
    )
    assert "Outcome: ROLLED_BACK" in approved_undo.stdout, approved_undo.stdout + approved_undo.stderr
    assert wait_status(rollback_id, {"SUCCEEDED", "FAILED"})["outcome"] == "ROLLED_BACK"


def test_remediate_reject(aws: Any, outputs: dict[str, str]) -> None:
    bucket = make_public_bucket(aws)
    audit_id = secagent("audit", bucket, "--remediate").stdout.strip()
    assert (
        wait_status(audit_id, {"AWAITING_APPROVAL", "SUCCEEDED", "FAILED"})["status"] == "AWAITING_APPROVAL"
    )
    rejected = secagent("reject", audit_id, "--comment", "not now", "--wait")
    assert rejected.returncode == 1, rejected.stderr  # REJECTED: findings remain
    assert "Outcome: REJECTED" in rejected.stdout and "NOT_APPROVED" in rejected.stdout


def test_resume_of_a_failed_audit(aws: Any, outputs: dict[str, str]) -> None:
    bucket = make_public_bucket(aws)
    execution_input = {
        "resource": {"type": "AWS::S3::Bucket", "id": bucket},
        "mode": "plan",
        "faults": {"analyze": {"kind": "error", "error": "InjectedFault"}},
    }
    audit_id = start_direct(aws, outputs, execution_input)
    failed = wait_status(audit_id, {"SUCCEEDED", "FAILED"})
    assert failed["status"] == "FAILED", failed
    report = secagent("report", audit_id)
    assert report.returncode == 3, report.stderr
    # one sentence, the id the full error is logged under, and the resume it allows; no trace
    assert "Analyze Configuration failed unexpectedly (InjectedFault)" in report.stdout
    assert "correlation id" in report.stdout and f"secagent resume {audit_id}" in report.stdout
    assert "Traceback" not in report.stdout and ".py" not in report.stdout
    resumed = secagent("resume", audit_id, "--wait")
    if route_missing(resumed):
        pytest.skip("POST /audits/{id}/resume is not deployed on this stack yet")
    assert resumed.returncode == 1, resumed.stderr  # the fault is not carried over: NON_COMPLIANT
    assert f"Resumed audit {audit_id} from Analyze Configuration" in resumed.stdout
    assert "Discover Bucket  reused from the earlier run" in resumed.stdout
    assert "Outcome: NON_COMPLIANT" in resumed.stdout


def test_unknown_audit_is_exit_3_one_line() -> None:
    result = secagent("status", str(uuid.uuid4()))
    assert result.returncode == 3
    assert "not found" in one_clean_error_line(result)
    assert secagent("report", "no-such-audit").returncode == 3


def test_invalid_bucket_name_is_a_usage_error() -> None:
    result = secagent("audit", "Not_A_Bucket")
    assert result.returncode == 2
    assert "not a valid S3 bucket name" in one_clean_error_line(result)


def test_usage_error_is_one_line() -> None:
    result = secagent("report", "x", "--format", "pdf")
    assert result.returncode == 2 and "invalid choice" in one_clean_error_line(result)


def test_unreachable_endpoint_is_exit_3_one_line() -> None:
    started = time.monotonic()
    result = secagent("--endpoint-url", "http://127.0.0.1:9", "status", str(uuid.uuid4()), timeout=60)
    assert result.returncode == 3
    assert "could not reach" in one_clean_error_line(result)
    assert time.monotonic() - started < 20


def test_unreachable_api_url_is_exit_3_one_line() -> None:
    result = secagent("--api-url", "http://127.0.0.1:9/prod", "status", "x")
    assert result.returncode == 3
    assert "could not reach http://127.0.0.1:9/prod/audits/x" in one_clean_error_line(result)


def test_stack_not_found_is_exit_3_one_line() -> None:
    result = secagent("--stack-name", "NoSuchStack", "list")
    assert result.returncode == 3
    assert "stack NoSuchStack not found" in one_clean_error_line(result)


def test_checks_and_help_need_no_aws() -> None:
    offline = {**ENV, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    checks = secagent("checks", "--format", "json", env=offline)
    assert checks.returncode == 0 and len(json.loads(checks.stdout)) >= 10
    helped = secagent("--help", env=offline)
    assert helped.returncode == 0 and "exit codes:" in helped.stdout
