from secagent.models import AgentSettings, Status
from tests.unit.checks.snapshots import ACCOUNT, BUCKET, policy_with, run, snapshot, unknown_probe

CHECK = "s3_bucket_policy_cross_account"
PARTNER = "444455556666"


def grant(principal: str) -> dict[str, object]:
    return {
        "Sid": "Partner",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }


def test_cross_account_own_account_only_passes() -> None:
    snap = snapshot(policy=policy_with(grant(f"arn:aws:iam::{ACCOUNT}:role/reader")))
    assert run(CHECK, snap).status is Status.PASS


def test_cross_account_untrusted_account_fails() -> None:
    finding = run(CHECK, snapshot(policy=policy_with(grant(f"arn:aws:iam::{PARTNER}:root"))))
    assert finding.status is Status.FAIL and finding.evidence["untrustedAccounts"] == [PARTNER]


def test_cross_account_trusted_account_passes() -> None:
    snap = snapshot(policy=policy_with(grant(f"arn:aws:iam::{PARTNER}:root")))
    assert run(CHECK, snap, AgentSettings(trusted_accounts=frozenset({PARTNER}))).status is Status.PASS


def test_cross_account_owner_unknown_is_unknown() -> None:
    snap = snapshot(account_id=None, policy=policy_with(grant(f"arn:aws:iam::{PARTNER}:root")))
    assert run(CHECK, snap).status is Status.UNKNOWN


def test_cross_account_policy_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(policy=unknown_probe())).status is Status.UNKNOWN
