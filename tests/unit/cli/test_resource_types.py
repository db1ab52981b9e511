"""`secagent audit` of an S3 bucket or an EC2 security group: the type read from the id, `--type`
naming it, and a `--type` the id does not fit refused as a usage error before any call."""

from __future__ import annotations

import pytest

from secagent.cli import audit as audit_cmd
from secagent.cli import decide as decide_cmd
from secagent.cli import list_audits as list_cmd
from secagent.cli.main import main
from secagent.client import ApiResponse
from tests.unit.cli.conftest import AUDIT_ID, FakeApi

BUCKET, GROUP = "AWS::S3::Bucket", "AWS::EC2::SecurityGroup"


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi(
        start_audit=ApiResponse(202, {"auditId": AUDIT_ID, "status": "RUNNING"}),
        list_audits=ApiResponse(200, {"audits": []}),
    )
    for module in (audit_cmd, decide_cmd, list_cmd):
        monkeypatch.setattr(module, "connect", lambda options: fake)
    return fake


def started(api: FakeApi) -> tuple[str, str]:
    [(name, args, kwargs)] = api.calls
    assert name == "start_audit"
    return args[0], kwargs["resource_type"]


@pytest.mark.parametrize(
    ("argv", "resource"),
    [
        (["audit", "sg-0123abcd"], ("sg-0123abcd", GROUP)),  # 8 hex digits
        (["audit", "sg-0123456789abcdef0"], ("sg-0123456789abcdef0", GROUP)),  # 17
        (["audit", "my-team-logs"], ("my-team-logs", BUCKET)),
        (["audit", "sg-logs"], ("sg-logs", BUCKET)),  # not a group id: a bucket name
        (["audit", "sg-0123abcd", "--type", "bucket"], ("sg-0123abcd", BUCKET)),  # a bucket named so
        (["audit", "sg-0123abcd", "--type", "security-group"], ("sg-0123abcd", GROUP)),
        (["audit", "--type", "bucket", "my-team-logs"], ("my-team-logs", BUCKET)),
    ],
)
def test_the_type_is_read_from_the_id_unless_type_names_it(
    api: FakeApi, argv: list[str], resource: tuple[str, str]
) -> None:
    assert main(argv) == 0
    assert started(api) == resource


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["audit", "my-team-logs", "--type", "security-group"],
            '--type security-group: "my-team-logs" is not a valid security group id: must be "sg-" '
            "followed by 8 or 17 lowercase hexadecimal digits (see 'secagent audit --help')",
        ),
        (
            ["audit", "sg-0123ABCD", "--type", "security-group"],
            '--type security-group: "sg-0123ABCD" is not a valid security group id',
        ),
        (
            ["audit", "My_Bucket", "--type", "bucket"],
            '--type bucket: "My_Bucket" is not a valid S3 bucket name',
        ),
        (["audit", "My_Bucket"], '"My_Bucket" is not a valid S3 bucket name: only lowercase letters'),
        (["audit", "sg-0123abcd\n"], '"sg-0123abcd\\n" is not a valid S3 bucket name'),
    ],
)
def test_an_id_its_type_does_not_fit_is_a_one_line_usage_error_and_nothing_is_sent(
    api: FakeApi, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"secagent: error: {message}"), err
    assert err.count("\n") == 1
    assert api.calls == []


def test_an_unknown_type_is_an_argparse_usage_error(api: FakeApi, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "sg-0123abcd", "--type", "vpc"]) == 2
    err = capsys.readouterr().err
    assert "argument --type: invalid choice: 'vpc'" in err and "bucket" in err and "security-group" in err
    assert api.calls == []


def test_list_filters_by_a_security_group_id_too(api: FakeApi) -> None:
    assert main(["list", "--resource", "sg-0123abcd"]) == 0
    assert api.calls == [
        ("list_audits", (), {"status": None, "resource": "sg-0123abcd", "limit": None, "next_token": None})
    ]


def test_help_says_what_an_audit_can_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "RESOURCE" in out and "{bucket,security-group}" in out
    assert "a bucket name (my-team-logs) or a security group id (sg-0123abcd)" in out
