"""Plans: order, shape, quoting, policy-edit safety. No AWS calls."""

import itertools
import json
import shlex

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator

from secagent.checks import analyze
from secagent.fixes.policy_edit import UnsafePolicyEdit, add_tls_deny, guard, restrict_to_account
from secagent.models import AgentSettings, ApiCall, Probe, RemediationPlanSet, Snapshot
from secagent.remediation import cli_command, plan_remediations
from tests.unit.checks.snapshots import ACCOUNT, BUCKET, acl_with, public_grant, snapshot

PUBLIC = {
    "Sid": "Public",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
PARTNER = {
    "Sid": "Partner",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::444455556666:root", f"arn:aws:iam::{ACCOUNT}:role/app"]},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
SETTINGS = AgentSettings(require_kms=True, access_log_bucket="central-logs")


def everything_failing() -> Snapshot:
    return snapshot(
        public_access_block=Probe(value=None),
        account_public_access_block=Probe(value=None),
        acl=acl_with(public_grant("AllUsers", "READ"), public_grant("AuthenticatedUsers", "WRITE")),
        ownership_controls=Probe(value="ObjectWriter"),
        policy=Probe(value={"Version": "2012-10-17", "Statement": [PUBLIC, PARTNER]}),
        encryption=Probe(value=None),
        versioning=Probe(value=None),
        logging=Probe(value=None),
        lifecycle_rules=Probe(value=None),
        object_lock=Probe(value=None),
        website=Probe(value={"IndexDocument": {"Suffix": "index.html"}}),
        cors=Probe(value=[{"allowedMethods": ["PUT"], "allowedOrigins": ["*"]}]),
        notifications=Probe(value=None),
    )


@pytest.fixture
def plans() -> RemediationPlanSet:
    snap = everything_failing()
    return plan_remediations(snap, analyze(snap, SETTINGS), SETTINGS)


def test_plan_every_failing_check_is_planned_or_merged(plans: RemediationPlanSet) -> None:
    snap = everything_failing()
    failing = {f.check_id for f in analyze(snap, SETTINGS).findings if f.status.value == "FAIL"}
    assert len(failing) == 20
    planned = {c for p in plans.plans for c in p.check_ids}
    # event notifications need a destination only the owner can name: never planned
    assert planned == failing - {"s3_bucket_event_notifications_disabled"}
    assert plans.unplanned == ["s3_bucket_event_notifications_disabled"]


def test_plan_order_is_safe_to_apply_top_to_bottom(plans: RemediationPlanSet) -> None:
    order = [p.remediation_id for p in plans.plans]
    assert order.index("s3.put_bucket_public_access_block") < order.index("s3.remove_public_acl_grants")
    # AWS rejects BucketOwnerEnforced while the bucket ACL still grants others.
    assert order.index("s3.remove_public_acl_grants") < order.index("s3.enforce_bucket_owner")
    assert order.index("s3.enable_versioning") < order.index("s3.enable_object_lock")
    assert order.index("s3.enable_versioning") < order.index("s3.enable_mfa_delete")
    assert [p.order for p in plans.plans] == list(range(1, len(plans.plans) + 1))


def test_plan_acl_read_and_write_fixed_by_one_acl_rewrite(plans: RemediationPlanSet) -> None:
    [acl] = [p for p in plans.plans if p.remediation_id == "s3.remove_public_acl_grants"]
    assert acl.check_ids == ["s3_bucket_acl_public_read", "s3_bucket_acl_public_write"]
    grants = acl.api_call.parameters["AccessControlPolicy"]["Grants"]
    assert [g["Grantee"]["Type"] for g in grants] == ["CanonicalUser"]
    assert len(acl.rollback.parameters["AccessControlPolicy"]["Grants"]) == 3  # type: ignore[union-attr]


def test_plan_policy_edits_chain_and_each_rollback_captures_the_policy_before_it(
    plans: RemediationPlanSet,
) -> None:
    policy_plans = [p for p in plans.plans if p.api_call.operation == "PutBucketPolicy"]
    assert [p.remediation_id for p in policy_plans] == [
        "s3.restrict_public_policy_statements",
        "s3.add_deny_insecure_transport",
        "s3.remove_untrusted_principals",
    ]
    for earlier, later in itertools.pairwise(policy_plans):
        assert later.rollback is not None
        assert json.loads(later.rollback.parameters["Policy"]) == json.loads(
            earlier.api_call.parameters["Policy"]
        )
    final = json.loads(policy_plans[-1].api_call.parameters["Policy"])
    sids = [s["Sid"] for s in final["Statement"]]
    assert sids == ["Public", "Partner", "DenyInsecureTransport"]
    assert final["Statement"][1]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:role/app"}


def test_plan_every_api_call_and_rollback_is_valid_for_the_botocore_model(plans: RemediationPlanSet) -> None:
    session = get_session()
    calls: list[ApiCall] = [c for p in plans.plans for c in (p.api_call, p.rollback) if c is not None]
    for call in calls:
        model = session.get_service_model(call.service).operation_model(call.operation)
        report = ParamValidator().validate(call.parameters, model.input_shape)
        assert not report.has_errors(), (call.operation, report.generate_report())


def test_plan_mfa_delete_needs_manual_input_and_others_are_runnable(plans: RemediationPlanSet) -> None:
    manual = {p.remediation_id for p in plans.plans if p.manual_inputs}
    assert manual == {"s3.enable_mfa_delete"}
    [mfa] = [p for p in plans.plans if p.remediation_id == "s3.enable_mfa_delete"]
    assert "MFA" in mfa.api_call.parameters and "--mfa" in mfa.cli_command


def test_plan_every_plan_has_risk_reversibility_and_rollback_when_reversible(
    plans: RemediationPlanSet,
) -> None:
    for plan in plans.plans:
        assert plan.risk and "\n" not in plan.risk
        if plan.reversible:
            assert plan.rollback is not None and plan.rollback_cli_command
    assert {p.remediation_id for p in plans.plans if not p.reversible} == {
        "s3.enable_versioning",
        "s3.enable_object_lock",
    }


def test_plan_json_is_camel_case(plans: RemediationPlanSet) -> None:
    data = plans.to_json_dict()["plans"][0]
    assert {"planId", "apiCall", "cliCommand", "rollbackCliCommand", "previousConfig", "manualInputs"} <= set(
        data
    )
    assert data["apiCall"]["service"] == "s3" and data["apiCall"]["operation"] == "PutPublicAccessBlock"


def test_cli_command_quotes_every_argument_and_round_trips() -> None:
    policy = json.dumps({"Statement": [{"Sid": "it's; rm -rf /", "Effect": "Allow"}]})
    call = ApiCall(
        service="s3",
        operation="PutBucketPolicy",
        parameters={"Bucket": "b-1", "Policy": policy},
        region="eu-west-1",
    )
    cmd = cli_command(call)
    assert shlex.split(cmd) == [
        "aws",
        "s3api",
        "put-bucket-policy",
        "--bucket",
        "b-1",
        "--policy",
        policy,
        "--region",
        "eu-west-1",
    ]


def test_cli_command_dicts_as_json_and_booleans_as_flags() -> None:
    call = ApiCall(
        service="s3control",
        operation="PutPublicAccessBlock",
        parameters={
            "AccountId": "1",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": True},
            "DryRun": False,
        },
    )
    args = shlex.split(cli_command(call))
    assert args[:3] == ["aws", "s3control", "put-public-access-block"]
    assert json.loads(args[args.index("--public-access-block-configuration") + 1]) == {
        "BlockPublicAcls": True
    }
    assert "--no-dry-run" in args


def test_policy_edit_restrict_keeps_other_statements_and_existing_conditions() -> None:
    stmt = {**PUBLIC, "Condition": {"StringEquals": {"s3:x-amz-acl": "private"}}}
    policy = {"Version": "2012-10-17", "Id": "keep-me", "Statement": [PARTNER, stmt]}
    edited = restrict_to_account(policy, [1], ACCOUNT)
    assert edited is not None and edited["Id"] == "keep-me" and edited["Statement"][0] == PARTNER
    assert edited["Statement"][1]["Condition"]["StringEquals"] == {
        "s3:x-amz-acl": "private",
        "aws:PrincipalAccount": ACCOUNT,
    }
    assert policy["Statement"][1] == stmt  # input untouched


def test_policy_edit_restrict_without_account_drops_only_the_public_statement() -> None:
    edited = restrict_to_account({"Statement": [PARTNER, PUBLIC]}, [1], None)
    assert edited is not None and edited["Statement"] == [PARTNER]


def test_policy_edit_tls_deny_gets_unique_sid_and_is_conditional() -> None:
    once = add_tls_deny(None, BUCKET)
    twice = add_tls_deny(once, BUCKET)
    assert [s["Sid"] for s in twice["Statement"]] == ["DenyInsecureTransport", "DenyInsecureTransport2"]
    assert all(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in twice["Statement"])


@pytest.mark.parametrize(
    "bad",
    [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"},
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": "arn:aws:iam::1:root"},
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
)
def test_policy_edit_guard_refuses_new_deny_that_could_lock_out_admins(bad: dict[str, object]) -> None:
    with pytest.raises(UnsafePolicyEdit):
        guard({"Statement": [PUBLIC]}, {"Statement": [PUBLIC, bad]})


def test_policy_edit_guard_keeps_owners_existing_deny() -> None:
    existing = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}
    assert guard({"Statement": [existing]}, {"Statement": [existing, PUBLIC]}) is not None


def test_plan_enforce_owner_with_other_acl_grantee_asks_for_manual_migration() -> None:
    log_delivery = public_grant("../s3/LogDelivery", "WRITE")
    snap = snapshot(ownership_controls=Probe(value="ObjectWriter"), acl=acl_with(log_delivery))
    [plan] = plan_remediations(snap, analyze(snap)).plans
    assert plan.remediation_id == "s3.enforce_bucket_owner" and plan.manual_inputs
