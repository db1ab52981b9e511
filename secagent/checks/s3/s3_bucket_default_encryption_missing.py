"""No default encryption configuration."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.builders import put_default_encryption
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_default_encryption_missing",
    title="Bucket has no default encryption configuration",
    severity=Severity.MEDIUM,
    rationale="AWS applies SSE-S3 to new buckets since 2023, but older buckets and emulators may have none; "
    "objects would then be stored unencrypted. (FSBP S3.4, since retired for that reason.)",
    controls=[],  # FSBP S3.4 is retired (S3 encrypts every new object since January 2023)
    remediation_id="s3.put_default_encryption",
    requires=["encryption"],
)
PHASE = 50


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    enc = snapshot.config.encryption.value
    return failed(encryption=None) if enc is None else passed(encryption=enc.to_json_dict())


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return put_default_encryption(state)
