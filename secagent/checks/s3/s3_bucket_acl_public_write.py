"""Bucket ACL grants write to AllUsers or AuthenticatedUsers."""

from secagent.checks.base import WRITE_PERMISSIONS, Result, public_acl_grants_result
from secagent.fixes.builders import remove_public_acl_grants
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_acl_public_write",
    title="Bucket ACL grants public write (AllUsers / AuthenticatedUsers)",
    severity=Severity.CRITICAL,
    rationale="WRITE, WRITE_ACP or FULL_CONTROL to AllUsers or AuthenticatedUsers lets anyone upload, "
    "overwrite objects or rewrite the ACL itself.",
    controls=["FSBP:S3.3"],
    remediation_id="s3.remove_public_acl_grants",
    requires=["acl"],
    also_reads=["public_access_block", "account_public_access_block"],
)
PHASE = 20


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    return public_acl_grants_result(snapshot, WRITE_PERMISSIONS)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return remove_public_acl_grants(state)
