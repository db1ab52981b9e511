"""`main(argv)`: argparse (usage errors are one line, exit 2; --help everywhere), the error translation."""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import botocore.exceptions
import pytest

from secagent.cli import main as cli_main
from secagent.cli.common import CliError, Globals
from secagent.cli.main import build_parser, main
from secagent.client import ApiUnreachable

COMMANDS = ["audit", "status", "list", "approve", "reject", "resume", "rollback", "report", "checks", "sweep"]


@pytest.mark.parametrize("argv", [[], *([c] for c in COMMANDS)])
def test_help_everywhere(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: secagent")
    if argv != ["checks"]:
        assert "exit codes:" in out and "130" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["audit"],
        ["audit", "b", "--approval-timeout", "soon"],
        ["status"],
        ["report", "x", "--format", "pdf"],
        ["list", "--limit", "0"],
        ["list", "--status", "DONE"],
        ["reject", "x", "--bogus"],
        ["--region"],
    ],
)
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "error:" in captured.err and "--help" in captured.err


def test_global_options_before_or_after_the_command() -> None:
    parser = build_parser()
    before = parser.parse_args(["--region", "eu-west-1", "--stack-name", "S", "status", "x"])
    after = parser.parse_args(["status", "x", "--region", "eu-west-1", "--stack-name", "S"])
    assert Globals.from_namespace(before) == Globals.from_namespace(after)
    assert Globals.from_namespace(after).region == "eu-west-1"


def test_endpoint_url_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("SECAGENT_STACK_NAME", raising=False)
    options = Globals.from_namespace(build_parser().parse_args(["list"]))
    assert options.endpoint_url == "http://127.0.0.1:9" and options.stack_name == "SecurityAgent"
    given = Globals.from_namespace(build_parser().parse_args(["list", "--endpoint-url", "http://h:1"]))
    assert given.endpoint_url == "http://h:1"


def _failing(exc: BaseException) -> Any:
    def handler(args: Any, options: Globals) -> int:
        raise exc

    return handler


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (CliError("audit x not found"), 3, "audit x not found"),
        (CliError("bad", 2), 2, "bad"),
        (botocore.exceptions.NoCredentialsError(), 3, "credentials"),
        (botocore.exceptions.NoRegionError(), 2, "--region"),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
            3,
            "could not reach",
        ),
        (
            botocore.exceptions.ClientError(
                {"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "DescribeStacks"
            ),
            3,
            "DescribeStacks: ExpiredToken: expired",
        ),
        (
            ApiUnreachable("http://127.0.0.1:9/audits", ConnectionRefusedError(111, "refused")),
            3,
            "could not reach",
        ),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_expected_errors_are_one_line(
    exc: BaseException,
    code: int,
    text: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_main.status, "_run", _failing(exc))
    assert main(["status", "x"]) == code
    err = capsys.readouterr().err
    assert err.startswith("secagent: error: ") and err.count("\n") == 1 and text in err


def test_a_bug_shows_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main.status, "_run", _failing(KeyError("bug")))
    with pytest.raises(KeyError):
        main(["status", "x"])


def test_forwarded_commands_get_the_rest_of_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    fake = types.ModuleType("secagent.scan.cli")

    def cli_main(argv: list[str]) -> int:
        seen.append(argv)
        return 1

    fake.cli_main = cli_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "secagent.scan.cli", fake)
    for key in (
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "SECAGENT_STACK_NAME",
        "SECAGENT_API_URL",
    ):
        monkeypatch.setenv(key, "")  # restored after the test; export() may overwrite them
    assert main(["--region", "eu-west-1", "scan", "--bucket", "b", "--help"]) == 1
    assert seen == [["--bucket", "b", "--help"]]
    assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"  # global options reach it via the environment


def test_forwarded_command_missing_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "secagent.mcp.server", None)  # import raises ModuleNotFoundError
    assert main(["mcp", "--transport", "stdio"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "secagent mcp" in err
