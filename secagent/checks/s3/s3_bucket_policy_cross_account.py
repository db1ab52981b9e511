"""Bucket policy grants access to accounts outside the trusted allow-list.

The product's own check (no FSBP control: S3.6 is only about the blocklisted actions, see
s3_bucket_policy_blocklisted_actions). Accounts count when a principal names them, a
condition pins an Allow to everyone to them (aws:PrincipalAccount, aws:PrincipalArn), a Deny
lets only them through, or a canonical-user principal is not the bucket owner.
"""

from secagent.checks.base import Result, bucket_policy_report, failed, passed, unknown
from secagent.fixes.builders import put_policy
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.fixes.policy_edit import remove_principals
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_policy_cross_account",
    title="Bucket policy grants access to untrusted AWS accounts",
    severity=Severity.HIGH,
    rationale="Every account the policy lets in can use the bucket with its own credentials; only accounts "
    "on the trusted allow-list (setting trusted_accounts) should.",
    controls=[],
    remediation_id="s3.remove_untrusted_principals",
    requires=["policy"],
    also_reads=["acl"],
)
PHASE = 43


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    if snapshot.account_id is None:
        return unknown("owner account id unknown: cannot tell which principals are foreign")
    report = bucket_policy_report(snapshot, snapshot.config.policy.value, settings.trusted_accounts)
    if not report.cross_account:
        return passed(untrustedAccounts=[], trustedAccounts=sorted(settings.trusted_accounts))
    return failed(
        untrustedAccounts=sorted({a for g in report.cross_account for a in g.accounts}),
        statements=[g.statement for g in report.cross_account],
        grantedThrough=sorted({v for g in report.cross_account for v in g.via}),
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    report = bucket_policy_report(state.snapshot, state.policy, state.settings.trusted_accounts)
    # Principals that name an untrusted account are removed; access granted through conditions
    # is left for a person to edit (finding evidence: grantedThrough).
    removals = {g.index: set(g.principals) for g in report.cross_account if g.principals}
    if not removals or state.policy is None:
        return None
    accounts = ", ".join(sorted({a for g in report.cross_account if g.principals for a in g.accounts}))
    return put_policy(
        state,
        remove_principals(state.policy, removals),
        title="Remove untrusted account principals from the bucket policy",
        risk=f"Accounts {accounts} lose the access the policy gave them.",
    )
