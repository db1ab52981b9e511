"""`secagent sweep ...` with a fake API: what each action prints and the exit codes it returns."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from secagent.cli import sweep as cli_sweep
from secagent.cli.common import CliError
from secagent.cli.main import build_parser, main
from secagent.client import ApiResponse
from secagent.models.posture import PostureReport
from tests.unit.cli.conftest import AUDIT_ID, FakeApi, audit_body

SWEEP_ID = "sweep-7f3c9e1d"
OWN, MEMBER, BROKEN = "111111111111", "222222222222", "333333333333"


class FakeSweepApi(FakeApi):
    """The audit API's fake (conftest) with the sweep routes, answered the same way."""

    def start_sweep(
        self,
        accounts: list[str] | None = None,
        resource_types: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse:
        return self._answer("start_sweep", accounts=accounts, resource_types=resource_types)

    def get_sweep(self, sweep_id: str) -> ApiResponse:
        return self._answer("get_sweep", sweep_id)

    def list_sweeps(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse:
        return self._answer("list_sweeps", limit=limit, next_token=next_token)

    def sweep_report(self, sweep_id: str, fmt: str = "json") -> ApiResponse:
        return self._answer("sweep_report", sweep_id, fmt=fmt)

    def sweep_findings(self, sweep_id: str, fmt: str, page: int) -> ApiResponse:
        return self._answer("sweep_findings", sweep_id, fmt=fmt, page=page)

    def start_sweep_audit(
        self,
        sweep_id: str,
        resource_type: str,
        resource_id: str,
        account_id: str | None = None,
        mode: str = "remediate",
        approval_timeout_seconds: int | None = None,
    ) -> ApiResponse:
        return self._answer(
            "start_sweep_audit",
            sweep_id,
            resource_type,
            resource_id,
            account_id=account_id,
            mode=mode,
            approval_timeout_seconds=approval_timeout_seconds,
        )

    def called(self, method: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for name, args, kwargs in self.calls if name == method]


def listing(account: str, status: str = "LISTED", resources: int = 3, error: Any = None) -> dict[str, Any]:
    return {"accountId": account, "status": status, "resources": resources, "error": error}


def failing(**counts: int) -> dict[str, int]:
    return {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0, **counts}


def sweep_body(status: str = "SUCCEEDED", **extra: Any) -> dict[str, Any]:
    ended = status != "RUNNING"
    return {
        "sweepId": SWEEP_ID,
        "status": status,
        "accounts": [OWN, MEMBER],
        "resourceTypes": ["AWS::S3::Bucket", "AWS::EC2::SecurityGroup"],
        "requestedBy": "alice",
        "requestedAt": "2026-11-25T15:39:04Z",
        "finishedAt": "2026-11-25T15:41:00Z" if ended else None,
        "progress": {"total": 6, "done": 6 if ended else 2, "failed": 0, "remaining": 0 if ended else 4},
        "listing": [listing(OWN), listing(MEMBER)],
        "summary": {
            "resources": 6,
            "compliant": 4,
            "nonCompliant": 2,
            "unjudged": 0,
            "complete": True,
            "failingBySeverity": failing(medium=2),
        }
        if ended
        else None,
        "links": {
            "self": f"/sweeps/{SWEEP_ID}",
            "report": f"/sweeps/{SWEEP_ID}/report",
            "findings": f"/sweeps/{SWEEP_ID}/findings",
        },
        **extra,
    }


def counts(**values: Any) -> dict[str, Any]:
    base = {
        "resources": 0,
        "seen": 0,
        "judged": 0,
        "compliant": 0,
        "nonCompliant": 0,
        "unjudged": 0,
        "unjudgedByOutcome": {"resourceNotFound": 0, "accessDenied": 0, "failed": 0},
        "unseen": 0,
        "findings": {"pass": 0, "fail": 0, "unknown": 0, "exempt": 0},
        "failingBySeverity": failing(),
    }
    return {**base, **values}


def posture() -> dict[str, Any]:
    """A posture report of two accounts, one failing bucket: valid against the real model."""
    bucket = {"type": "AWS::S3::Bucket", "id": "team-logs"}
    arn = "arn:aws:s3:::team-logs"
    return {
        "schemaVersion": "1",
        "sweepId": SWEEP_ID,
        "requestedBy": "alice",
        "requestedAt": "2026-11-25T15:39:04Z",
        "finishedAt": "2026-11-25T15:41:00Z",
        "resourceTypes": ["AWS::S3::Bucket"],
        "accounts": [OWN, MEMBER],
        "complete": True,
        "incompleteReasons": [],
        "totals": counts(
            accounts=2, accountsListed=2, resources=2, seen=2, judged=2, compliant=1, nonCompliant=1
        ),
        "byAccount": [
            {**counts(resources=1, nonCompliant=1), "accountId": OWN, "status": "LISTED", "error": None},
            {**counts(resources=1, compliant=1), "accountId": MEMBER, "status": "LISTED", "error": None},
        ],
        "byControl": [
            {
                "id": "FSBP:S3.8",
                "standard": "aws-foundational-security-best-practices/v/1.0.0",
                "control": "S3.8",
                "checkIds": ["s3_block_public_access"],
                "worstFailing": "HIGH",
                "resources": {"pass": 1, "fail": 1, "unknown": 0, "exempt": 0},
                "accounts": [{"accountId": OWN, "pass": 0, "fail": 1, "unknown": 0, "exempt": 0}],
                "failing": [
                    {
                        "accountId": OWN,
                        "region": "us-east-1",
                        "resource": bucket,
                        "resourceArn": arn,
                        "checkId": "s3_block_public_access",
                        "severity": "HIGH",
                    }
                ],
            }
        ],
        "failingResources": [
            {
                "accountId": OWN,
                "region": "us-east-1",
                "resource": bucket,
                "resourceArn": arn,
                "worst": "HIGH",
                "failing": 1,
                "failingBySeverity": failing(high=1),
                "checks": [{"checkId": "s3_block_public_access", "severity": "HIGH", "controls": []}],
            }
        ],
        "unjudgedResources": [],
    }


def run(action: Any, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = action(*args, out=out, err=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


# --- start -----------------------------------------------------------------------------------------


def test_start_prints_only_the_sweep_id_on_stdout_and_how_to_follow_it() -> None:
    api = FakeSweepApi(start_sweep=ApiResponse(202, {"sweepId": SWEEP_ID, "status": "RUNNING"}))
    code, out, err = run(cli_sweep.start, api, accounts=[OWN], resource_types=["AWS::S3::Bucket"])
    assert (code, out) == (0, f"{SWEEP_ID}\n")
    assert "read-only" in err and f"secagent sweep status {SWEEP_ID} --watch" in err
    assert api.called("start_sweep") == [((), {"accounts": [OWN], "resource_types": ["AWS::S3::Bucket"]})]


def test_start_with_json_prints_the_apis_answer() -> None:
    answer = {"sweepId": SWEEP_ID, "status": "RUNNING", "links": {"self": f"/sweeps/{SWEEP_ID}"}}
    api = FakeSweepApi(start_sweep=ApiResponse(202, answer))
    code, out, _ = run(cli_sweep.start, api, fmt="json")
    assert code == 0 and json.loads(out) == answer


@pytest.mark.parametrize(
    ("argv", "accounts", "types"),
    [
        (["sweep", "start"], None, None),
        (["sweep", "start", "--type", "all"], None, None),
        (["sweep", "start", "--type", "bucket"], None, ["AWS::S3::Bucket"]),
        (
            ["sweep", "start", "--type", "security-group", "--account", OWN, "--account", MEMBER],
            [OWN, MEMBER],
            ["AWS::EC2::SecurityGroup"],
        ),
    ],
)
def test_start_options_name_the_accounts_and_types_to_the_api(
    argv: list[str], accounts: list[str] | None, types: list[str] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = FakeSweepApi(start_sweep=ApiResponse(202, {"sweepId": SWEEP_ID}))
    monkeypatch.setattr(cli_sweep, "connect", lambda _options: api)
    assert main(argv) == 0
    assert api.called("start_sweep") == [((), {"accounts": accounts, "resource_types": types})]


def test_an_account_the_deployment_does_not_know_is_the_apis_403() -> None:
    refused = {"error": "Forbidden", "message": "444444444444 is not a member account", "field": "accounts"}
    api = FakeSweepApi(start_sweep=ApiResponse(403, refused))
    with pytest.raises(CliError) as caught:
        run(cli_sweep.start, api, accounts=["444444444444"])
    assert caught.value.code == 3 and "444444444444 is not a member account" in caught.value.message


def test_start_wait_follows_the_sweep_then_prints_its_report_and_exits_by_it() -> None:
    api = FakeSweepApi(
        start_sweep=ApiResponse(202, {"sweepId": SWEEP_ID, "status": "RUNNING"}),
        get_sweep=[
            ApiResponse(
                200, sweep_body("RUNNING", progress={"total": None, "done": 0, "failed": 0}, listing=[])
            ),
            ApiResponse(200, sweep_body("RUNNING")),
            ApiResponse(
                200,
                sweep_body(
                    "SUCCEEDED", summary={**sweep_body()["summary"], "failingBySeverity": failing(high=1)}
                ),
            ),
        ],
        sweep_report=ApiResponse(200, posture()),
    )
    code, out, err = run(cli_sweep.start, api, wait=True, fmt="json", sleep=lambda _: None)
    assert code == 1  # a HIGH finding fails: at --fail-on high
    assert json.loads(out)["sweepId"] == SWEEP_ID  # stdout is the report alone
    assert f"  account {OWN} listed: 3 resources" in err
    assert "  2/6 resources judged, 0 failed, 4 remaining" in err
    assert err.count("account 111111111111 listed") == 1  # each account's listing once


# --- status ----------------------------------------------------------------------------------------


def test_status_shows_progress_each_account_and_names_a_broken_one_with_its_error() -> None:
    broken = listing(BROKEN, "FAILED", 0, {"error": "AccessDenied", "message": "the member role is missing"})
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body("RUNNING", listing=[listing(OWN), broken])))
    out_io = io.StringIO()
    code = cli_sweep.status(api, SWEEP_ID, out=out_io)
    out = out_io.getvalue()
    assert code == 0
    assert "Progress: 2/6 resources judged, 0 failed, 4 remaining" in out
    assert f"! account {BROKEN} could not be listed (AccessDenied: the member role is missing)" in out
    row = next(line for line in out.splitlines() if line.startswith(BROKEN))
    assert "FAILED" in row and "AccessDenied: the member role is missing" in row
    assert f"secagent sweep status {SWEEP_ID} --watch" in out


def test_status_watch_follows_to_the_end_and_exits_3_when_it_did_not_succeed() -> None:
    api = FakeSweepApi(
        get_sweep=[
            ApiResponse(503, {"message": "busy"}),  # tolerated
            ApiResponse(200, sweep_body("RUNNING")),
            ApiResponse(200, sweep_body("TIMED_OUT")),
        ]
    )
    out = io.StringIO()
    code = cli_sweep.status(api, SWEEP_ID, watch=True, out=out, sleep=lambda _: None)
    assert code == 3
    assert "Sweep sweep-7f3c9e1d: TIMED_OUT" in out.getvalue()


def test_status_of_an_unknown_sweep_says_so() -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(404, {"error": "NotFound", "message": "no such sweep"}))
    with pytest.raises(CliError) as caught:
        cli_sweep.status(api, SWEEP_ID, out=io.StringIO())
    assert (caught.value.code, caught.value.message) == (3, f"sweep {SWEEP_ID} not found")


def test_a_malformed_sweep_id_is_a_usage_error_and_nothing_is_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sweep", "status", "../x"]) == 2
    assert "is not a sweep id" in capsys.readouterr().err


# --- report ----------------------------------------------------------------------------------------


def test_an_incomplete_sweep_with_nothing_failing_never_passes_the_gate() -> None:
    # Given a finished sweep whose every account was listed, where 3 resources could not be judged
    body = sweep_body()
    body["summary"] = {**body["summary"], "failingBySeverity": failing(), "unjudged": 3, "complete": False}
    api = FakeSweepApi(get_sweep=ApiResponse(200, body), sweep_report=ApiResponse(200, posture()))
    # When its report is printed
    code, _, err = run(cli_sweep.report, api, SWEEP_ID, fmt="json")
    # Then the gate fails as for an audit that could not judge its resource
    assert code == 3
    assert "incomplete" in err and "3 resource(s) not judged" in err


def test_report_json_prints_the_posture_report_and_exits_0_below_the_gate() -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_report=ApiResponse(200, posture()))
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID, fmt="json")
    assert code == 0  # two MEDIUM failures: below --fail-on high
    assert json.loads(out) == posture()


@pytest.mark.parametrize(("fail_on", "expected"), [("high", 0), ("medium", 1), ("critical", 0), ("info", 1)])
def test_report_exit_code_follows_fail_on(fail_on: str, expected: int) -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_report=ApiResponse(200, posture()))
    assert run(cli_sweep.report, api, SWEEP_ID, fmt="json", fail_on=fail_on)[0] == expected


def test_report_of_a_sweep_with_an_unlisted_account_exits_3_and_names_it() -> None:
    broken = listing(BROKEN, "FAILED", 0, {"error": "AccessDenied", "message": "no role"})
    body = sweep_body(listing=[listing(OWN), broken])
    api = FakeSweepApi(get_sweep=ApiResponse(200, body), sweep_report=ApiResponse(200, posture()))
    code, _, err = run(cli_sweep.report, api, SWEEP_ID, fmt="json")
    assert code == 3 and f"could not list account(s) {BROKEN}" in err


@pytest.mark.parametrize("ended", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_report_of_a_sweep_that_did_not_succeed_exits_3(ended: str) -> None:
    api = FakeSweepApi(
        get_sweep=ApiResponse(200, sweep_body(ended)), sweep_report=ApiResponse(200, posture())
    )
    code, _, err = run(cli_sweep.report, api, SWEEP_ID, fmt="json")
    assert code == 3 and f"ended {ended}" in err


def test_report_of_a_running_sweep_asks_nothing_more_and_says_how_to_follow_it() -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body("RUNNING")))
    with pytest.raises(CliError) as caught:
        run(cli_sweep.report, api, SWEEP_ID)
    assert caught.value.code == 3 and "is RUNNING" in caught.value.message
    assert not api.called("sweep_report")


def test_report_markdown_prints_the_apis_rendering() -> None:
    api = FakeSweepApi(
        get_sweep=ApiResponse(200, sweep_body()),
        sweep_report=ApiResponse(200, {"format": "markdown", "body": "# Sweep posture\n\n| a |"}),
    )
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID, fmt="markdown")
    assert (code, out) == (0, "# Sweep posture\n\n| a |\n")
    assert api.called("sweep_report") == [((SWEEP_ID,), {"fmt": "markdown"})]


def test_report_table_is_the_posture_reports_own_rendering() -> None:
    posture_module = pytest.importorskip("secagent.sweep.posture")
    if not hasattr(posture_module, "render_table"):
        pytest.skip("secagent.sweep.posture.render_table is not written yet")
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_report=ApiResponse(200, posture()))
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID)
    assert code == 0
    assert out == posture_module.render_table(PostureReport.model_validate(posture())).rstrip("\n") + "\n"


def _pages(fmt: str, total: int) -> list[ApiResponse]:
    return [
        ApiResponse(
            200,
            {
                "format": fmt,
                "page": n,
                "pages": total,
                "findings": [{"id": f"f-{n}-{i}"} for i in range(100 if n < total - 1 else 7)],
                "nextPage": n + 1 if n < total - 1 else None,
            },
        )
        for n in range(total)  # the first page is page 0
    ]


def test_report_ocsf_reads_every_page_into_one_array() -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_findings=_pages("ocsf", 3))
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID, fmt="ocsf")
    findings = json.loads(out)
    assert code == 0 and len(findings) == 207
    assert findings[0] == {"id": "f-0-0"} and findings[-1] == {"id": "f-2-6"}
    assert [kwargs for _, kwargs in api.called("sweep_findings")] == [
        {"fmt": "ocsf", "page": 0},
        {"fmt": "ocsf", "page": 1},
        {"fmt": "ocsf", "page": 2},
    ]


def test_a_sweep_without_failing_findings_has_one_empty_page() -> None:
    empty = ApiResponse(200, {"format": "asff", "page": 0, "pages": 0, "findings": [], "nextPage": None})
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_findings=empty)
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID, fmt="asff")
    assert (code, json.loads(out)) == (0, {"Findings": []})


def test_report_asff_is_what_batch_import_findings_takes() -> None:
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_findings=_pages("asff", 2))
    code, out, _ = run(cli_sweep.report, api, SWEEP_ID, fmt="asff")
    document = json.loads(out)
    assert code == 0 and list(document) == ["Findings"] and len(document["Findings"]) == 107


def test_a_paging_that_does_not_end_is_an_error_not_a_loop() -> None:
    looping = ApiResponse(200, {"format": "ocsf", "page": 0, "pages": 2, "findings": [], "nextPage": 0})
    api = FakeSweepApi(get_sweep=ApiResponse(200, sweep_body()), sweep_findings=looping)
    with pytest.raises(CliError, match="paging does not end"):
        run(cli_sweep.report, api, SWEEP_ID, fmt="ocsf")


# --- list ------------------------------------------------------------------------------------------


def test_list_shows_sweeps_and_how_to_read_the_next_page() -> None:
    page = {
        "sweeps": [
            {
                "sweepId": SWEEP_ID,
                "status": "RUNNING",
                "requestedAt": "2026-11-25T15:39:04Z",
                "requestedBy": "alice",
                "accounts": [OWN, MEMBER],
            }
        ],
        "nextToken": "tok1",
    }
    api = FakeSweepApi(list_sweeps=ApiResponse(200, page))
    code, out, err = run(cli_sweep.list_sweeps, api, limit=1)
    assert code == 0
    assert SWEEP_ID in out and "2026-11-25 15:39:04" in out and f"{OWN}, {MEMBER}" in out
    assert err == "More sweeps: secagent sweep list --limit 1 --next-token tok1\n"


# --- remediate -------------------------------------------------------------------------------------


def test_remediate_starts_an_audit_that_waits_for_approval_and_says_what_to_run_next() -> None:
    started = {"auditId": AUDIT_ID, "status": "RUNNING", "sweepId": SWEEP_ID}
    api = FakeSweepApi(start_sweep_audit=ApiResponse(202, started))
    code, out, err = run(cli_sweep.remediate, api, SWEEP_ID, "team-logs")
    assert (code, out) == (0, f"{AUDIT_ID}\n")
    assert "waits for approval" in err
    assert f"secagent status {AUDIT_ID}" in err and f"secagent approve {AUDIT_ID}" in err
    assert api.called("start_sweep_audit") == [
        (
            (SWEEP_ID, "AWS::S3::Bucket", "team-logs"),
            {"account_id": None, "mode": "remediate", "approval_timeout_seconds": None},
        )
    ]


def test_remediate_a_security_group_of_a_named_account_in_plan_mode() -> None:
    api = FakeSweepApi(start_sweep_audit=ApiResponse(202, {"auditId": AUDIT_ID}))
    code, _, err = run(cli_sweep.remediate, api, SWEEP_ID, "sg-0123abcd", account_id=OWN, mode="plan")
    assert code == 0 and "plan" in err and "approve" not in err
    assert api.called("start_sweep_audit")[0] == (
        (SWEEP_ID, "AWS::EC2::SecurityGroup", "sg-0123abcd"),
        {"account_id": OWN, "mode": "plan", "approval_timeout_seconds": None},
    )


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        (400, "swept read-only: deploy the agent in that account to remediate there", 2),
        (404, "s3://gone is not among the sweep's results", 3),
        (409, "the sweep has not finished", 3),
    ],
)
def test_remediate_refusals_carry_the_apis_message(status: int, message: str, code: int) -> None:
    api = FakeSweepApi(start_sweep_audit=ApiResponse(status, {"error": "X", "message": message}))
    with pytest.raises(CliError) as caught:
        run(cli_sweep.remediate, api, SWEEP_ID, "team-logs", account_id=MEMBER)
    assert caught.value.code == code and message in caught.value.message


def test_remediate_wait_follows_the_audit_like_audit_wait(remediated: dict[str, Any]) -> None:
    api = FakeSweepApi(
        start_sweep_audit=ApiResponse(202, {"auditId": AUDIT_ID}),
        get_audit=ApiResponse(
            200, audit_body("SUCCEEDED", outcome="PARTIALLY_REMEDIATED", report=remediated)
        ),
    )
    code, out, _ = run(cli_sweep.remediate, api, SWEEP_ID, "team-logs", wait=True, poll_interval=0)
    assert code == 0 and f"Audit {AUDIT_ID} of s3://team-logs (remediate), from sweep {SWEEP_ID}" in out


def test_remediate_an_id_its_type_does_not_fit_is_a_usage_error_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_sweep, "connect", lambda _options: pytest.fail("nothing may be sent"))
    assert main(["sweep", "remediate", SWEEP_ID, "team-logs", "--type", "security-group"]) == 2
    assert "is not a valid security group id" in capsys.readouterr().err


# --- the parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["start", "status", "report", "list", "remediate"])
def test_help_of_each_action_lists_the_exit_codes(action: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", action, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: secagent sweep") and "exit codes:" in out and "130" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep"],
        ["sweep", "start", "--account", "12345"],
        ["sweep", "start", "--type", "volume"],
        ["sweep", "report", SWEEP_ID, "--format", "pdf"],
        ["sweep", "list", "--limit", "0"],
        ["sweep", "remediate", SWEEP_ID],
        ["sweep", "remediate", SWEEP_ID, "b", "--mode", "apply"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_global_options_after_the_action() -> None:
    args = build_parser().parse_args(
        ["sweep", "report", SWEEP_ID, "--fail-on", "low", "--region", "eu-west-1"]
    )
    assert (args.fail_on, args.region, args.format) == ("low", "eu-west-1", "table")
