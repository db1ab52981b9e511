"""Discover on moto: not-configured answers, configured values, and the error contract."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from secagent.aws import client_factory
from secagent.checks import run_check
from secagent.checks.registry import checks_for
from secagent.discovery import discover_bucket
from secagent.discovery.s3 import FIELDS, NOT_REQUESTED
from secagent.models import AgentSettings, Probe, Status
from secagent.models.errors import InvalidInput, ResourceNotFound, TransientError
from secagent.models.snapshot import BUCKET as BUCKET_TYPE
from tests.unit.awsfakes import allow_log_delivery, failing_clients

BUCKET = "audit-target-bucket"
ACCOUNT = "123456789012"

NOT_CONFIGURED_FIELDS = [
    "public_access_block",
    "account_public_access_block",
    "ownership_controls",
    "policy",
    "policy_status_is_public",
    "encryption",
    "logging",
    "lifecycle_rules",
    "object_lock",
    "website",
    "cors",
    "replication",
    "notifications",
    "tags",
]


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="us-east-1")


@pytest.fixture
def bare_bucket(session: boto3.Session) -> str:
    session.client("s3").create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture
def configured_bucket(session: boto3.Session) -> str:
    s3 = session.client("s3")
    s3.create_bucket(Bucket=BUCKET, ObjectLockEnabledForBucket=True)
    s3.create_bucket(Bucket="audit-logs-bucket")
    allow_log_delivery(s3, "audit-logs-bucket")
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadFromVpce",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*",
                "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": "arn:aws:kms:us-east-1:123456789012:key/abcd",
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_logging(
        Bucket=BUCKET,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "audit-logs-bucket", "TargetPrefix": "s3/"}},
    )
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "abort-mpu",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }
            ]
        },
    )
    s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={
            "CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://a.example"]}]
        },
    )
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "team", "Value": "sec"}]})
    session.client("s3control").put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    return BUCKET


def test_discover_bare_bucket_every_not_configured_answer_is_data(
    session: boto3.Session, bare_bucket: str
) -> None:
    # Given a bucket with nothing configured / When discovered
    snap = discover_bucket(bare_bucket, session)
    # Then every "not configured" field is known (ok) and empty, none unknown
    for field in NOT_CONFIGURED_FIELDS:
        probe = getattr(snap.config, field)
        assert probe.state == "ok", (field, probe.reason)
        assert probe.value is None, field
    assert snap.config.acl.value is not None
    assert snap.config.versioning.value is not None
    assert snap.config.versioning.value.status is None


def test_discover_bare_bucket_records_how_and_when_it_was_read(
    session: boto3.Session, bare_bucket: str
) -> None:
    snap = discover_bucket(bare_bucket, session)
    data = snap.to_json_dict()
    assert data["schemaVersion"] == "1.0"
    assert data["resource"] == {"type": "AWS::S3::Bucket", "id": BUCKET}
    assert data["readAt"].endswith("Z")
    assert data["readBy"]["accountId"] == ACCOUNT
    assert data["readBy"]["principalArn"].startswith("arn:aws:")
    assert data["readBy"]["how"] == "boto3 s3 API, 18 calls concurrent"
    assert data["accountId"] == ACCOUNT


def test_discover_configured_bucket_reads_every_field(session: boto3.Session, configured_bucket: str) -> None:
    cfg = discover_bucket(configured_bucket, session).config
    assert cfg.public_access_block.value is not None
    assert cfg.public_access_block.value.block_public_policy is False
    assert cfg.public_access_block.value.ignore_public_acls is True
    assert cfg.account_public_access_block.value is not None and cfg.account_public_access_block.value.all_on
    assert cfg.ownership_controls.value == "BucketOwnerEnforced"
    assert cfg.policy.value is not None and cfg.policy.value["Statement"][0]["Sid"] == "ReadFromVpce"
    assert cfg.encryption.value is not None
    assert cfg.encryption.value.algorithm == "aws:kms"
    assert cfg.encryption.value.kms_key_id == "arn:aws:kms:us-east-1:123456789012:key/abcd"
    assert cfg.encryption.value.bucket_key_enabled is True
    assert cfg.versioning.value is not None and cfg.versioning.value.status == "Enabled"
    assert cfg.logging.value is not None and cfg.logging.value.target_bucket == "audit-logs-bucket"
    assert cfg.lifecycle_rules.value is not None and cfg.lifecycle_rules.value[0]["ID"] == "abort-mpu"
    assert cfg.object_lock.value is not None and cfg.object_lock.value.enabled is True
    assert cfg.website.value is not None and cfg.website.value["IndexDocument"]["Suffix"] == "index.html"
    assert cfg.cors.value is not None and cfg.cors.value[0].allowed_origins == ["https://a.example"]
    assert cfg.tags.value == {"team": "sec"}


def test_discover_snapshot_json_round_trips(session: boto3.Session, configured_bucket: str) -> None:
    from secagent.models import parse_snapshot

    snap = discover_bucket(configured_bucket, session)
    again = parse_snapshot(json.loads(json.dumps(snap.to_json_dict())))
    assert again == snap


def test_discover_missing_bucket_raises_resource_not_found(session: boto3.Session) -> None:
    with pytest.raises(ResourceNotFound) as exc:
        discover_bucket("no-such-bucket-here", session)
    assert exc.value.retryable is False


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "A-Upper",
        "under_score",
        "-leading",
        "trailing-",
        "two..dots",
        "192.168.5.4",
        "xn--punycode",
        "x" * 64,
    ],
)
def test_discover_invalid_name_raises_invalid_input_before_any_call(name: str) -> None:
    # No moto here: a network call would fail differently than InvalidInput.
    with pytest.raises(InvalidInput):
        discover_bucket(name, boto3.Session(region_name="us-east-1"))


@pytest.mark.parametrize("concurrent", [True, False])
def test_discover_access_denied_on_one_call_marks_only_that_field_unknown(
    session: boto3.Session, bare_bucket: str, concurrent: bool
) -> None:
    clients, hits = failing_clients(session, {"s3.GetBucketPolicy": (403, "AccessDenied")})
    snap = discover_bucket(bare_bucket, session, clients=clients, concurrent=concurrent)
    assert hits == ["s3.GetBucketPolicy"]
    assert snap.config.policy.state == "unknown"
    assert snap.config.policy.reason is not None and snap.config.policy.reason.startswith("AccessDenied")
    others = [f for f in type(snap.config).model_fields if f != "policy"]
    assert all(getattr(snap.config, f).state == "ok" for f in others)


@pytest.mark.parametrize(
    ("failure", "status"),
    [("SlowDown", 503), ("Throttling", 400), ("InternalError", 500), ("ServiceUnavailable", 503)],
)
@pytest.mark.parametrize("concurrent", [True, False])
def test_discover_throttling_or_5xx_raises_retryable_transient_error(
    session: boto3.Session, bare_bucket: str, failure: str, status: int, concurrent: bool
) -> None:
    clients, _ = failing_clients(session, {"s3.GetBucketAcl": (status, failure)})
    with pytest.raises(TransientError) as exc:
        discover_bucket(bare_bucket, session, clients=clients, concurrent=concurrent)
    assert exc.value.retryable is True


def test_discover_unimplemented_api_marks_field_unknown_not_transient(
    session: boto3.Session, bare_bucket: str
) -> None:
    # LocalStack answers GetBucketPolicyStatus with 501 NotImplemented: optional evidence, not an outage.
    clients, hits = failing_clients(session, {"s3.GetBucketPolicyStatus": (501, "NotImplemented")})
    snap = discover_bucket(bare_bucket, session, clients=clients)
    assert hits == ["s3.GetBucketPolicyStatus"]
    assert snap.config.policy_status_is_public.state == "unknown"
    assert snap.config.policy.state == "ok"


def test_discover_policy_status_server_error_marks_field_unknown_not_transient(
    session: boto3.Session, bare_bucket: str
) -> None:
    # Given GetBucketPolicyStatus failing with a 5xx (LocalStack: 500 InternalFailure)
    clients, hits = failing_clients(session, {"s3.GetBucketPolicyStatus": (500, "InternalFailure")})
    # When the bucket is discovered
    snap = discover_bucket(bare_bucket, session, clients=clients)
    # Then only that supplementary field is unknown; the audit is not failed or retried for it
    assert hits == ["s3.GetBucketPolicyStatus"]
    assert snap.config.policy_status_is_public.state == "unknown"
    assert "InternalFailure" in (snap.config.policy_status_is_public.reason or "")
    assert snap.config.acl.state == "ok"


def test_discover_sts_denied_marks_account_block_public_access_unknown(
    session: boto3.Session, bare_bucket: str
) -> None:
    clients, _ = failing_clients(session, {"sts.GetCallerIdentity": (403, "AccessDenied")})
    snap = discover_bucket(bare_bucket, session, clients=clients)
    assert snap.account_id is None
    assert snap.config.account_public_access_block.state == "unknown"
    assert snap.config.public_access_block.state == "ok"


def test_discover_bucket_in_other_region_reports_its_region(session: boto3.Session) -> None:
    session.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-bucket-audit", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    assert discover_bucket("eu-bucket-audit", session).region == "eu-west-1"


def test_discover_sequential_and_concurrent_read_the_same_configuration(
    session: boto3.Session, configured_bucket: str
) -> None:
    a = discover_bucket(configured_bucket, session, concurrent=True)
    b = discover_bucket(configured_bucket, session, concurrent=False)
    assert a.config == b.config
    assert b.read_by.how.endswith("sequential")


def test_client_factory_s3control_without_custom_endpoint_keeps_host_prefix() -> None:
    client = client_factory(boto3.Session(region_name="us-east-1"))("s3control", None)
    assert client.meta.config.inject_host_prefix is True


def test_client_factory_s3control_with_endpoint_env_disables_host_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost.localstack.cloud:4566")
    make = client_factory(boto3.Session(region_name="us-east-1"))
    assert make("s3control", None).meta.config.inject_host_prefix is False
    assert make("s3", None).meta.config.inject_host_prefix is True


def test_client_factory_s3control_with_explicit_endpoint_disables_host_prefix() -> None:
    make = client_factory(boto3.Session(region_name="us-east-1"), endpoint_url="http://127.0.0.1:4566")
    assert make("s3control", None).meta.config.inject_host_prefix is False


class RawStream:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any):
        yield self._data

    def read(self, *_: Any) -> bytes:
        data, self._data = self._data, b""
        return data


def _sent_url(client: Any) -> str:
    """The URL a call would go to: captured before sending, answered with an empty 200."""
    sent: list[str] = []

    def capture(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.url)
        return AWSResponse(request.url, 200, {}, RawStream(b"<PublicAccessBlockConfiguration/>"))

    client.meta.events.register("before-send.s3-control", capture)
    client.get_public_access_block(AccountId="123456789012")
    return sent[0]


def test_client_factory_s3control_with_custom_endpoint_sends_to_that_host_without_account_prefix() -> None:
    # Given a custom endpoint on a plain IP (botocore's endpoint rules would prefix the account id)
    make = client_factory(boto3.Session(region_name="us-east-1"), endpoint_url="http://127.0.0.1:4566")
    # When s3control is called, Then the request goes to that very host
    assert _sent_url(make("s3control", None)).startswith("http://127.0.0.1:4566/v20180820/")


def test_client_factory_s3control_on_aws_keeps_the_account_host() -> None:
    url = _sent_url(client_factory(boto3.Session(region_name="us-east-1"))("s3control", None))
    assert url.startswith("https://123456789012.s3-control.us-east-1.amazonaws.com/")


def test_discover_every_bucket_read_names_the_callers_account_as_expected_owner(
    session: boto3.Session, configured_bucket: str
) -> None:
    # A bucket of another account must answer 403 (ExpectedBucketOwner) rather than be judged, and
    # then fixed, as if the caller's account owned it: the fixes pin policies to that account.
    seen: dict[str, str | None] = {}

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "Bucket" in params and model.name != "HeadBucket":
            seen[model.name] = params.get("ExpectedBucketOwner")

    factory = client_factory(session)

    def clients(service: str, region: str | None = None) -> Any:
        client = factory(service, region)
        client.meta.events.register("provide-client-params.s3.*", record)
        return client

    snapshot = discover_bucket(configured_bucket, session, clients=clients)
    assert len(seen) >= 15 and set(seen.values()) == {snapshot.account_id}


# ---- fields asked for, and a bucket the caller knows exists ------------------------------------


def _recording(session: boto3.Session) -> tuple[Any, list[str]]:
    """A client factory over moto and the "service.Operation" of every call its clients make."""
    factory = client_factory(session)
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}.{model.name}")

    def clients(service: str, region: str | None = None) -> Any:
        client = factory(service, region)
        client.meta.events.register("before-call", record)
        return client

    return clients, calls


@pytest.mark.parametrize("concurrent", [True, False])
def test_discover_reads_only_the_fields_asked_for(
    session: boto3.Session, configured_bucket: str, concurrent: bool
) -> None:
    # Given a caller asking for the versioning and the tags only
    clients, calls = _recording(session)
    snap = discover_bucket(
        configured_bucket, session, clients=clients, concurrent=concurrent, fields=["versioning", "tags"]
    )
    # Then only their reads are made (besides locating the bucket and naming the account)
    assert sorted(calls) == [
        "s3.GetBucketTagging",
        "s3.GetBucketVersioning",
        "s3.HeadBucket",
        "sts.GetCallerIdentity",
    ]
    assert snap.config.versioning.value is not None and snap.config.versioning.value.status == "Enabled"
    assert snap.config.tags.value == {"team": "sec"}
    # and every other field is unknown, "not requested": never "read fine, not configured"
    others = [f for f in FIELDS if f not in ("versioning", "tags")]
    assert all(getattr(snap.config, f) == Probe(state="unknown", reason=NOT_REQUESTED) for f in others)
    assert snap.read_by.calls == 4
    assert snap.read_by.how.endswith(f"; not read: {', '.join(others)}")


def test_discover_without_the_account_field_makes_no_s3control_call(
    session: boto3.Session, bare_bucket: str
) -> None:
    clients, calls = _recording(session)
    snap = discover_bucket(
        bare_bucket, session, clients=clients, fields=set(FIELDS) - {"account_public_access_block"}
    )
    assert not [c for c in calls if c.startswith("s3control.")]
    assert snap.config.account_public_access_block.reason == NOT_REQUESTED
    assert snap.account_id == ACCOUNT  # still named: every read pins ExpectedBucketOwner to it


def test_discover_by_default_reads_every_field(session: boto3.Session, bare_bucket: str) -> None:
    clients, calls = _recording(session)
    snap = discover_bucket(bare_bucket, session, clients=clients)
    assert len(calls) == len(set(calls)) == len(FIELDS) + 2 == snap.read_by.calls  # + HeadBucket, STS
    assert "s3.GetBucketReplication" in calls and "s3control.GetPublicAccessBlock" in calls
    assert all(probe.reason != NOT_REQUESTED for _, probe in snap.config)


def test_discover_a_field_asked_for_twice_or_none_at_all(session: boto3.Session, bare_bucket: str) -> None:
    clients, calls = _recording(session)
    snap = discover_bucket(bare_bucket, session, clients=clients, fields=["tags", "tags"])
    assert calls.count("s3.GetBucketTagging") == 1 and snap.config.tags.known
    calls.clear()
    nothing = discover_bucket(bare_bucket, session, clients=clients, fields=[])
    assert sorted(calls) == ["s3.HeadBucket", "sts.GetCallerIdentity"]
    assert not any(probe.known for _, probe in nothing.config)


def test_discover_an_unknown_field_is_refused_before_any_call(
    session: boto3.Session, bare_bucket: str
) -> None:
    clients, calls = _recording(session)
    with pytest.raises(ValueError, match="replicaton"):
        discover_bucket(bare_bucket, session, clients=clients, fields=["replicaton"])
    assert calls == []


@pytest.mark.parametrize("check_id", sorted(checks_for(BUCKET_TYPE)))
def test_discover_a_required_field_not_read_makes_the_check_unknown_never_pass(
    session: boto3.Session, configured_bucket: str, check_id: str
) -> None:
    # Given a snapshot read without the fields this check requires
    check = checks_for(BUCKET_TYPE)[check_id]
    snap = discover_bucket(configured_bucket, session, fields=set(FIELDS) - set(check.meta.requires))
    # Then its verdict is UNKNOWN, naming why
    findings = run_check(check, snap, AgentSettings())
    assert [f.status for f in findings] == [Status.UNKNOWN]
    assert NOT_REQUESTED in (findings[0].error or "")


def test_discover_a_bucket_known_to_exist_is_not_located_again(session: boto3.Session) -> None:
    session.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="eu-bucket-audit", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    clients, calls = _recording(session)
    # Given a caller that knows the bucket exists, and where (ListBuckets' BucketRegion)
    snap = discover_bucket("eu-bucket-audit", session, clients=clients, exists_in_region="eu-west-1")
    # Then no HeadBucket; everything else is read in that region
    assert "s3.HeadBucket" not in calls
    assert snap.region == "eu-west-1" and snap.read_by.calls == len(FIELDS) + 1
    assert all(probe.known for _, probe in snap.config)


def test_discover_a_bucket_said_to_exist_but_gone_is_resource_not_found(session: boto3.Session) -> None:
    with pytest.raises(ResourceNotFound):
        discover_bucket("deleted-since-listed", session, exists_in_region="us-east-1", concurrent=False)
