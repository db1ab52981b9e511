"""Versioning is not enabled."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_versioning_disabled",
    title="Bucket versioning is not enabled",
    severity=Severity.MEDIUM,
    rationale="Versioning keeps prior object versions so overwrites and deletions (accidental or ransomware) "
    "can be undone.",
    controls=["FSBP:S3.14"],
    remediation_id="s3.enable_versioning",
    requires=["versioning"],
)
PHASE = 60


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    v = snapshot.config.versioning.value
    status = v.status if v else None
    return passed(status=status) if status == "Enabled" else failed(status=status)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    v = state.snapshot.config.versioning.value
    previous = v.status if v else None
    return Draft(
        title="Enable bucket versioning",
        api_call=state.s3("PutBucketVersioning", VersioningConfiguration={"Status": "Enabled"}),
        risk="Storage grows with noncurrent versions; add a lifecycle rule to expire them.",
        # A versioned bucket can only be suspended, never returned to "unversioned".
        reversible=False,
        rollback=state.s3("PutBucketVersioning", VersioningConfiguration={"Status": "Suspended"}),
        previous_config={"Status": previous},
    )
