"""Object Lock is not enabled."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_object_lock_disabled",
    title="Bucket Object Lock is not enabled",
    severity=Severity.LOW,
    rationale="Object Lock (WORM) lets retention rules stop anyone, including administrators, from deleting "
    "or overwriting protected object versions.",
    controls=["FSBP:S3.15"],
    remediation_id="s3.enable_object_lock",
    requires=["object_lock"],
)
PHASE = 70  # Object Lock needs versioning, enabled at phase 60


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    lock = snapshot.config.object_lock.value
    if lock is not None and lock.enabled:
        return passed(objectLock=lock.to_json_dict())
    return failed(objectLock=None if lock is None else lock.to_json_dict())


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return Draft(
        title="Enable Object Lock (no default retention)",
        api_call=state.s3(
            "PutObjectLockConfiguration", ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        ),
        risk="Cannot be turned off. Forces versioning on; later retention blocks deletes until it expires.",
        reversible=False,
        rollback=None,
        previous_config=None,
    )
