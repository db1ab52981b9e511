"""`secagent scan` on moto: listing, findings, JSON/table output, exit codes, shared clients."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from secagent import scan as scan_module
from secagent.checks import registry, run_check
from secagent.models import AgentSettings, Grant, Probe, PublicAccessBlock, S3BucketConfig, Snapshot, Status
from secagent.scan import FIELD_READS, SharedClients, cli_main, list_bucket_names, scan
from tests.unit.checks.snapshots import (
    BUCKET,
    OPEN,
    OWNER_ID,
    acl_with,
    exposed,
    policy_with,
    public_grant,
    snapshot,
)

PRIVATE = "scan-private-bucket"
PUBLIC = "scan-public-bucket"
OTHER = "other-team-bucket"
STATUS_PUBLIC = "status-public-bucket"
EXEMPTED = "exempted-bucket"
EXEMPT_CHECK = "s3_bucket_versioning_disabled"


def _cancelled_public_policy(bucket: str) -> dict[str, object]:
    stmt = {"Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", **stmt}, {"Effect": "Deny", **stmt}],
    }


def _exempt_tags(check_id: str) -> list[dict[str, str]]:
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    return [
        {"Key": "secagent:exempt", "Value": check_id},
        {"Key": "secagent:exempt-reason", "Value": "scratch bucket"},
        {"Key": "secagent:exempt-until", "Value": until},
    ]


def _acls_on(acl: Probe[Any] | None = None) -> Snapshot:
    """ACLs on (Object Ownership ObjectWriter); the fixture's owner-only ACL unless ``acl``."""
    acls_on = exposed(ownership_controls=Probe(value="ObjectWriter"))
    return acls_on if acl is None else exposed(ownership_controls=Probe(value="ObjectWriter"), acl=acl)


# Snapshots whose verdicts read fields beyond the checks' `requires`
VERDICT_CASES = {
    "hardened": snapshot,
    "exposed": exposed,
    "account-bpa-off": lambda: snapshot(account_public_access_block=Probe(value=OPEN)),
    "bucket-bpa-off": lambda: snapshot(public_access_block=Probe(value=OPEN)),
    "public-acl-ignored-by-bucket-bpa": lambda: snapshot(
        account_public_access_block=Probe(value=OPEN),
        acl=acl_with(public_grant("AllUsers", "READ"), public_grant("AllUsers", "WRITE")),
    ),
    "public-policy-restricted-by-bucket-bpa": lambda: snapshot(
        account_public_access_block=Probe(value=OPEN),
        policy=policy_with({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
    ),
    "policy-status-public": lambda: exposed(
        policy=Probe(value=_cancelled_public_policy(BUCKET)),
        policy_status_is_public=Probe(value=True),
    ),
    "acls-on-owner-only": _acls_on,
    "acls-on-other-grantee": lambda: _acls_on(
        acl=acl_with(Grant(grantee_type="CanonicalUser", grantee_id="b" * 64, permission="READ"))
    ),
    "owner-canonical-principal": lambda: exposed(
        policy=policy_with(
            {
                "Effect": "Allow",
                "Principal": {"CanonicalUser": OWNER_ID},
                "Action": ["s3:PutBucketAcl", "s3:PutBucketPolicy"],
                "Resource": f"arn:aws:s3:::{BUCKET}",
            }
        )
    ),
    "partial-bpa-both-levels": lambda: snapshot(
        public_access_block=Probe(value=PublicAccessBlock(block_public_acls=True)),
        account_public_access_block=Probe(value=PublicAccessBlock(ignore_public_acls=True)),
    ),
}


def _lock_down(s3: object, bucket: str) -> None:
    s3.put_public_access_block(  # type: ignore[attr-defined]
        Bucket=bucket,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], True
        ),
    )


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        for name in (PRIVATE, PUBLIC, OTHER):
            s3.create_bucket(Bucket=name)
        _lock_down(s3, PRIVATE)
        s3.put_public_access_block(
            Bucket=PUBLIC,
            PublicAccessBlockConfiguration=dict.fromkeys(
                ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], False
            ),
        )
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{PUBLIC}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=PUBLIC, Policy=json.dumps(policy))
        yield session


def _failing(result: scan_module.ScanResult, bucket: str) -> set[str]:
    (one,) = [b for b in result.buckets if b.bucket == bucket]
    return {f.check_id for f in one.failing()}


def test_lists_every_bucket_and_filters_by_prefix(session: boto3.Session) -> None:
    s3 = session.client("s3")
    assert list_bucket_names(s3) == sorted([PRIVATE, PUBLIC, OTHER])
    assert list_bucket_names(s3, "scan-") == [PRIVATE, PUBLIC]


def test_scans_every_bucket_with_their_own_findings(session: boto3.Session) -> None:
    result = scan(session=session, concurrency=4)
    assert [b.bucket for b in result.buckets] == sorted([PRIVATE, PUBLIC, OTHER])
    assert not result.errors
    assert "s3_bucket_policy_public" in _failing(result, PUBLIC)
    assert "s3_bucket_block_public_access_off" in _failing(result, PUBLIC)
    assert "s3_bucket_policy_public" not in _failing(result, PRIVATE)
    assert "s3_bucket_block_public_access_off" not in _failing(result, PRIVATE)
    assert result.exit_code() == 1


@pytest.mark.parametrize("per_bucket_threads", [False, True])
def test_same_verdicts_whatever_the_concurrency(session: boto3.Session, per_bucket_threads: bool) -> None:
    baseline = scan(session=session, concurrency=1)
    other = scan(session=session, concurrency=8, per_bucket_threads=per_bucket_threads)
    for b in baseline.buckets:
        assert _failing(other, b.bucket) == {f.check_id for f in b.failing()}


def test_named_buckets_and_prefix(session: boto3.Session) -> None:
    result = scan([PUBLIC, OTHER], prefix="scan-", session=session)
    assert [b.bucket for b in result.buckets] == [PUBLIC]
    result = scan(prefix="other-", session=session)
    assert [b.bucket for b in result.buckets] == [OTHER]


def test_one_client_per_service_and_account_reads_once(session: boto3.Session) -> None:
    made: list[tuple[str, str | None]] = []
    inner = scan_module.client_factory(session)

    def counting(service: str, region: str | None = None) -> object:
        made.append((service, region))
        return inner(service, region)

    clients = SharedClients(session, inner=counting)
    sts_calls = 0

    def count_sts(**_: object) -> None:
        nonlocal sts_calls
        sts_calls += 1

    clients("sts", "us-east-1").meta.events.register("before-send", count_sts)
    result = scan(session=session, concurrency=3, clients=clients)
    assert len(result.buckets) == 3
    assert sorted(made) == sorted(set(made))  # never two clients for one (service, region)
    assert sts_calls == 1  # GetCallerIdentity once for the account, not once per bucket
    # 3 buckets x the 14 reads verdicts use (all 15 but GetBucketReplication; HeadBucket answered
    # by ListBuckets) + ListBuckets + GetCallerIdentity + account BPA
    # (moto's ListBuckets may leave out BucketRegion: then HeadBucket is still made)
    tells_region = "BucketRegion" in session.client("s3").list_buckets()["Buckets"][0]
    assert result.requests == 3 * (14 if tells_region else 15) + 3
    # --all-fields: HeadBucket + all 15 reads per bucket
    assert scan(session=session, concurrency=3, all_fields=True).requests == 3 * 16 + 3


def test_reads_left_out_change_no_verdict(session: boto3.Session) -> None:
    # Only replication feeds nothing: S3.11 needs the notifications, the public-policy verdict
    # S3's own policy status, the exemptions the bucket's tags
    assert scan_module.skipped_reads() == {"get_bucket_replication"}
    s3 = session.client("s3")
    # Given a policy S3 calls public although its Deny cancels the Allow (moto's IsPublic ignores
    # Denies): the verdict follows S3's own policy status
    s3.create_bucket(Bucket=STATUS_PUBLIC)
    s3.put_bucket_policy(Bucket=STATUS_PUBLIC, Policy=json.dumps(_cancelled_public_policy(STATUS_PUBLIC)))
    # and a bucket whose tags exempt one of its failures
    s3.create_bucket(Bucket=EXEMPTED)
    s3.put_bucket_tagging(Bucket=EXEMPTED, Tagging={"TagSet": _exempt_tags(EXEMPT_CHECK)})
    fast = scan(session=session, concurrency=2)
    full = scan(session=session, concurrency=2, all_fields=True)
    for a, b in zip(fast.buckets, full.buckets, strict=True):
        assert a.analysis and b.analysis
        verdicts = [
            (f.check_id, f.status, f.controls, f.evidence.get("publicStatements"))
            for f in a.analysis.findings
        ]
        assert verdicts == [
            (f.check_id, f.status, f.controls, f.evidence.get("publicStatements"))
            for f in b.analysis.findings
        ]
        assert a.region == b.region == "us-east-1"
    by_bucket = {b.bucket: {f.check_id: f for f in b.analysis.findings} for b in fast.buckets if b.analysis}
    assert by_bucket[STATUS_PUBLIC]["s3_bucket_policy_public"].status is Status.FAIL
    assert by_bucket[EXEMPTED][EXEMPT_CHECK].status is Status.EXEMPT


def test_fields_checks_read_are_snapshot_fields() -> None:
    fields = {f for c in registry().values() for f in c.meta.also_reads} | set(scan_module.ANALYSIS_READS)
    assert fields <= set(S3BucketConfig.model_fields)


@pytest.mark.parametrize("check_id", sorted(registry()))
@pytest.mark.parametrize("case", sorted(VERDICT_CASES))
def test_a_check_alone_reads_every_field_its_verdict_uses(check_id: str, case: str) -> None:
    # With only this check enabled, the fields a scan leaves out change none of its verdicts
    settings = AgentSettings(disabled_checks=frozenset(registry()) - {check_id})
    read = scan_module.fields_checks_use(settings)
    full = VERDICT_CASES[case]()
    left_out: dict[str, Probe[Any]] = {
        f: Probe(state="unknown", reason="not read by secagent scan") for f in FIELD_READS if f not in read
    }
    fast = full.model_copy(update={"config": full.config.model_copy(update=left_out)})
    check = registry()[check_id]

    def verdicts(snap: Snapshot) -> list[tuple[object, ...]]:
        return [
            (f.status, f.controls, f.severity, f.remediation_id) for f in run_check(check, snap, settings)
        ]

    assert verdicts(fast) == verdicts(full)


def test_a_bucket_gone_after_listing_is_skipped(session: boto3.Session) -> None:
    clients = SharedClients(session)
    real_list = scan_module.list_buckets

    def list_then_delete(s3: object, prefix: str | None = None) -> dict[str, str | None]:
        listed = real_list(s3, prefix)
        session.client("s3").delete_bucket(Bucket=OTHER)
        return listed

    scan_module.list_buckets = list_then_delete  # type: ignore[assignment]
    try:
        result = scan(session=session, clients=clients)
    finally:
        scan_module.list_buckets = real_list
    assert result.skipped == [OTHER]
    assert OTHER not in [b.bucket for b in result.buckets]
    assert not result.errors


def test_missing_named_bucket_is_an_error_exit_3(session: boto3.Session) -> None:
    result = scan([PUBLIC, "no-such-bucket-here"], session=session)
    (missing,) = result.errors
    assert missing.bucket == "no-such-bucket-here"
    assert missing.error and missing.error.startswith("ResourceNotFound")
    assert result.exit_code() == 3


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
    assert out["totals"]["buckets"] == 2
    assert out["totals"]["failBySeverity"]["CRITICAL"] >= 1
    assert out["timing"]["concurrency"] == 2
    assert out["timing"]["requests"] > 0


ACCOUNT_CHECK = "s3_account_block_public_access_off"


def test_account_level_checks_are_those_reading_only_the_account() -> None:
    assert scan_module.account_level_checks() == {ACCOUNT_CHECK}


def test_an_account_finding_is_counted_once_not_once_per_bucket(session: boto3.Session) -> None:
    # Given three buckets of an account whose own Block Public Access is off (moto: not configured)
    result = scan(session=session, concurrency=2)
    assert all(ACCOUNT_CHECK in {f.check_id for f in b.failing()} for b in result.buckets)
    # Then the account's finding is one, in the counts and in the JSON, beside each bucket's own
    (account,) = result.account_findings()
    assert (account.check_id, account.status) == (ACCOUNT_CHECK, Status.FAIL)
    own = [f for b in result.buckets for f in b.own_failing()]
    totals = result.totals()
    assert totals["fail"] == len(own) + 1 and totals["failingAccountChecks"] == 1
    assert totals["failBySeverity"]["HIGH"] == sum(f.severity == "HIGH" for f in own) + 1
    out = result.to_json()
    assert [f["checkId"] for f in out["account"]] == [ACCOUNT_CHECK]
    assert all(f["checkId"] != ACCOUNT_CHECK for b in out["buckets"] for f in b["findings"])
    for shown, scanned in zip(out["buckets"], result.buckets, strict=True):
        assert shown["summary"]["fail"] == len(scanned.own_failing())


def test_a_bucket_failing_only_the_account_check_is_not_a_failing_bucket(session: boto3.Session) -> None:
    only_account = AgentSettings(disabled_checks=frozenset(registry()) - {ACCOUNT_CHECK})
    result = scan(session=session, settings=only_account)
    totals = result.totals()
    assert (totals["buckets"], totals["failingBuckets"], totals["fail"]) == (3, 0, 1)
    assert result.exit_code() == 1  # the account's Block Public Access still fails
    text = scan_module.render_table(result)
    assert text.count("account_block_public_access_off") == 1
    assert "3 buckets, 0 with failing checks, and the account fails 1 (counted once); 1 FAIL (high 1)" in text


@pytest.mark.parametrize("width", [10, 30, 60])
def test_table_wraps_check_names_and_never_cuts_them(session: boto3.Session, width: int) -> None:
    result = scan(session=session)
    text = scan_module.render_table(result, width=width)
    assert "..." not in text and "…" not in text
    rows = text.split("\n\n")[0].splitlines()[2:]
    assert rows[0].startswith("account 123456789012 ")
    column = rows[0].index("account_block_public_access_off")
    cells = [line[column:] for line in rows if not line[column:].startswith("ERROR")]
    # Each line of the column fits the width, or holds one name longer than it (the column widens)
    assert all(len(cell) <= width or ", " not in cell.rstrip(",") for cell in cells)
    listed = set(" ".join(cells).replace(",", " ").split())
    for b in result.buckets:
        assert {f.check_id.removeprefix("s3_").removeprefix("bucket_") for f in b.own_failing()} <= listed


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


def test_exit_0_when_nothing_fails(
    session: boto3.Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    every_check = ",".join(registry())
    monkeypatch.setenv("SECAGENT_DISABLED_CHECKS", every_check)
    assert cli_main(["--bucket", PRIVATE]) == 0


def test_unreachable_endpoint_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 9 (discard): the listing fails to connect.
    code = cli_main(["--endpoint-url", "http://127.0.0.1:9", "--concurrency", "1"])
    assert code == 3
    assert "cannot list the buckets" in capsys.readouterr().err


def test_bad_concurrency_is_a_usage_error() -> None:
    assert cli_main(["--concurrency", "0"]) == 2


def test_connection_errors_per_bucket_are_exit_3(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> object:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(scan_module, "discover_bucket", broken)
    result = scan([PUBLIC], session=session)
    assert result.errors and result.exit_code() == 3
