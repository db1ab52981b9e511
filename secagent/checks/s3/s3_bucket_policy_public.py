"""Bucket policy allows everyone without a restricting condition."""

from typing import Any

from secagent.checks.base import (
    Result,
    bucket_policy_report,
    failed,
    passed,
    restricts_public_buckets,
    unknown,
)
from secagent.fixes.builders import put_policy
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.fixes.policy_edit import restrict_to_account
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_policy_public",
    title="Bucket policy grants public access",
    severity=Severity.CRITICAL,
    rationale="An Allow to Principal '*' (or NotPrincipal) that no condition pins to fixed callers "
    "(source IP/VPC/VPCE, organisation, account, ARN) and no Deny cancels opens the bucket to anyone. "
    "It fails S3.2 when anyone may read and S3.3 when anyone may write; RestrictPublicBuckets "
    "neutralises it.",
    controls=["FSBP:S3.2", "FSBP:S3.3"],
    remediation_id="s3.restrict_public_policy_statements",
    requires=["policy"],
    also_reads=["policy_status_is_public", "public_access_block", "account_public_access_block"],
)
PHASE = 40
READ, WRITE = "FSBP:S3.2", "FSBP:S3.3"


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    report = bucket_policy_report(snapshot, snapshot.config.policy.value)
    # On AWS, GetBucketPolicyStatus is S3's own verdict: when it says public, so do we.
    status_public = snapshot.config.policy_status_is_public.value is True
    if not report.is_public and not status_public:
        return passed(publicStatements=[], policyStatusIsPublic=snapshot.config.policy_status_is_public.value)
    read = report.public_read or (status_public and not report.is_public)
    write = report.public_write or (status_public and not report.is_public)
    evidence: dict[str, Any] = {
        "publicStatements": [p.statement for p in report.public],
        "publicRead": read,
        "publicWrite": write,
        "policyStatusIsPublic": snapshot.config.policy_status_is_public.value,
    }
    neutralised = restricts_public_buckets(snapshot)
    if neutralised:
        # Only the owner account and AWS services reach a bucket with a public policy then.
        return passed(
            publicStatements=[],
            latentPublicStatements=evidence["publicStatements"],
            neutralisedBy="RestrictPublicBuckets",
        )
    if neutralised is None:
        return unknown(
            "the policy is public, but Block Public Access is unreadable: "
            "cannot tell whether RestrictPublicBuckets neutralises it",
            **evidence,
        )
    return failed(controls=[c for c, hit in ((READ, read), (WRITE, write)) if hit], **evidence)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    report = bucket_policy_report(state.snapshot, state.policy)
    if not report.is_public or state.policy is None:
        return None
    sids = ", ".join(p.sid or f"#{p.index}" for p in report.public)
    return put_policy(
        state,
        restrict_to_account(state.policy, [p.index for p in report.public], state.snapshot.account_id),
        title="Pin public bucket policy statements to the owner account (aws:PrincipalAccount)",
        risk=f"Anonymous and other-account access via statements {sids} stops (public sites, shared links).",
    )
