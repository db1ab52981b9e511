"""Bucket policy lacks a Deny for requests without TLS."""

from secagent.checks.base import Result, bucket_policy_report, failed, passed
from secagent.fixes.builders import put_policy
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.fixes.policy_edit import add_tls_deny
from secagent.models.access import statements
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_tls_not_enforced",
    title="Bucket policy does not deny requests over plain HTTP",
    severity=Severity.MEDIUM,
    rationale="Without a Deny on aws:SecureTransport=false covering the bucket and its objects, "
    "clients may send data and credentials-signed requests unencrypted.",
    controls=["FSBP:S3.5", "CIS-3.0:2.1.1"],
    remediation_id="s3.add_deny_insecure_transport",
    requires=["policy"],
)
PHASE = 41


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    policy = snapshot.config.policy.value
    report = bucket_policy_report(snapshot, policy)
    if report.tls_enforced:
        stmts = statements(policy)
        return passed(tlsDenyStatements=[stmts[i] for i in report.tls_deny_indices])
    return failed(tlsDenyStatements=[], hasPolicy=policy is not None)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    if bucket_policy_report(state.snapshot, state.policy).tls_enforced:
        return None
    return put_policy(
        state,
        add_tls_deny(state.policy, state.bucket),
        title="Add a DenyInsecureTransport statement to the bucket policy",
        risk="Clients still using plain HTTP (old SDKs, http:// URLs) get 403.",
    )
