"""`secagent scan` on moto: its output formats and exit codes."""

import json

import boto3
import pytest

from secagent.checks.registry import checks_for
from secagent.cli.forward import FORWARDED
from secagent.models.snapshot import BUCKET as BUCKET_TYPE
from secagent.scan.cli import cli_main
from tests.unit.scan.conftest import PRIVATE, PUBLIC


def test_secagent_scan_forwards_to_this_command_line() -> None:
    scan = next(c for c in FORWARDED if c.command == "scan")
    assert (scan.module, scan.function) == ("secagent.scan.cli", "cli_main")


def test_json_output_and_exit_codes(session: boto3.Session, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--format", "json", "--prefix", "scan-", "--concurrency", "2"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert [b["bucket"] for b in out["buckets"]] == [PRIVATE, PUBLIC]
    public = out["buckets"][1]
    finding = next(f for f in public["findings"] if f["checkId"] == "s3_bucket_policy_public")
    assert finding == {
        "checkId": "s3_bucket_policy_public",
        "severity": "CRITICAL",
        "status": "FAIL",
        "controls": ["FSBP:S3.2"],  # anyone may read (s3:GetObject), nobody may write: not S3.3
    }
    assert set(out) == {"account", "buckets", "skipped", "totals", "timing"}
    assert set(public) == {
        *("bucket", "region", "error", "durationMs", "summary", "findings"),
        *("resourceType", "resourceId"),  # added with the security groups
    }
    assert (public["resourceType"], public["resourceId"]) == ("AWS::S3::Bucket", PUBLIC)
    assert out["totals"]["buckets"] == 2
    assert out["totals"]["failBySeverity"]["CRITICAL"] >= 1
    assert out["timing"]["concurrency"] == 2
    assert out["timing"]["requests"] > 0


def test_failing_only_leaves_out_passing_findings(
    session: boto3.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_main(["--format", "json", "--bucket", PUBLIC, "--failing-only"])
    out = json.loads(capsys.readouterr().out)
    assert {f["status"] for f in out["buckets"][0]["findings"]} <= {"FAIL", "UNKNOWN"}


def test_table_output(session: boto3.Session, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--bucket", PUBLIC]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("bucket")
    assert PUBLIC in out and "policy_public" in out
    assert "1 buckets, 1 with failing checks" in out


def test_all_fields_gives_the_same_verdicts(
    session: boto3.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--format", "json"]) == 1
    fast = json.loads(capsys.readouterr().out)
    assert cli_main(["--format", "json", "--all-fields"]) == 1
    full = json.loads(capsys.readouterr().out)
    assert [b["findings"] for b in fast["buckets"]] == [b["findings"] for b in full["buckets"]]
    assert fast["timing"]["requests"] < full["timing"]["requests"]


def test_exit_0_when_nothing_fails(
    session: boto3.Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    every_check = ",".join(checks_for(BUCKET_TYPE))
    monkeypatch.setenv("SECAGENT_DISABLED_CHECKS", every_check)
    assert cli_main(["--bucket", PRIVATE]) == 0


def test_a_missing_bucket_is_exit_3_with_one_line_per_error(
    session: boto3.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--bucket", "no-such-bucket-here"]) == 3
    assert capsys.readouterr().err == (
        "error: no-such-bucket-here: ResourceNotFound: bucket no-such-bucket-here does not exist\n"
    )


def test_unreachable_endpoint_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 9 (discard): the listing fails to connect.
    code = cli_main(["--endpoint-url", "http://127.0.0.1:9", "--concurrency", "1"])
    assert code == 3
    assert "cannot list the buckets" in capsys.readouterr().err


def test_bad_concurrency_is_a_usage_error() -> None:
    assert cli_main(["--concurrency", "0"]) == 2


def test_bad_settings_are_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SECAGENT_TRUSTED_ACCOUNTS", "not-an-account")
    assert cli_main([]) == 2
    assert capsys.readouterr().err.startswith("error: SECAGENT_* settings: ")
