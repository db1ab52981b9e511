"""Arguments naming a bucket or an audit: a trailing newline makes them invalid, refused before any call.

Python's `$` matches before a final newline, so `re.match(r"^...$", "my-bucket\n")` succeeds: every
check here is a full match. Without it the command would go on and call the API.
"""

from __future__ import annotations

import pytest

from secagent.cli import audit as audit_cmd
from secagent.cli import decide as decide_cmd
from secagent.cli import list_audits as list_cmd
from secagent.cli import report as report_cmd
from secagent.cli import resume as resume_cmd
from secagent.cli import status as status_cmd
from secagent.cli.common import audit_id_arg, bucket_name_arg
from secagent.cli.main import main
from secagent.client import ApiResponse
from tests.unit.cli.conftest import AUDIT_ID, FakeApi, audit_body

ENDS = ["\n", "\r\n"]


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    """Every command reaches this fake: it would accept anything, so only the CLI's own check refuses."""
    fake = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"}),
        get_audit=ApiResponse(200, audit_body("AWAITING_APPROVAL", pendingPlans=[], planDigest="ab" * 32)),
        list_audits=ApiResponse(200, {"audits": []}),
        decide=ApiResponse(200, {"auditId": AUDIT_ID, "decision": "reject"}),
        resume=ApiResponse(202, {"auditId": AUDIT_ID, "execution": f"{AUDIT_ID}_r1"}),
    )
    for module in (audit_cmd, decide_cmd, list_cmd, report_cmd, resume_cmd, status_cmd):
        monkeypatch.setattr(module, "connect", lambda options: fake)
    return fake


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize("argv", [["audit", "{bucket}"], ["list", "--resource", "{bucket}"]])
def test_a_bucket_name_with_a_trailing_newline_is_a_usage_error(api, capsys, argv, end):
    assert main([a.format(bucket=f"my-bucket{end}") for a in argv]) == 2
    err = capsys.readouterr().err
    assert "is not a valid S3 bucket name" in err
    assert err.count("\n") == 1  # one line: the newline is shown escaped
    assert api.calls == []


@pytest.mark.parametrize("end", ENDS)
@pytest.mark.parametrize("command", ["status", "report", "resume", "approve", "reject"])
def test_an_audit_id_with_a_trailing_newline_is_a_usage_error(api, capsys, command, end):
    assert main([command, f"{AUDIT_ID}{end}"]) == 2
    err = capsys.readouterr().err
    assert "is not an audit id" in err and err.count("\n") == 1
    assert api.calls == []


def test_valid_names_still_reach_the_api(api):
    assert main(["audit", "my-bucket"]) == 0
    assert main(["status", AUDIT_ID]) == 0
    assert [call[0] for call in api.calls] == ["start_audit", "get_audit"]


@pytest.mark.parametrize(
    "value", ["my-bucket\n", "my-bucket\r\n", "my-bucket\n\n", "my\nbucket", " my-bucket"]
)
def test_bucket_name_arg_is_a_full_match(value):
    with pytest.raises(Exception, match="not a valid S3 bucket name"):
        bucket_name_arg(value)


@pytest.mark.parametrize("value", [f"{AUDIT_ID}\n", f"{AUDIT_ID}\r\n", "\n", "", "a" * 81, "../x", "a/b"])
def test_audit_id_arg_is_a_full_match(value):
    with pytest.raises(Exception, match="not an audit id"):
        audit_id_arg(value)
    assert audit_id_arg(AUDIT_ID) == AUDIT_ID
    # an execution name (a resume's "_r1") is not an audit id: the API would not know it either
    with pytest.raises(Exception, match="not an audit id"):
        audit_id_arg(f"{AUDIT_ID}_r1")
