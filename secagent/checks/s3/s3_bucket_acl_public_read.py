"""Bucket ACL grants read to AllUsers or AuthenticatedUsers."""

from secagent.checks.base import READ_PERMISSIONS, Result, public_acl_grants_result
from secagent.fixes.builders import remove_public_acl_grants
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_acl_public_read",
    title="Bucket ACL grants public read (AllUsers / AuthenticatedUsers)",
    severity=Severity.CRITICAL,
    rationale="READ, READ_ACP or FULL_CONTROL to AllUsers (anyone) or AuthenticatedUsers (any AWS account) "
    "exposes the bucket listing or its ACL to the internet.",
    controls=["FSBP:S3.2"],
    remediation_id="s3.remove_public_acl_grants",
    requires=["acl"],
    also_reads=["public_access_block", "account_public_access_block"],
)
PHASE = 20


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    return public_acl_grants_result(snapshot, READ_PERMISSIONS)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return remove_public_acl_grants(state)
