"""The command functions with a fake API: what they print and the exit codes they return."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from secagent.cli.audit import audit
from secagent.cli.checks import checks
from secagent.cli.common import CliError
from secagent.cli.decide import decide
from secagent.cli.list_audits import list_audits
from secagent.cli.report import report
from secagent.cli.resume import resume
from secagent.cli.rollback import rollback
from secagent.cli.status import status
from secagent.cli.watch import Style
from secagent.client import ApiResponse
from secagent.models.outcome import Outcome
from secagent.models.snapshot import ResourceRef
from secagent.workflow.timeline import PLAN
from tests.unit.cli.conftest import AUDIT_ID, FakeApi, audit_body, step

PLAIN = Style(live=False, color=False, unicode=True)
BUCKET = ResourceRef(type="AWS::S3::Bucket", id="cli-demo-public-1")
GROUP = ResourceRef(type="AWS::EC2::SecurityGroup", id="sg-0123abcd")


def run_audit(api: FakeApi, resource: ResourceRef = BUCKET, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = audit(api, resource, out=out, err=err, style=PLAIN, sleep=lambda _: None, **kwargs)
    return code, out.getvalue(), err.getvalue()


def test_audit_without_wait_prints_only_the_id_on_stdout() -> None:
    api = FakeApi(start_audit=ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"}))
    code, out, err = run_audit(api)
    assert (code, out) == (0, f"{AUDIT_ID}\n")
    assert err == f"Audit of s3://cli-demo-public-1 started (plan). Follow it: secagent status {AUDIT_ID}\n"
    assert api.calls[0] == (
        "start_audit",
        ("cli-demo-public-1",),
        {"mode": "plan", "approval_timeout_seconds": None, "resource_type": "AWS::S3::Bucket"},
    )


def test_audit_of_a_security_group_names_its_type_to_the_api_and_in_what_it_prints() -> None:
    api = FakeApi(start_audit=ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"}))
    code, out, err = run_audit(api, GROUP)
    assert (code, out) == (0, f"{AUDIT_ID}\n")
    assert err.startswith("Audit of security group sg-0123abcd started (plan).")
    assert api.calls[0][1:] == (
        ("sg-0123abcd",),
        {"mode": "plan", "approval_timeout_seconds": None, "resource_type": "AWS::EC2::SecurityGroup"},
    )


def test_audit_remediate_passes_mode_and_timeout() -> None:
    api = FakeApi(start_audit=ApiResponse(202, {"auditId": AUDIT_ID}))
    run_audit(api, remediate=True, approval_timeout=120)
    assert api.calls[0][2] == {
        "mode": "remediate",
        "approval_timeout_seconds": 120,
        "resource_type": "AWS::S3::Bucket",
    }


def test_audit_wait_shows_each_step_once_then_the_report(remediated: dict[str, Any]) -> None:
    t0, t1 = "2026-11-25T15:39:04.000Z", "2026-11-25T15:39:04.410Z"
    answers = [
        audit_body(timeline=[step("Discover Bucket", "running")]),
        audit_body(
            timeline=[
                step(
                    "Discover Bucket", "retrying", error={"error": "TransientError", "message": "S3 was slow"}
                )
            ]
        ),
        audit_body(
            timeline=[
                step("Discover Bucket", "succeeded", 2, started=t0, ended=t1),
                step("Analyze Configuration", "running"),
            ]
        ),
        audit_body(
            timeline=[
                step("Discover Bucket", "succeeded", 2, started=t0, ended=t1),
                step("Analyze Configuration", "succeeded"),
            ]
        ),
        audit_body(
            "SUCCEEDED",
            outcome="PARTIALLY_REMEDIATED",
            report=remediated,
            timeline=[
                step("Discover Bucket", "succeeded", 2, started=t0, ended=t1),
                step("Analyze Configuration", "succeeded"),
            ],
        ),
    ]
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}), get_audit=[ApiResponse(200, a) for a in answers]
    )
    code, out, _ = run_audit(api, remediate=True, wait=True)
    assert code == 0
    lines = out.splitlines()
    assert "  ↻ Discover Bucket  retrying (attempt 2): S3 was slow" in lines
    assert "  ✓ Discover Bucket  0.41s" in lines
    assert sum(line.startswith("  ✓ Analyze Configuration") for line in lines) == 1
    assert "Outcome: PARTIALLY_REMEDIATED" in out  # a MEDIUM finding still fails: below --fail-on high
    assert "\033[" not in out  # not a terminal: no ANSI codes


def _timeline(idle: str, failed: bool) -> list[dict[str, Any]]:
    """The API's timeline (every step of the plan, in workflow order) of a plan-mode audit whose
    report step has ended, or of one that failed at Analyze; the steps it never entered are `idle`."""
    if failed:
        return [
            step("Discover Bucket", "succeeded"),
            step("Analyze Configuration", "failed", error={"error": "AccessDenied"}),
            *(step(n, idle) for n in PLAN[2:-1]),
            step("Write Failure Report", "succeeded"),
        ]
    return [
        *(step(n, "succeeded") for n in PLAN[:3]),
        *(step(n, idle) for n in PLAN[3:-1]),
        step("Write Report", "succeeded"),
    ]


@pytest.mark.parametrize("failed", [False, True])
def test_audit_wait_prints_steps_in_workflow_order(planned: dict[str, Any], failed: bool) -> None:
    # Given a poll that sees the report step ended while the execution still runs (the steps it
    # never entered are pending until the audit ends), then the end (they are skipped)
    ended = audit_body(
        "SUCCEEDED", outcome="NON_COMPLIANT", report=planned, timeline=_timeline("skipped", failed)
    )
    answers = [audit_body(timeline=_timeline("pending", failed)), ended]
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}), get_audit=[ApiResponse(200, a) for a in answers]
    )
    _, out, _ = run_audit(api, wait=True)
    # Then each step is printed once, in the order of the workflow
    marks = ("  ✓ ", "  ✗ ", "  - ")
    printed = [line[4:].split("  ")[0] for line in out.splitlines() if line.startswith(marks)]
    assert printed == [s["name"] for s in ended["timeline"]]


def test_audit_wait_asks_for_approval_once_and_keeps_waiting(remediated: dict[str, Any]) -> None:
    plans = [r["plan"] for r in remediated["remediations"]]
    waiting = audit_body(
        "AWAITING_APPROVAL",
        currentStep="Await Approval",
        pendingPlans=plans,
        approvalExpiresAt="2026-11-25T16:39:05Z",
    )
    done = audit_body("SUCCEEDED", outcome="PARTIALLY_REMEDIATED", report=remediated)
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}),
        get_audit=[ApiResponse(200, waiting)] * 3 + [ApiResponse(200, done)],
    )
    code, out, _ = run_audit(api, remediate=True, wait=True)
    assert code == 0
    assert out.count("waiting for approval") == 1
    assert f"secagent approve {AUDIT_ID}" in out and f"secagent reject {AUDIT_ID}" in out
    assert "8 plan(s) proposed" in out and "$ aws s3api put-public-access-block" in out
    # Which to choose: by severity, worst first, each with the id --only takes
    assert f"secagent approve {AUDIT_ID} --only ID[,ID...]" in out
    assert out.index("     CRITICAL\n") < out.index("     HIGH\n") < out.index("     LOW\n")
    assert "id: s3control.put_public_access_block   reversible: yes" in out


def test_audit_wait_falls_back_to_current_step_without_timeline(planned: dict[str, Any]) -> None:
    answers = [
        audit_body(currentStep="Discover Bucket"),
        audit_body(currentStep="Discover Bucket"),
        audit_body(currentStep="Propose Fixes"),
        audit_body("SUCCEEDED", outcome="NON_COMPLIANT", report=planned),
    ]
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}), get_audit=[ApiResponse(200, a) for a in answers]
    )
    code, out, _ = run_audit(api, wait=True)
    assert code == 1
    assert out.count("· Discover Bucket") == 1 and "· Propose Fixes" in out


def _report_with(outcome: Outcome, severities: list[str], base: dict[str, Any]) -> dict[str, Any]:
    failing = [
        {"checkId": f"check_{i}", "title": "t", "severity": sev, "status": "FAIL", "controls": []}
        for i, sev in enumerate(severities)
    ]
    passing = [{"checkId": "ok", "title": "t", "severity": "CRITICAL", "status": "PASS", "controls": []}]
    report_ = {**base, "outcome": outcome.value, "findings": failing + passing}
    if outcome.ended_unjudged:
        report_["failure"] = {
            "step": "Discover Bucket",
            "error": "AccessDenied",
            "message": "Discover Bucket was refused access.",
            "correlationId": "r-1",
            "resumable": True,
        }
    return report_


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ([], "high", 0),
        (["CRITICAL"], "high", 1),
        (["HIGH"], "high", 1),
        (["MEDIUM", "LOW"], "high", 0),  # below the threshold: a CI gate passes
        (["MEDIUM"], "medium", 1),
        (["HIGH"], "critical", 0),
        (["INFO"], "info", 1),
    ],
)
def test_every_outcome_exits_by_the_findings_left_and_fail_on(
    outcome: Outcome, severities: list[str], fail_on: str, code: int, planned: dict[str, Any]
) -> None:
    # Whatever the outcome's name, the exit status says whether findings at or above --fail-on
    # still fail; an audit that failed, found no bucket or was denied says nothing about it: 3
    report_ = _report_with(outcome, severities, planned)
    status_ = "FAILED" if outcome is Outcome.FAILED else "SUCCEEDED"
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}),
        get_audit=ApiResponse(200, audit_body(status_, outcome=outcome.value, report=report_)),
    )
    expected = 3 if outcome.ended_unjudged else code
    assert run_audit(api, wait=True, fail_on=fail_on)[0] == expected
    shown = io.StringIO()
    assert report(api, AUDIT_ID, fail_on=fail_on, out=shown) == expected
    # and a person reads the outcome with what it means, from its one definition
    assert f"Outcome: {outcome.value}" in shown.getvalue() and outcome.wording in shown.getvalue()


def test_exit_status_judges_verifys_findings_not_the_first_analysis(remediated: dict[str, Any]) -> None:
    # Before the fixes CRITICAL findings failed; after Verify only a MEDIUM one does
    assert any(f["severity"] == "CRITICAL" and f["status"] == "FAIL" for f in remediated["findings"])
    api = FakeApi(
        get_audit=ApiResponse(200, audit_body("SUCCEEDED", outcome=remediated["outcome"], report=remediated))
    )
    assert report(api, AUDIT_ID, out=io.StringIO()) == 0
    assert report(api, AUDIT_ID, fail_on="medium", out=io.StringIO()) == 1


@pytest.mark.parametrize("resumable", [True, False])
def test_audit_failed_without_report_says_the_sentence_the_id_and_resume_only_when_it_helps(
    resumable: bool,
) -> None:
    failure = {
        "step": "Write Failure Report",
        "error": "States.Runtime",
        "message": "Write Failure Report failed unexpectedly (States.Runtime).",
        "correlationId": f"{AUDIT_ID}/Write Failure Report",
        "resumable": resumable,
    }
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}),
        get_audit=ApiResponse(200, audit_body("FAILED", failure=failure)),
    )
    with pytest.raises(CliError) as caught:
        run_audit(api, wait=True)
    assert caught.value.code == 3
    first, *rest = caught.value.message.split("\n")
    assert first == (
        f"audit {AUDIT_ID} failed: Write Failure Report failed unexpectedly (States.Runtime). "
        f"(correlation id {AUDIT_ID}/Write Failure Report: the full error is logged under it)"
    )
    assert rest == ([f"Resume from the failed step: secagent resume {AUDIT_ID}"] if resumable else [])


def test_wait_tolerates_a_few_5xx_and_unreachable_polls(planned: dict[str, Any]) -> None:
    done = ApiResponse(200, audit_body("SUCCEEDED", outcome="NON_COMPLIANT", report=planned))
    api = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID}),
        get_audit=[ApiResponse(502, {"message": "bad gateway"}), ConnectionRefusedError(), done],
    )
    assert run_audit(api, wait=True)[0] == 1


def test_ctrl_c_while_waiting_names_the_audit_and_exits_130() -> None:
    api = FakeApi(start_audit=ApiResponse(202, {"auditId": AUDIT_ID}), get_audit=KeyboardInterrupt())
    with pytest.raises(CliError) as caught:
        run_audit(api, wait=True)
    assert caught.value.code == 130
    assert f"secagent status {AUDIT_ID}" in caught.value.message


def test_audit_bad_bucket_is_a_usage_error() -> None:
    message = '"Bad_Name" is not a valid S3 bucket name: only lowercase letters'
    api = FakeApi(
        start_audit=ApiResponse(400, {"error": "InvalidRequest", "message": message, "field": "resource.id"})
    )
    with pytest.raises(CliError) as caught:
        run_audit(api)
    assert caught.value.code == 2 and "not a valid S3 bucket name" in caught.value.message


def test_status_shows_steps_and_exits_0_whatever_the_outcome(planned: dict[str, Any]) -> None:
    body = audit_body(
        "SUCCEEDED",
        outcome="NON_COMPLIANT",
        report=planned,
        elapsedSeconds=2.5,
        timeline=[
            step(
                "Discover Bucket", "succeeded", started="2026-11-25T15:39:04Z", ended="2026-11-25T15:39:05Z"
            ),
            {**step("Plan Only?", "succeeded"), "type": "Choice"},
        ],
    )
    out = io.StringIO()
    assert status(FakeApi(get_audit=ApiResponse(200, body)), AUDIT_ID, out=out) == 0
    text = out.getvalue()
    assert "Status: SUCCEEDED   outcome: NON_COMPLIANT" in text
    assert "Discover Bucket  succeeded  1         1.00s" in text
    assert "Plan Only?" not in text and "elapsed: 2.5s" in text


def test_status_of_a_remediated_audit_counts_what_verify_saw(remediated: dict[str, Any]) -> None:
    body = audit_body("SUCCEEDED", outcome=remediated["outcome"], report=remediated)
    out = io.StringIO()
    assert status(FakeApi(get_audit=ApiResponse(200, body)), AUDIT_ID, out=out) == 0
    before = sum(f["status"] == "FAIL" for f in remediated["findings"])
    after = remediated["verification"]["findings"]
    still = sum(f["status"] == "FAIL" for f in after)
    assert still < before  # the fixture fixed something: the two counts differ
    assert (
        f"Findings: {still} failing of {len(after)} checked after Verify ({before} before)" in out.getvalue()
    )


def test_status_json_is_the_api_answer() -> None:
    out = io.StringIO()
    status(FakeApi(get_audit=ApiResponse(200, audit_body())), AUDIT_ID, fmt="json", out=out)
    assert json.loads(out.getvalue()) == audit_body()


def test_unknown_audit_is_exit_3() -> None:
    with pytest.raises(CliError) as caught:
        status(FakeApi(get_audit=ApiResponse(404, {"error": "NotFound", "message": "x"})), "nope")
    assert (caught.value.code, caught.value.message) == (3, "audit nope not found")


def test_list_prints_a_table_and_the_next_page_hint() -> None:
    audits = [
        {
            "auditId": AUDIT_ID,
            "status": "SUCCEEDED",
            "resource": {"type": "AWS::S3::Bucket", "id": "b1"},
            "mode": "plan",
            "startedAt": "2026-11-25T15:39:04Z",
            "stoppedAt": None,
        }
    ]
    api = FakeApi(list_audits=ApiResponse(200, {"audits": audits, "nextToken": "abc"}))
    out, err = io.StringIO(), io.StringIO()
    assert list_audits(api, status="SUCCEEDED", limit=5, out=out, err=err) == 0
    assert AUDIT_ID in out.getvalue() and "b1" in out.getvalue()
    assert err.getvalue() == "More audits: secagent list --status SUCCEEDED --limit 5 --next-token abc\n"
    assert api.calls[0][2] == {"status": "SUCCEEDED", "resource": None, "limit": 5, "next_token": None}


@pytest.mark.parametrize(
    ("query", "token", "said"),
    [
        ({"resource": "b1"}, None, "No audits for b1."),
        ({"status": "RUNNING", "resource": "b1"}, None, "No RUNNING audits for b1."),
        ({}, None, "No audits."),
        ({"resource": "b1"}, "t2", "No audits for b1 in the part of the history read so far."),
    ],
)
def test_list_with_nothing_found_says_for_what_and_keeps_the_filter_in_the_hint(
    query: dict[str, str], token: str | None, said: str
) -> None:
    api = FakeApi(list_audits=ApiResponse(200, {"audits": [], "nextToken": token}))
    out, err = io.StringIO(), io.StringIO()
    assert list_audits(api, next_token="t1", out=out, err=err, **query) == 0
    assert out.getvalue() == said + "\n"
    if token:
        assert err.getvalue() == f"More audits: secagent list --resource b1 --next-token {token}\n"
    else:
        assert err.getvalue() == ""


def test_approve_and_reject() -> None:
    api = FakeApi(decide=ApiResponse(200, {"auditId": AUDIT_ID, "decision": "reject"}))
    out = io.StringIO()
    assert decide(api, AUDIT_ID, "reject", comment="not now", out=out) == 0
    assert api.calls == [("decide", (AUDIT_ID, "reject"), {"comment": "not now"})]
    assert "Rejected" in out.getvalue()


def test_resume_says_where_it_restarts() -> None:
    api = FakeApi(
        resume=ApiResponse(
            202,
            {
                "auditId": AUDIT_ID,
                "status": "RUNNING",
                "execution": "x_r1",
                "resumeFrom": "Apply Fixes",
                "reusedSteps": ["Discover Bucket", "Analyze Configuration"],
            },
        )
    )
    out = io.StringIO()
    assert resume(api, AUDIT_ID, out=out) == 0
    assert (
        "from Apply Fixes (execution x_r1); reusing Discover Bucket, Analyze Configuration" in out.getvalue()
    )


@pytest.mark.parametrize("fmt", ["table", "json", "markdown"])
def test_report_formats_and_exit_code(fmt: str, remediated: dict[str, Any]) -> None:
    api = FakeApi(
        get_audit=ApiResponse(200, audit_body("SUCCEEDED", outcome="PARTIALLY_REMEDIATED", report=remediated))
    )
    out = io.StringIO()
    assert report(api, AUDIT_ID, fmt=fmt, out=out) == 0
    text = out.getvalue()
    if fmt == "json":
        assert json.loads(text) == remediated
    elif fmt == "markdown":
        assert text.startswith("# Security audit of AWS::S3::Bucket `cli-demo-public-1`")
    else:
        assert "Outcome: PARTIALLY_REMEDIATED" in text


def test_report_of_a_running_audit_is_an_error() -> None:
    with pytest.raises(CliError) as caught:
        report(FakeApi(get_audit=ApiResponse(200, audit_body("AWAITING_APPROVAL"))), AUDIT_ID)
    assert "AWAITING_APPROVAL" in caught.value.message and caught.value.code == 3


def test_checks_lists_the_registry() -> None:
    from secagent.checks.registry import list_checks

    out = io.StringIO()
    assert checks(fmt="json", out=out) == 0
    listed = json.loads(out.getvalue())
    assert {c["id"] for c in listed} == {m.id for m in list_checks()}
    assert set(listed[0]) == {"id", "title", "severity", "controls", "remediationId", "rationale"}
    assert listed[0]["severity"] == "CRITICAL"
    table_out = io.StringIO()
    checks(out=table_out)
    assert "s3_bucket_policy_public" in table_out.getvalue() and "FSBP:S3.2" in table_out.getvalue()


def test_rollback_starts_a_new_audit_that_waits_for_another_person() -> None:
    api = FakeApi(rollback=ApiResponse(202, {"auditId": "undo-1", "status": "RUNNING"}))
    out = io.StringIO()
    assert rollback(api, AUDIT_ID, out=out) == 0
    assert api.calls == [("rollback", (AUDIT_ID,), {})]
    assert "started as audit undo-1" in out.getvalue() and "secagent approve undo-1" in out.getvalue()


def test_rollback_wait_follows_the_rollback_audit_and_exits_by_its_outcome(
    remediated: dict[str, Any],
) -> None:
    undone = {**remediated, "auditId": "undo-1", "outcome": "ROLLED_BACK", "mode": "rollback"}
    api = FakeApi(
        rollback=ApiResponse(202, {"auditId": "undo-1", "status": "RUNNING"}),
        get_audit=ApiResponse(200, audit_body("SUCCEEDED", outcome="ROLLED_BACK", report=undone)),
    )
    out = io.StringIO()
    assert rollback(api, AUDIT_ID, wait=True, out=out, fail_on="critical") == 0
    assert api.calls[1][0] == "get_audit" and api.calls[1][1] == ("undo-1",)
    assert "Outcome: ROLLED_BACK" in out.getvalue()


def test_rollback_of_an_audit_that_applied_nothing_is_one_error() -> None:
    refused = {"error": "Conflict", "message": 'Audit "a" applied no fix, so there is nothing to roll back.'}
    with pytest.raises(CliError) as caught:
        rollback(FakeApi(rollback=ApiResponse(409, refused)), AUDIT_ID, out=io.StringIO())
    assert caught.value.code == 3 and "nothing to roll back" in caught.value.message
