"""A scan's result as a table and as JSON: the account's own checks once, names never cut."""

import boto3
import pytest

from secagent.checks import registry
from secagent.models import AgentSettings
from secagent.scan.domain import scan
from secagent.scan.render import render_table, scan_json

ACCOUNT_CHECK = "s3_account_block_public_access_off"


def test_json_shows_the_account_finding_once_beside_each_buckets_own(session: boto3.Session) -> None:
    # Given three buckets of an account whose own Block Public Access is off (moto: not configured)
    result = scan(session=session, concurrency=2)
    # Then the JSON lists the account's finding under `account`, never under a bucket
    out = scan_json(result)
    assert [f["checkId"] for f in out["account"]] == [ACCOUNT_CHECK]
    assert all(f["checkId"] != ACCOUNT_CHECK for b in out["buckets"] for f in b["findings"])
    for shown, scanned in zip(out["buckets"], result.resources, strict=True):
        assert shown["summary"]["fail"] == len(scanned.own_failing())
    assert out["totals"] == result.totals() and out["timing"] == result.timing()


def test_json_without_passing_findings(session: boto3.Session) -> None:
    out = scan_json(scan(session=session), all_findings=False)
    statuses = {f["status"] for b in out["buckets"] for f in b["findings"]} | {
        f["status"] for f in out["account"]
    }
    assert statuses <= {"FAIL", "UNKNOWN", "EXEMPT"} and "FAIL" in statuses


def test_the_account_row_is_shown_once(session: boto3.Session) -> None:
    only_account = AgentSettings(disabled_checks=frozenset(registry()) - {ACCOUNT_CHECK})
    text = render_table(scan(session=session, settings=only_account))
    assert text.count("account_block_public_access_off") == 1
    assert "3 buckets, 0 with failing checks, and the account fails 1 (counted once); 1 FAIL (high 1)" in text


@pytest.mark.parametrize("width", [10, 30, 60])
def test_table_wraps_check_names_and_never_cuts_them(session: boto3.Session, width: int) -> None:
    result = scan(session=session)
    text = render_table(result, width=width)
    assert "..." not in text and "…" not in text
    rows = text.split("\n\n")[0].splitlines()[2:]
    assert rows[0].startswith("account 123456789012 ")
    column = rows[0].index("account_block_public_access_off")
    cells = [line[column:] for line in rows if not line[column:].startswith("ERROR")]
    # Each line of the column fits the width, or holds one name longer than it (the column widens)
    assert all(len(cell) <= width or ", " not in cell.rstrip(",") for cell in cells)
    listed = set(" ".join(cells).replace(",", " ").split())
    for b in result.resources:
        assert {f.check_id.removeprefix("s3_").removeprefix("bucket_") for f in b.own_failing()} <= listed


def test_a_bucket_not_read_is_one_error_row(session: boto3.Session) -> None:
    text = render_table(scan(["no-such-bucket-here"], session=session))
    assert "no-such-bucket-here  ERROR ResourceNotFound: bucket no-such-bucket-here does not exist" in text
    assert "0 buckets" not in text and "1 not read" in text
