"""`secagent approve`: a person confirms what the API previews, or a script quotes a reviewed digest."""

from __future__ import annotations

import io
from typing import Any

import pytest

from secagent.cli import decide as decide_cmd
from secagent.cli.common import CliError
from secagent.cli.decide import decide
from secagent.cli.main import main
from secagent.client import ApiResponse, AuditApiClient
from tests.unit.cli.conftest import AUDIT_ID, FakeApi, audit_body

BUCKET = "cli-demo-public-1"
DEFAULT_DIGEST = "cd" * 32
NAMED_DIGEST = "ef" * 32
APPROVED = ApiResponse(200, {"auditId": AUDIT_ID, "decision": "approve"})


def plan(
    order: int, remediation_id: str, title: str, check_id: str, *, reversible: bool = True
) -> dict[str, Any]:
    return {
        "order": order,
        "remediationId": remediation_id,
        "checkIds": [check_id],
        "title": title,
        "resourceId": BUCKET,
        "risk": f"risk of {remediation_id}",
        "reversible": reversible,
        "cliCommand": f"aws s3api {remediation_id} --bucket {BUCKET}",
    }


# Severities as the check registry rates the checks they fix: MEDIUM, MEDIUM, HIGH
VERSIONING = plan(1, "s3_bucket_versioning", "Enable versioning", "s3_bucket_versioning_disabled")
SSE = plan(
    2, "s3_bucket_default_encryption", "Turn on default encryption", "s3_bucket_default_encryption_missing"
)
ACCOUNT_BPA = plan(
    3,
    "s3_account_block_public_access",
    "Block public access account-wide",
    "s3_account_block_public_access_off",
    reversible=False,
)
ACCOUNT_WIDE = "account-wide: it changes every bucket in the account; approve it by naming its id"
# GET /audits/{id} while the audit awaits approval: what a plain approval covers, and why not the rest
AWAITING = ApiResponse(
    200,
    audit_body(
        "AWAITING_APPROVAL",
        pendingPlans=[
            {**VERSIONING, "approvedByDefault": True, "namedOnlyReason": None},
            {**SSE, "approvedByDefault": True, "namedOnlyReason": None},
            {**ACCOUNT_BPA, "approvedByDefault": False, "namedOnlyReason": ACCOUNT_WIDE},
        ],
        defaultRemediationIds=["s3_bucket_versioning", "s3_bucket_default_encryption"],
    ),
)


def preview(*plans: dict[str, Any], digest: str = DEFAULT_DIGEST, named: bool = False) -> ApiResponse:
    chosen = {p["remediationId"] for p in plans}
    left_out = [
        {"remediationId": p["remediationId"], "reason": ACCOUNT_WIDE}
        for p in (VERSIONING, SSE, ACCOUNT_BPA)
        if p["remediationId"] not in chosen
    ]
    return ApiResponse(
        200,
        {
            "auditId": AUDIT_ID,
            "selection": "named" if named else "default",
            "remediationIds": [p["remediationId"] for p in plans],
            "plans": list(plans),
            "planDigest": digest,
            "leftOut": left_out,
        },
    )


class Terminal(io.StringIO):
    """Typed answers, on what looks like a terminal."""

    def isatty(self) -> bool:
        return True


def approve(api: FakeApi, stdin: io.StringIO, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    code = decide(api, AUDIT_ID, "approve", out=out, stdin=stdin, **kwargs)
    return code, out.getvalue()


def sent(api: FakeApi) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [call for call in api.calls if call[0] == "decide"]


# --- a person at the terminal ---


@pytest.mark.parametrize("answer", ["y\n", "yes\n", "Y\n", " YES \n"])
def test_answering_yes_approves_with_the_digest_of_what_was_shown(answer: str) -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    code, out = approve(api, Terminal(answer))
    assert code == 0
    assert api.calls == [
        ("preview_approval", (AUDIT_ID,), {"remediation_ids": None}),
        ("get_audit", (AUDIT_ID,), {}),
        ("decide", (AUDIT_ID, "approve"), {"comment": None, "plan_digest": DEFAULT_DIGEST}),
    ]
    # What was shown: by severity, each plan's title, id, reversibility, checks, risk and command;
    # what is left out (with its severity) and why; the digest
    for shown in (
        "MEDIUM\n  1. Enable versioning\n",
        "     id: s3_bucket_versioning   reversible: yes   in the default selection\n",
        "     fixes: s3_bucket_versioning_disabled\n",
        "  2. Turn on default encryption\n",
        "     risk: risk of s3_bucket_versioning\n",
        f"     $ aws s3api s3_bucket_versioning --bucket {BUCKET}\n",
        "Left out (not applied; name a plan's id with --only to choose it):\n",
        f"  - s3_account_block_public_access (HIGH): {ACCOUNT_WIDE}\n",
        f"planDigest: {DEFAULT_DIGEST}",
        f"Apply these 2 change(s) to s3://{BUCKET}? [y/N] ",
        f"Approved audit {AUDIT_ID}",
    ):
        assert shown in out, shown
    assert out.index("planDigest:") < out.index("Apply these")


@pytest.mark.parametrize("answer", ["n\n", "no\n", "\n", "", "yes please\n", "approve\n"])
def test_anything_but_yes_sends_nothing_and_exits_1(answer: str) -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    code, out = approve(api, Terminal(answer))
    assert code == 1
    assert sent(api) == []
    assert "Not approved: nothing was sent" in out and "Approved" not in out


def test_only_previews_and_approves_that_selection_with_its_own_digest() -> None:
    # The subset is re-planned: its digest is not the default selection's
    api = FakeApi(
        get_audit=AWAITING,
        preview_approval=preview(ACCOUNT_BPA, digest=NAMED_DIGEST, named=True),
        decide=APPROVED,
    )
    code, out = approve(api, Terminal("y\n"), only=["s3_account_block_public_access"], comment="ok")
    assert code == 0
    assert api.calls == [
        ("preview_approval", (AUDIT_ID,), {"remediation_ids": ["s3_account_block_public_access"]}),
        ("get_audit", (AUDIT_ID,), {}),
        (
            "decide",
            (AUDIT_ID, "approve"),
            {
                "comment": "ok",
                "plan_digest": NAMED_DIGEST,
                "remediation_ids": ["s3_account_block_public_access"],
            },
        ),
    ]
    assert "the ones named with --only" in out
    assert (
        "HIGH\n  1. Block public access account-wide\n     id: s3_account_block_public_access   "
        "reversible: no   needs naming (account-wide: it changes every bucket in the account)\n" in out
    )
    assert f"Apply these 1 change(s) to s3://{BUCKET}? [y/N]" in out


def test_the_severity_the_api_gives_a_pending_plan_is_the_one_shown() -> None:
    # The audit's findings rate its plans (a verdict may be milder than its check's rating)
    rated = {
        **AWAITING.body,
        "pendingPlans": [{**p, "severity": "LOW"} for p in AWAITING.body["pendingPlans"]],
    }
    api = FakeApi(get_audit=ApiResponse(200, rated), preview_approval=preview(VERSIONING), decide=APPROVED)
    _, out = approve(api, Terminal("n\n"))
    assert "LOW\n  1. Enable versioning\n" in out and "MEDIUM" not in out
    assert "  - s3_account_block_public_access (LOW): " in out


def test_a_digest_given_at_the_terminal_must_still_be_what_the_selection_applies() -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    with pytest.raises(CliError) as caught:
        approve(api, Terminal("y\n"), plan_digest="00" * 32)
    assert caught.value.code == 3
    assert DEFAULT_DIGEST in caught.value.message and "nothing was sent" in caught.value.message
    assert sent(api) == []


def test_the_apis_refusal_of_the_preview_is_exit_3_and_nothing_is_sent() -> None:
    refused = ApiResponse(409, {"error": "Conflict", "message": "audit is not awaiting approval"})
    api = FakeApi(get_audit=AWAITING, preview_approval=refused, decide=APPROVED)
    with pytest.raises(CliError) as caught:
        approve(api, Terminal("y\n"))
    assert caught.value.code == 3 and "not awaiting approval" in caught.value.message
    assert sent(api) == []


def test_the_apis_refusal_of_the_approval_is_exit_3() -> None:
    mismatch = ApiResponse(409, {"error": "Conflict", "message": "The planDigest does not match"})
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING), decide=mismatch)
    with pytest.raises(CliError) as caught:
        approve(api, Terminal("y\n"))
    assert caught.value.code == 3 and "planDigest does not match" in caught.value.message


# --- scripts ---


def test_yes_without_digest_is_a_usage_error_and_nothing_is_sent() -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING), decide=APPROVED)
    with pytest.raises(CliError) as caught:
        approve(api, io.StringIO(), yes=True)
    assert caught.value.code == 2 and "--yes needs --digest" in caught.value.message
    assert api.calls == []


def test_yes_with_digest_sends_exactly_that_digest_without_asking() -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    code, out = approve(api, io.StringIO(), yes=True, plan_digest=DEFAULT_DIGEST)
    assert code == 0
    assert sent(api) == [("decide", (AUDIT_ID, "approve"), {"comment": None, "plan_digest": DEFAULT_DIGEST})]
    assert "[y/N]" not in out and f"planDigest: {DEFAULT_DIGEST}" in out


def test_yes_with_a_digest_that_is_no_longer_what_would_apply_sends_nothing() -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    with pytest.raises(CliError) as caught:
        approve(api, io.StringIO(), yes=True, plan_digest="00" * 32)
    assert caught.value.code == 3 and "not the ones reviewed" in caught.value.message
    assert sent(api) == []


def test_without_a_terminal_and_without_yes_it_is_a_usage_error_and_nothing_is_sent() -> None:
    api = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING), decide=APPROVED)
    with pytest.raises(CliError) as caught:
        approve(api, io.StringIO("y\n"))  # piped "y": not a person at a terminal
    assert caught.value.code == 2
    assert "not a terminal" in caught.value.message and "--yes --digest" in caught.value.message
    assert api.calls == []


def test_reject_needs_no_confirmation_even_without_a_terminal() -> None:
    api = FakeApi(decide=ApiResponse(200, {"auditId": AUDIT_ID, "decision": "reject"}))
    out = io.StringIO()
    assert decide(api, AUDIT_ID, "reject", out=out, stdin=io.StringIO()) == 0
    assert api.calls == [("decide", (AUDIT_ID, "reject"), {"comment": None})]


# --- through main(): arguments and exit codes ---


@pytest.fixture()
def wired(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi(get_audit=AWAITING, preview_approval=preview(VERSIONING, SSE), decide=APPROVED)
    monkeypatch.setattr(decide_cmd, "connect", lambda options: fake)
    return fake


def test_main_yes_without_digest_exits_2_before_reaching_the_api(wired, monkeypatch, capsys) -> None:
    monkeypatch.setattr(decide_cmd, "connect", lambda options: pytest.fail("must not connect"))
    assert main(["approve", AUDIT_ID, "--yes"]) == 2
    assert "--yes needs --digest" in capsys.readouterr().err
    assert wired.calls == []


def test_main_without_a_terminal_exits_2_saying_to_pass_yes_and_digest(wired, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert main(["approve", AUDIT_ID]) == 2
    err = capsys.readouterr().err
    assert "not a terminal" in err and "--yes --digest" in err and err.count("\n") == 1
    assert wired.calls == []


def test_main_yes_digest_and_only_lists(wired, monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())
    only = ["--only", "a,b", "--only", "c", "--only", "a"]
    assert main(["approve", AUDIT_ID, *only, "--yes", "--digest", DEFAULT_DIGEST]) == 0
    assert wired.calls == [
        ("preview_approval", (AUDIT_ID,), {"remediation_ids": ["a", "b", "c"]}),
        ("get_audit", (AUDIT_ID,), {}),
        (
            "decide",
            (AUDIT_ID, "approve"),
            {"comment": None, "plan_digest": DEFAULT_DIGEST, "remediation_ids": ["a", "b", "c"]},
        ),
    ]


def test_main_at_a_terminal_answering_no_exits_1(wired, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["approve", AUDIT_ID]) == 1
    assert [call[0] for call in wired.calls] == ["preview_approval", "get_audit"]


@pytest.mark.parametrize("only", ["", "a,,b", ",a"])
def test_main_only_with_an_empty_id_is_a_usage_error(wired, capsys, only) -> None:
    assert main(["approve", AUDIT_ID, "--only", only]) == 2
    assert "name remediation ids separated by commas" in capsys.readouterr().err
    assert wired.calls == []


# --- the client's preview request ---


@pytest.mark.parametrize(
    ("ids", "path"),
    [
        (None, f"/audits/{AUDIT_ID}/approval"),
        (["s3_bucket_versioning"], f"/audits/{AUDIT_ID}/approval?remediationIds=s3_bucket_versioning"),
        (["a", "b c", "d/e"], f"/audits/{AUDIT_ID}/approval?remediationIds=a%2Cb%20c%2Cd%2Fe"),
    ],
)
def test_client_preview_approval_path(monkeypatch, ids, path) -> None:
    requested: list[tuple[str, str]] = []
    monkeypatch.setattr(
        AuditApiClient, "request", lambda self, method, p, *a, **k: requested.append((method, p))
    )
    AuditApiClient("https://api.example/prod").preview_approval(AUDIT_ID, ids)
    assert requested == [("GET", path)]


def test_client_preview_approval_refuses_an_empty_selection() -> None:
    with pytest.raises(ValueError, match="at least one"):
        AuditApiClient("https://api.example/prod").preview_approval(AUDIT_ID, [])


def test_approving_a_security_group_audit_names_the_group_it_changes() -> None:
    group = "sg-0123abcd"
    revoke = {
        **plan(
            1,
            "ec2_revoke_open_ssh",
            "Revoke SSH from the internet",
            "ec2_security_group_ssh_open_to_internet",
        ),
        "resourceId": group,
        "cliCommand": f"aws ec2 revoke-security-group-ingress --group-id {group} --security-group-rule-ids x",
    }
    awaiting = audit_body(
        "AWAITING_APPROVAL",
        resource={"type": "AWS::EC2::SecurityGroup", "id": group},
        pendingPlans=[{**revoke, "approvedByDefault": True, "namedOnlyReason": None}],
        defaultRemediationIds=["ec2_revoke_open_ssh"],
    )
    answer = ApiResponse(
        200, {"auditId": AUDIT_ID, "selection": "default", "plans": [revoke], "planDigest": DEFAULT_DIGEST}
    )
    api = FakeApi(get_audit=ApiResponse(200, awaiting), preview_approval=answer, decide=APPROVED)
    code, out = approve(api, Terminal("y\n"))
    assert code == 0
    assert (
        f"applies 1 change(s) to security group {group} (the default: reversible, scoped to the resource)"
        in out
    )
    assert f"Apply these 1 change(s) to security group {group}? [y/N] " in out
    assert "s3://" not in out
