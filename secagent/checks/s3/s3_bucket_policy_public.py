"""Bucket policy allows everyone without a restricting condition."""

from secagent.checks.base import Draft, PlanningState, Result, failed, passed, restricts_public_buckets
from secagent.checks.policy import analyze_policy
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot
from secagent.remediation.builders import put_policy
from secagent.remediation.policy_edit import restrict_to_account

META = CheckMeta(
    id="s3_bucket_policy_public",
    title="Bucket policy grants public access",
    severity=Severity.CRITICAL,
    rationale="An Allow to Principal '*' (or NotPrincipal) that no condition pins to fixed callers "
    "(source IP/VPC/VPCE, organisation, account, ARN) and no Deny cancels opens the bucket to anyone.",
    controls=["FSBP:S3.2", "FSBP:S3.3"],
    remediation_id="s3.restrict_public_policy_statements",
    requires=["policy"],
)
PHASE = 40


def evaluate(snapshot: Snapshot, settings: AgentSettings) -> list[Result]:
    report = analyze_policy(snapshot.config.policy.value, snapshot.bucket, snapshot.account_id)
    status = snapshot.config.policy_status_is_public
    if not report.is_public:
        return passed(publicStatements=[], policyStatusIsPublic=status.value)
    return failed(
        publicStatements=[p.statement for p in report.public],
        publicRead=report.public_read,
        publicWrite=report.public_write,
        neutralisedByRestrictPublicBuckets=restricts_public_buckets(snapshot),
        policyStatusIsPublic=status.value,  # optional evidence: absent on LocalStack
    )


def remediate(state: PlanningState, finding: Finding) -> Draft | None:
    report = analyze_policy(state.policy, state.bucket, state.snapshot.account_id)
    if not report.is_public or state.policy is None:
        return None
    sids = ", ".join(p.sid or f"#{p.index}" for p in report.public)
    return put_policy(
        state,
        restrict_to_account(state.policy, [p.index for p in report.public], state.snapshot.account_id),
        title="Pin public bucket policy statements to the owner account (aws:PrincipalAccount)",
        risk=f"Anonymous and other-account access via statements {sids} stops (public sites, shared links).",
    )
