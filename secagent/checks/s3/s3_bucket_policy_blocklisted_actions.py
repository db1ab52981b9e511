"""Other accounts may change the bucket's policy, ACLs or default encryption (FSBP S3.6).

The rule behind S3.6 (AWS Config s3-bucket-blacklisted-actions-prohibited, as Security Hub
sets it) fails a bucket policy that allows principals of other AWS accounts any of
s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration or
s3:PutObjectAcl. Other accounts include everyone when an Allow is not pinned to the owner
account. Other cross-account grants are s3_bucket_policy_cross_account's business.
"""

from secagent.checks.base import Result, bucket_policy_report, failed, passed, unknown
from secagent.fixes.builders import put_policy
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.fixes.policy_edit import deny_blocklisted_to_other_accounts
from secagent.models.access import BLOCKLISTED_ACTIONS
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_policy_blocklisted_actions",
    title="Bucket policy lets other accounts change its policy, ACLs or encryption",
    severity=Severity.HIGH,
    rationale="An account that may put the bucket policy or ACLs can grant itself (or anyone) everything; "
    f"S3.6 prohibits {', '.join(BLOCKLISTED_ACTIONS)} for principals of other accounts.",
    controls=["FSBP:S3.6"],
    remediation_id="s3.deny_blocklisted_actions_to_other_accounts",
    requires=["policy"],
    also_reads=["acl"],
)
PHASE = 42  # before s3_bucket_policy_cross_account (43), which may remove the same principals


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    if snapshot.account_id is None:
        return unknown("owner account id unknown: cannot tell which principals are another account's")
    report = bucket_policy_report(snapshot, snapshot.config.policy.value)
    if not report.blocklisted:
        return passed(blocklistedGrants=[])
    return failed(
        blocklistedGrants=[
            {
                "statement": g.statement,
                "accounts": list(g.accounts) or "any account",
                "actions": list(g.actions),
            }
            for g in report.blocklisted
        ],
        trustedAccountsIncluded=sorted(
            {a for g in report.blocklisted for a in g.accounts} & settings.trusted_accounts
        ),
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    owner = state.snapshot.account_id
    if owner is None or not bucket_policy_report(state.snapshot, state.policy).blocklisted:
        return None
    return put_policy(
        state,
        deny_blocklisted_to_other_accounts(state.policy, state.bucket, owner),
        title="Deny other accounts the S3.6 actions (bucket policy, ACLs, encryption)",
        risk="Other accounts can no longer change this bucket's policy, ACLs or default encryption, "
        "nor upload with an ACL header (x-amz-acl, e.g. bucket-owner-full-control: it needs "
        "s3:PutObjectAcl); every other access they have is unchanged.",
    )
