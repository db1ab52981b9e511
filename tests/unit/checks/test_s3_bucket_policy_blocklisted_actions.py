import json

import pytest

from secagent.checks import analyze
from secagent.checks.policy import analyze_policy
from secagent.models import AgentSettings, Status
from secagent.remediation import plan_remediations
from tests.unit.checks.snapshots import ACCOUNT, BUCKET, OWNER_ID, policy_with, run, snapshot, unknown_probe

CHECK = "s3_bucket_policy_blocklisted_actions"
PARTNER = "444455556666"
OBJECTS = f"arn:aws:s3:::{BUCKET}/*"


def grant(principal: object, action: object, **extra: object) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": OBJECTS, **extra}


def test_blocklisted_hardened_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


@pytest.mark.parametrize(
    "action",
    ["s3:PutObjectAcl", "s3:PutBucketPolicy", "s3:put*", "s3:*", "*", ["s3:GetObject", "s3:PutBucketAcl"]],
)
def test_other_account_allowed_a_blocklisted_action_fails_s3_6(action: object) -> None:
    finding = run(CHECK, snapshot(policy=policy_with(grant({"AWS": f"arn:aws:iam::{PARTNER}:root"}, action))))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.6"]
    assert finding.evidence["blocklistedGrants"][0]["accounts"] == [PARTNER]


def test_other_account_allowed_only_reads_is_not_s3_6() -> None:
    # any other cross-account grant is s3_bucket_policy_cross_account's business, not S3.6
    policy = policy_with(grant({"AWS": PARTNER}, ["s3:GetObject", "s3:ListBucket"]))
    assert run(CHECK, snapshot(policy=policy)).status is Status.PASS
    assert run("s3_bucket_policy_cross_account", snapshot(policy=policy)).status is Status.FAIL


def test_owner_account_principals_pass() -> None:
    policy = policy_with(grant({"AWS": f"arn:aws:iam::{ACCOUNT}:role/admin"}, "s3:*"))
    assert run(CHECK, snapshot(policy=policy)).status is Status.PASS


def test_not_action_leaving_a_blocklisted_action_fails() -> None:
    stmt = {"Effect": "Allow", "Principal": {"AWS": PARTNER}, "NotAction": "s3:Delete*", "Resource": OBJECTS}
    assert run(CHECK, snapshot(policy=policy_with(stmt))).status is Status.FAIL


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": PARTNER}},
        {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{PARTNER}:role/writer"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-0abc"}},  # anyone who can reach the endpoint
        {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalAccount}"}},  # a variable pins nothing
    ],
)
def test_everyone_not_pinned_to_the_owner_account_fails(condition: dict) -> None:
    stmt = grant("*", "s3:PutObjectAcl", Condition=condition)
    assert run(CHECK, snapshot(policy=policy_with(stmt))).status is Status.FAIL


def test_everyone_pinned_to_the_owner_account_passes() -> None:
    stmt = grant("*", "s3:*", Condition={"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})
    assert run(CHECK, snapshot(policy=policy_with(stmt))).status is Status.PASS


def test_deny_unless_another_account_leaves_that_account_the_actions() -> None:
    allow = grant("*", "s3:*")
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": OBJECTS,
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": PARTNER}},
    }
    finding = run(CHECK, snapshot(policy=policy_with(allow, deny)))
    assert finding.status is Status.FAIL and finding.evidence["blocklistedGrants"][0]["accounts"] == [PARTNER]


def test_canonical_user_of_another_account_fails_and_the_owner_passes() -> None:
    other = grant({"CanonicalUser": "b" * 64}, "s3:PutObjectAcl")
    assert run(CHECK, snapshot(policy=policy_with(other))).status is Status.FAIL
    own = grant({"CanonicalUser": OWNER_ID}, "s3:PutObjectAcl")
    assert run(CHECK, snapshot(policy=policy_with(own))).status is Status.PASS


def test_trusted_accounts_do_not_change_the_standard_verdict() -> None:
    policy = policy_with(grant({"AWS": PARTNER}, "s3:PutObjectAcl"))
    finding = run(CHECK, snapshot(policy=policy), AgentSettings(trusted_accounts=frozenset({PARTNER})))
    assert finding.status is Status.FAIL and finding.evidence["trustedAccountsIncluded"] == [PARTNER]


def test_unknown_owner_account_is_unknown() -> None:
    policy = policy_with(grant({"AWS": PARTNER}, "s3:PutObjectAcl"))
    assert run(CHECK, snapshot(account_id=None, policy=policy)).status is Status.UNKNOWN
    assert run(CHECK, snapshot(policy=unknown_probe())).status is Status.UNKNOWN


def test_fix_denies_other_accounts_the_blocklisted_actions_and_keeps_the_rest() -> None:
    partner = grant({"AWS": PARTNER}, ["s3:GetObject", "s3:PutObjectAcl"], Sid="Partner")
    snap = snapshot(policy=policy_with(partner))
    settings = AgentSettings(trusted_accounts=frozenset({PARTNER}))  # the partner stays for reads
    [plan] = plan_remediations(snap, analyze(snap, settings), settings).plans
    after = json.loads(plan.api_call.parameters["Policy"])
    assert after["Statement"][:-1] == policy_with(partner).value["Statement"]  # nothing else touched
    deny = after["Statement"][-1]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}
    }
    report = analyze_policy(after, BUCKET, ACCOUNT)
    assert report.blocklisted == [] and [g.actions for g in report.cross_account] == [("s3:GetObject",)]


def test_public_policy_pin_also_fixes_s3_6_in_the_same_plan() -> None:
    from tests.unit.checks.snapshots import exposed

    snap = exposed(policy=policy_with(grant("*", "s3:*", Sid="Public")))
    plans = plan_remediations(snap, analyze(snap)).plans
    [pin] = [p for p in plans if p.remediation_id == "s3.restrict_public_policy_statements"]
    assert pin.check_ids == ["s3_bucket_policy_public", CHECK]
