"""The scan's domain on moto: what is read, the verdicts, the results and their exit status."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from secagent.aws import client_factory
from secagent.checks import run_check
from secagent.checks.registry import ANALYSIS_READS, checks_for, fields_checks_use
from secagent.discovery.listing import list_bucket_names
from secagent.discovery.s3 import FIELDS, NOT_REQUESTED
from secagent.models import AgentSettings, Grant, Probe, PublicAccessBlock, S3BucketConfig, Snapshot, Status
from secagent.models.snapshot import BUCKET as BUCKET_TYPE
from secagent.models.snapshot import ResourceRef
from secagent.scan import domain
from secagent.scan.clients import SharedClients
from secagent.scan.domain import ScanResult, account_level_checks, scan, scan_resource
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
from tests.unit.scan.conftest import OTHER, PRIVATE, PUBLIC, Recorder

STATUS_PUBLIC = "status-public-bucket"
EXEMPTED = "exempted-bucket"
EXEMPT_CHECK = "s3_bucket_versioning_disabled"
ACCOUNT_CHECK = "s3_account_block_public_access_off"


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


def _failing(result: ScanResult, bucket: str) -> set[str]:
    (one,) = [b for b in result.resources if b.resource.id == bucket]
    return {f.check_id for f in one.failing()}


def test_lists_every_bucket_and_filters_by_prefix(session: boto3.Session) -> None:
    s3 = session.client("s3")
    assert list_bucket_names(s3) == sorted([PRIVATE, PUBLIC, OTHER])
    assert list_bucket_names(s3, "scan-") == [PRIVATE, PUBLIC]


def test_scans_every_bucket_with_their_own_findings(session: boto3.Session) -> None:
    result = scan(session=session, concurrency=4)
    assert [b.resource.id for b in result.resources] == sorted([PRIVATE, PUBLIC, OTHER])
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
    for b in baseline.resources:
        assert _failing(other, b.resource.id) == {f.check_id for f in b.failing()}


def test_named_buckets_and_prefix(session: boto3.Session) -> None:
    result = scan([PUBLIC, OTHER], prefix="scan-", session=session)
    assert [b.resource.id for b in result.resources] == [PUBLIC]
    result = scan(prefix="other-", session=session)
    assert [b.resource.id for b in result.resources] == [OTHER]


def test_a_scan_asks_discover_only_for_the_fields_verdicts_use(session: boto3.Session) -> None:
    # Given every check enabled: only the replication feeds no verdict
    assert set(FIELDS) - fields_checks_use() == {"replication"}
    # When the account is scanned
    fast = Recorder(session)
    scan(session=session, clients=SharedClients(session, inner=fast))
    # Then the field left out costs no call; every other one is read once per bucket
    assert "s3.GetBucketReplication" not in fast.calls
    assert fast.calls.count("s3.GetBucketVersioning") == fast.calls.count("s3.GetBucketTagging") == 3
    # and --all-fields reads it too
    full = Recorder(session)
    scan(session=session, clients=SharedClients(session, inner=full), all_fields=True)
    assert full.calls.count("s3.GetBucketReplication") == 3


def test_only_the_fields_of_the_enabled_checks_are_read(session: boto3.Session) -> None:
    # Given only the versioning check enabled
    settings = AgentSettings(disabled_checks=frozenset(checks_for(BUCKET_TYPE)) - {EXEMPT_CHECK})
    recorder = Recorder(session)
    # When one bucket is scanned
    result = scan(
        [PUBLIC], session=session, settings=settings, clients=SharedClients(session, inner=recorder)
    )
    # Then Discover reads its versioning and its tags (exemptions) only: no policy, no account BPA
    assert sorted(set(recorder.calls)) == [
        "s3.GetBucketTagging",
        "s3.GetBucketVersioning",
        "s3.HeadBucket",  # named, not listed: located
        "sts.GetCallerIdentity",
    ]
    (bucket,) = result.resources
    assert bucket.analysis is not None
    assert [(f.check_id, f.status) for f in bucket.analysis.findings] == [(EXEMPT_CHECK, Status.FAIL)]


def test_a_listed_bucket_is_not_located_again(session: boto3.Session) -> None:
    # Given ListBuckets naming each bucket's region (as AWS does; moto leaves BucketRegion out)
    listed = Recorder(session, bucket_regions=True)
    # When the account is scanned
    result = scan(session=session, clients=SharedClients(session, inner=listed))
    # Then no HeadBucket: the listing said each bucket exists, and where
    assert "s3.HeadBucket" not in listed.calls
    assert {b.region for b in result.resources} == {"us-east-1"} and not result.errors
    # while --all-fields locates every bucket
    full = Recorder(session, bucket_regions=True)
    scan(session=session, clients=SharedClients(session, inner=full), all_fields=True)
    assert full.calls.count("s3.HeadBucket") == 3


def test_a_field_not_read_is_judged_unknown_never_pass(session: boto3.Session) -> None:
    # Given a bucket read without its versioning
    result = scan_resource(
        ResourceRef(type=BUCKET_TYPE, id=PRIVATE),
        session,
        client_factory(session),
        AgentSettings(),
        concurrent=False,
        fields=set(FIELDS) - {"versioning"},
    )
    assert result.analysis is not None
    verdicts = {f.check_id: f for f in result.analysis.findings}
    # Then every check that needs it says UNKNOWN, and why
    needing = [cid for cid, c in checks_for(BUCKET_TYPE).items() if "versioning" in c.meta.requires]
    assert needing
    for check_id in needing:
        assert verdicts[check_id].status is Status.UNKNOWN
        assert NOT_REQUESTED in (verdicts[check_id].error or "")


def test_one_client_per_service_and_account_reads_once(session: boto3.Session) -> None:
    made: list[tuple[str, str | None]] = []
    inner = client_factory(session)

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
    assert len(result.resources) == 3
    assert sorted(made) == sorted(set(made))  # never two clients for one (service, region)
    assert sts_calls == 1  # GetCallerIdentity once for the account, not once per bucket
    # 3 buckets x the 14 reads verdicts use (all 15 but GetBucketReplication; HeadBucket left out
    # when ListBuckets tells the region) + ListBuckets + GetCallerIdentity + account BPA
    # (moto's ListBuckets may leave out BucketRegion: then HeadBucket is still made)
    tells_region = "BucketRegion" in session.client("s3").list_buckets()["Buckets"][0]
    assert result.requests == 3 * (14 if tells_region else 15) + 3
    # --all-fields: HeadBucket + all 15 reads per bucket
    assert scan(session=session, concurrency=3, all_fields=True).requests == 3 * 16 + 3


def test_reads_left_out_change_no_verdict(session: boto3.Session) -> None:
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
    for a, b in zip(fast.resources, full.resources, strict=True):
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
    by_bucket = {
        b.resource.id: {f.check_id: f for f in b.analysis.findings} for b in fast.resources if b.analysis
    }
    assert by_bucket[STATUS_PUBLIC]["s3_bucket_policy_public"].status is Status.FAIL
    assert by_bucket[EXEMPTED][EXEMPT_CHECK].status is Status.EXEMPT


def test_fields_checks_read_are_snapshot_fields() -> None:
    fields = {f for c in checks_for(BUCKET_TYPE).values() for f in (*c.meta.requires, *c.meta.also_reads)}
    assert fields | set(ANALYSIS_READS) <= set(S3BucketConfig.model_fields) == set(FIELDS)


@pytest.mark.parametrize("check_id", sorted(checks_for(BUCKET_TYPE)))
@pytest.mark.parametrize("case", sorted(VERDICT_CASES))
def test_a_check_alone_reads_every_field_its_verdict_uses(check_id: str, case: str) -> None:
    # With only this check enabled, the fields a scan leaves out (the account's too) change none
    # of its verdicts
    settings = AgentSettings(disabled_checks=frozenset(checks_for(BUCKET_TYPE)) - {check_id})
    read = fields_checks_use(settings)
    full = VERDICT_CASES[case]()
    left_out: dict[str, Probe[Any]] = {
        f: Probe(state="unknown", reason=NOT_REQUESTED) for f in FIELDS if f not in read
    }
    fast = full.model_copy(update={"config": full.config.model_copy(update=left_out)})
    check = checks_for(BUCKET_TYPE)[check_id]

    def verdicts(snap: Snapshot) -> list[tuple[object, ...]]:
        return [
            (f.status, f.controls, f.severity, f.remediation_id) for f in run_check(check, snap, settings)
        ]

    assert verdicts(fast) == verdicts(full)


def test_a_bucket_gone_after_listing_is_skipped(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_list = domain.list_buckets

    def list_then_delete(s3: object, prefix: str | None = None) -> dict[str, str | None]:
        listed = real_list(s3, prefix)
        session.client("s3").delete_bucket(Bucket=OTHER)
        return listed

    monkeypatch.setattr(domain, "list_buckets", list_then_delete)
    result = scan(session=session, clients=SharedClients(session))
    assert result.skipped == [ResourceRef(type=BUCKET_TYPE, id=OTHER)]
    assert OTHER not in [b.resource.id for b in result.resources]
    assert not result.errors


def test_a_bucket_listed_with_its_region_then_gone_is_skipped(session: boto3.Session) -> None:
    # Given a listing that names the regions (no HeadBucket), and a bucket deleted right after it
    recorder = Recorder(session, bucket_regions=True)
    clients = SharedClients(session, inner=recorder)
    clients("s3", "us-east-1").meta.events.register(
        "after-call.s3.ListBuckets", lambda **_: session.client("s3").delete_bucket(Bucket=OTHER)
    )
    result = scan(session=session, clients=clients)
    # Then its first read finds it gone: skipped, not an error
    assert "s3.HeadBucket" not in recorder.calls
    assert result.skipped == [ResourceRef(type=BUCKET_TYPE, id=OTHER)] and not result.errors


def test_missing_named_bucket_is_an_error_exit_3(session: boto3.Session) -> None:
    result = scan([PUBLIC, "no-such-bucket-here"], session=session)
    (missing,) = result.errors
    assert missing.resource.id == "no-such-bucket-here"
    assert missing.error and missing.error.startswith("ResourceNotFound")
    assert result.exit_code() == 3


def test_account_level_checks_are_those_reading_only_the_account() -> None:
    assert account_level_checks() == {ACCOUNT_CHECK}


def test_an_account_finding_is_counted_once_not_once_per_bucket(session: boto3.Session) -> None:
    # Given three buckets of an account whose own Block Public Access is off (moto: not configured)
    result = scan(session=session, concurrency=2)
    assert all(ACCOUNT_CHECK in {f.check_id for f in b.failing()} for b in result.resources)
    # Then the account's finding is one in the counts, beside each bucket's own
    (account,) = result.account_findings()
    assert (account.check_id, account.status) == (ACCOUNT_CHECK, Status.FAIL)
    own = [f for b in result.resources for f in b.own_failing()]
    assert all(f.check_id != ACCOUNT_CHECK for f in own)
    totals = result.totals()
    assert totals["fail"] == len(own) + 1 and totals["failingAccountChecks"] == 1
    assert totals["failBySeverity"]["HIGH"] == sum(f.severity == "HIGH" for f in own) + 1


def test_a_bucket_failing_only_the_account_check_is_not_a_failing_bucket(session: boto3.Session) -> None:
    only_account = AgentSettings(disabled_checks=frozenset(checks_for(BUCKET_TYPE)) - {ACCOUNT_CHECK})
    result = scan(session=session, settings=only_account)
    totals = result.totals()
    assert (totals["buckets"], totals["failingBuckets"], totals["fail"]) == (3, 0, 1)
    assert result.exit_code() == 1  # the account's Block Public Access still fails


def test_connection_errors_per_bucket_are_exit_3(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> object:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(domain, "discover", broken)
    result = scan([PUBLIC], session=session)
    assert result.errors and result.exit_code() == 3
