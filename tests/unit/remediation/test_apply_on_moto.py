"""Every remediation plan, executed with boto3 on moto, turns its FAIL into PASS."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.checks import analyze
from secagent.checks.registry import checks_for
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings, Finding, Status
from secagent.models.snapshot import BUCKET as BUCKET_TYPE
from secagent.remediation import execute_api_call, plan_remediations
from tests.unit.awsfakes import allow_log_delivery

BUCKET = "remediate-me-bucket"
LOGS = "central-access-logs-bucket"
PARTNER = "444455556666"
SETTINGS = AgentSettings(require_kms=True, access_log_bucket=LOGS)
# moto accepts PutBucketVersioning with MFA but never reports MFADelete back, so this
# plan cannot turn PASS on moto; its call is validated against the API model instead.
NOT_VERIFIABLE_ON_MOTO = {"s3_bucket_mfa_delete_disabled"}
# moto drops BlockedEncryptionTypes from PutBucketEncryption (LocalStack keeps it: the deployed
# tests cover that fix); event notifications have no fix (they need the owner's destination).
NOT_VERIFIABLE_ON_MOTO |= {"s3_bucket_sse_c_allowed", "s3_bucket_event_notifications_disabled"}


def _policy(*stmts: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(stmts)})


ALL_USERS = 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'
AUTH_USERS = 'uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"'


def _public_acl(**grants: str) -> Callable[[Any], None]:
    # Explicit grants: moto's "public-read-write" canned ACL omits the WRITE grant.
    def setup(s3: Any) -> None:
        s3.put_bucket_ownership_controls(
            Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
        )
        owner = s3.get_bucket_acl(Bucket=BUCKET)["Owner"]["ID"]
        s3.put_bucket_acl(Bucket=BUCKET, GrantFullControl=f'id="{owner}"', **grants)

    return setup


KEEP = {
    "Sid": "OwnRole",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
SETUPS: dict[str, Callable[[Any], None]] = {
    "s3_bucket_acl_public_read": _public_acl(GrantRead=ALL_USERS, GrantReadACP=AUTH_USERS),
    "s3_bucket_acl_public_write": _public_acl(GrantWrite=ALL_USERS, GrantWriteACP=AUTH_USERS),
    "s3_bucket_policy_public": lambda s3: s3.put_bucket_policy(
        Bucket=BUCKET, Policy=_policy(KEEP, {**KEEP, "Sid": "Public", "Principal": "*"})
    ),
    "s3_bucket_policy_cross_account": lambda s3: s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=_policy(KEEP, {**KEEP, "Sid": "Partner", "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}}),  # noqa: E501
    ),
    "s3_bucket_policy_blocklisted_actions": lambda s3: s3.put_bucket_policy(
        Bucket=BUCKET,
        Policy=_policy(KEEP, {**KEEP, "Sid": "PartnerAcl", "Action": ["s3:GetObject", "s3:PutObjectAcl"],
                              "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"}}),
    ),
    "s3_bucket_versioned_without_lifecycle": lambda s3: s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    ),
    "s3_bucket_website_enabled": lambda s3: s3.put_bucket_website(
        Bucket=BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}}
    ),
    "s3_bucket_cors_wildcard_write": lambda s3: s3.put_bucket_cors(
        Bucket=BUCKET,
        CORSConfiguration={"CORSRules": [
            {"AllowedMethods": ["GET"], "AllowedOrigins": ["https://app.example.com"]},
            {"AllowedMethods": ["PUT", "POST"], "AllowedOrigins": ["*"]},
        ]},
    ),
}  # fmt: skip
# The rest fail on a bare moto bucket already (no BPA, no TLS deny, ACLs on, no versioning, ...).


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.create_bucket(Bucket=LOGS)
        allow_log_delivery(s3, LOGS)
        yield session


def _status(session: boto3.Session, check_id: str) -> Finding:
    [finding] = [
        f for f in analyze(discover_bucket(BUCKET, session), SETTINGS).findings if f.check_id == check_id
    ]
    return finding


@pytest.mark.parametrize("check_id", sorted(set(checks_for(BUCKET_TYPE)) - NOT_VERIFIABLE_ON_MOTO))
def test_apply_plans_on_moto_turns_fail_into_pass(session: boto3.Session, check_id: str) -> None:
    # Given a bucket failing the check
    SETUPS.get(check_id, lambda _s3: None)(session.client("s3"))
    snap = discover_bucket(BUCKET, session)
    analysis = analyze(snap, SETTINGS)
    assert next(f for f in analysis.findings if f.check_id == check_id).status is Status.FAIL
    # When every runnable plan is executed in order with boto3
    plan_set = plan_remediations(snap, analysis, SETTINGS)
    plans = [p for p in plan_set.plans if not p.manual_inputs]
    assert any(check_id in p.check_ids for p in plans)
    for plan in plans:
        execute_api_call(plan.api_call, session)
    # Then the check passes on a fresh read
    assert _status(session, check_id).status is Status.PASS


def test_apply_policy_fixes_keep_unrelated_statements(session: boto3.Session) -> None:
    SETUPS["s3_bucket_policy_public"](session.client("s3"))
    snap = discover_bucket(BUCKET, session)
    for plan in plan_remediations(snap, analyze(snap, SETTINGS), SETTINGS).plans:
        if plan.api_call.operation == "PutBucketPolicy":
            execute_api_call(plan.api_call, session)
    policy = json.loads(session.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    sids = [s["Sid"] for s in policy["Statement"]]
    assert sids == ["OwnRole", "Public", "DenyInsecureTransport"]
    assert policy["Statement"][0] == KEEP
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}


@pytest.mark.parametrize(
    "check_id", ["s3_bucket_policy_public", "s3_bucket_website_enabled", "s3_bucket_block_public_access_off"]
)
def test_apply_rollback_on_moto_restores_previous_configuration(
    session: boto3.Session, check_id: str
) -> None:
    SETUPS.get(check_id, lambda _s3: None)(session.client("s3"))
    snap = discover_bucket(BUCKET, session)
    [plan] = [
        p for p in plan_remediations(snap, analyze(snap, SETTINGS), SETTINGS).plans if check_id in p.check_ids
    ]
    execute_api_call(plan.api_call, session)
    assert _status(session, check_id).status is Status.PASS
    assert plan.rollback is not None
    execute_api_call(plan.rollback, session)
    assert _status(session, check_id).status is Status.FAIL
