"""Bucket ACL grants write to AllUsers or AuthenticatedUsers."""

from secagent.checks.base import (
    WRITE_PERMISSIONS,
    Draft,
    PlanningState,
    Result,
    failed,
    ignores_public_acls,
    passed,
)
from secagent.checks.base import public_grants as _public_grants
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot
from secagent.remediation.builders import remove_public_acl_grants

META = CheckMeta(
    id="s3_bucket_acl_public_write",
    title="Bucket ACL grants public write (AllUsers / AuthenticatedUsers)",
    severity=Severity.CRITICAL,
    rationale="WRITE, WRITE_ACP or FULL_CONTROL to AllUsers or AuthenticatedUsers lets anyone upload, "
    "overwrite objects or rewrite the ACL itself.",
    controls=["FSBP:S3.3"],
    remediation_id="s3.remove_public_acl_grants",
    requires=["acl"],
)
PHASE = 20


def evaluate(snapshot: Snapshot, settings: AgentSettings) -> list[Result]:
    grants = _public_grants(snapshot.config.acl.value, WRITE_PERMISSIONS)
    if not grants:
        return passed(publicGrants=[])
    return failed(
        publicGrants=[g.to_json_dict() for g in grants],
        neutralisedByIgnorePublicAcls=ignores_public_acls(snapshot),
    )


def remediate(state: PlanningState, finding: Finding) -> Draft | None:
    return remove_public_acl_grants(state)
