"""Bucket policy grants access to accounts outside the trusted allow-list."""

from secagent.checks.base import Draft, PlanningState, Result, failed, passed, unknown
from secagent.checks.policy import analyze_policy
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot
from secagent.remediation.builders import put_policy
from secagent.remediation.policy_edit import foreign_principals, remove_principals

META = CheckMeta(
    id="s3_bucket_policy_cross_account",
    title="Bucket policy grants access to untrusted AWS accounts",
    severity=Severity.HIGH,
    rationale="Every account named in an Allow can use the bucket with its own credentials; only accounts on "
    "the trusted allow-list (setting trusted_accounts) should appear.",
    controls=["FSBP:S3.6"],
    remediation_id="s3.remove_untrusted_principals",
    requires=["policy"],
)
PHASE = 42


def evaluate(snapshot: Snapshot, settings: AgentSettings) -> list[Result]:
    if snapshot.account_id is None:
        return unknown("owner account id unknown: cannot tell which principals are foreign")
    report = analyze_policy(
        snapshot.config.policy.value, snapshot.bucket, snapshot.account_id, settings.trusted_accounts
    )
    if not report.cross_account:
        return passed(untrustedAccounts=[], trustedAccounts=sorted(settings.trusted_accounts))
    return failed(
        untrustedAccounts=sorted({a for g in report.cross_account for a in g.accounts}),
        statements=[g.statement for g in report.cross_account],
    )


def remediate(state: PlanningState, finding: Finding) -> Draft | None:
    removals = foreign_principals(state.policy, state.snapshot.account_id, state.settings.trusted_accounts)
    if not removals or state.policy is None:
        return None
    accounts = ", ".join(finding.evidence.get("untrustedAccounts", []))
    return put_policy(
        state,
        remove_principals(state.policy, removals),
        title="Remove untrusted account principals from the bucket policy",
        risk=f"Accounts {accounts} lose the access the policy gave them.",
    )
