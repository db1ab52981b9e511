"""`secagent scan` over EC2 security groups on moto: listed, read, judged, and shown beside the buckets."""

import json
from typing import Any

import boto3
import pytest

from secagent.models.findings import Status
from secagent.models.snapshot import SECURITY_GROUP, ResourceRef
from secagent.scan import domain
from secagent.scan.cli import cli_main
from secagent.scan.clients import SharedClients
from secagent.scan.domain import ResourceScan, list_security_groups, scan
from tests.unit.scan.conftest import OTHER, PRIVATE, PUBLIC, Groups, Recorder

SSH_CHECK = "ec2_security_group_ssh_open_to_internet"
EC2_13 = "FSBP:EC2.13"
MISSING = "sg-0123456789abcdef0"


def _ssh_verdict(scanned: ResourceScan) -> Status:
    assert scanned.analysis is not None, scanned.error
    (verdict,) = [f for f in scanned.analysis.findings if f.check_id == SSH_CHECK]
    assert EC2_13 in verdict.controls
    return verdict.status


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


# ---- the domain -------------------------------------------------------------------------------


def test_lists_every_security_group_of_the_region(session: boto3.Session, groups: Groups) -> None:
    ec2 = session.client("ec2")
    every = sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"])
    assert list_security_groups(ec2) == every
    assert {groups.open_ssh, groups.closed, groups.default} <= set(every)


def test_a_group_open_to_ssh_fails_ec2_13_and_a_closed_one_passes(
    session: boto3.Session, groups: Groups
) -> None:
    result = scan(security_groups=[groups.open_ssh, groups.closed], session=session)
    assert result.types == (SECURITY_GROUP,)  # named groups: no bucket read
    open_ssh, closed = result.resources
    assert open_ssh.resource == ResourceRef(type=SECURITY_GROUP, id=groups.open_ssh)
    assert _ssh_verdict(open_ssh) is Status.FAIL
    assert _ssh_verdict(closed) is Status.PASS
    assert closed.failing() == [] and not result.errors
    assert result.exit_code() == 1


def test_every_group_is_read_and_no_bucket(session: boto3.Session, groups: Groups) -> None:
    recorder = Recorder(session)
    result = scan(types=[SECURITY_GROUP], session=session, clients=SharedClients(session, inner=recorder))
    scanned = [r.resource.id for r in result.resources]
    assert scanned == list_security_groups(session.client("ec2"))
    assert {groups.open_ssh, groups.closed, groups.default} <= set(scanned)
    assert not [call for call in recorder.calls if call.startswith("s3")]
    assert result.totals()["securityGroups"] == len(scanned) and "buckets" not in result.totals()


def test_a_group_gone_after_listing_is_skipped(
    session: boto3.Session, groups: Groups, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_list = domain.list_security_groups

    def list_then_delete(ec2: object) -> list[str]:
        listed = real_list(ec2)
        session.client("ec2").delete_security_group(GroupId=groups.open_ssh)
        return listed

    monkeypatch.setattr(domain, "list_security_groups", list_then_delete)
    result = scan(types=[SECURITY_GROUP], session=session)
    assert result.skipped == [ResourceRef(type=SECURITY_GROUP, id=groups.open_ssh)]
    assert groups.open_ssh not in [r.resource.id for r in result.resources]
    assert not result.errors


def test_ids_named_for_a_type_not_scanned_are_refused(session: boto3.Session) -> None:
    with pytest.raises(ValueError, match="buckets named"):
        scan([PUBLIC], types=[SECURITY_GROUP], session=session)


# ---- the command line -------------------------------------------------------------------------


def test_a_named_group_in_json(
    session: boto3.Session, groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--group", groups.open_ssh, "--format", "json"]) == 1
    out = _json(capsys)
    assert set(out) == {"account", "securityGroups", "skipped", "totals", "timing"}
    (entry,) = out["securityGroups"]
    assert (entry["resourceType"], entry["resourceId"]) == ("AWS::EC2::SecurityGroup", groups.open_ssh)
    assert "bucket" not in entry
    ssh = next(f for f in entry["findings"] if f["checkId"] == SSH_CHECK)
    assert ssh["status"] == "FAIL" and EC2_13 in ssh["controls"]
    totals = out["totals"]
    assert (totals["securityGroups"], totals["failingSecurityGroups"]) == (1, 1)


def test_a_closed_group_passes_exit_0(
    session: boto3.Session, groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--group", groups.closed]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("security group ")
    assert lines[2].startswith(f"{groups.closed}  ") and lines[2].endswith("  -")
    assert any(line.startswith("1 security groups, 0 with failing checks; 0 FAIL") for line in lines)


def test_type_all_lists_both_types(
    session: boto3.Session, groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--type", "all", "--format", "json"]) == 1
    out = _json(capsys)
    listed = {
        key: {(e["resourceType"], e["resourceId"]) for e in out[key]} for key in ("buckets", "securityGroups")
    }
    assert listed["buckets"] == {("AWS::S3::Bucket", b) for b in (PRIVATE, PUBLIC, OTHER)}
    assert {("AWS::EC2::SecurityGroup", groups.open_ssh), ("AWS::EC2::SecurityGroup", groups.closed)} <= (
        listed["securityGroups"]
    )
    totals = out["totals"]
    assert totals["buckets"] == 3 and totals["securityGroups"] == len(listed["securityGroups"])
    # The table: one part per type, each headed by it, and the totals of each
    assert cli_main(["--type", "all"]) == 1
    text = capsys.readouterr().out
    bucket_table, group_table, footer = text.split("\n\n")
    assert bucket_table.startswith("bucket ") and group_table.startswith("security group ")
    assert PUBLIC in bucket_table and groups.open_ssh in group_table
    assert "ssh_open_to_internet" in group_table and "ec2_" not in group_table  # names shortened
    assert footer.startswith(
        "3 buckets, 3 with failing checks, and the account fails 1 (counted once); "
        f"{len(listed['securityGroups'])} security groups, "
    )


def test_a_missing_named_group_is_exit_3(
    session: boto3.Session, groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["--group", groups.closed, "--group", MISSING]) == 3
    assert capsys.readouterr().err == (
        f"error: {MISSING}: ResourceNotFound: security group {MISSING} does not exist\n"
    )


@pytest.mark.parametrize("bad", ["sg-xyz", "sg-0123", "sg-0123456789ABCDEF0", "my-bucket", "sg-01234567\n"])
def test_a_bad_group_id_is_one_line_and_exit_2(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["--group", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --group ") and "is not a valid security group id: " in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--type", "bucket", "--group", MISSING], "--group names security groups, which --type bucket"),
        (["--type", "security-group", "--bucket", PUBLIC], "--bucket names buckets, which --type"),
        (["--group", MISSING, "--prefix", "scan-"], "--prefix keeps the buckets"),
    ],
)
def test_options_that_contradict_the_type_are_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(argv) == 2
    assert capsys.readouterr().err.startswith(f"error: {says}")


def test_groups_are_those_of_the_region(
    session: boto3.Session, groups: Groups, capsys: pytest.CaptureFixture[str]
) -> None:
    ireland = boto3.Session(region_name="eu-west-1").client("ec2")
    elsewhere = ireland.create_security_group(GroupName="scan-ireland", Description="eu")["GroupId"]
    assert cli_main(["--type", "security-group", "--region", "eu-west-1", "--format", "json"]) in (0, 1)
    entries = _json(capsys)["securityGroups"]
    scanned = {e["resourceId"] for e in entries}
    assert elsewhere in scanned and groups.open_ssh not in scanned
    assert {e["region"] for e in entries} == {"eu-west-1"}


def test_groups_that_cannot_be_listed_are_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 9 (discard): the listing fails to connect.
    code = cli_main(["--type", "security-group", "--endpoint-url", "http://127.0.0.1:9"])
    assert code == 3
    assert capsys.readouterr().err.startswith("error: cannot list the security groups: ")
