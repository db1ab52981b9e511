"""Default encryption is not SSE-KMS although the settings require it."""

from secagent.checks.base import Draft, PlanningState, Result, failed, passed
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot
from secagent.remediation.builders import put_default_encryption

META = CheckMeta(
    id="s3_bucket_sse_kms_not_used",
    title="Bucket default encryption is not SSE-KMS (required by settings)",
    severity=Severity.MEDIUM,
    rationale="SSE-KMS adds a key policy and CloudTrail record on every decrypt; required where the "
    "organisation mandates customer-controlled keys (setting require_kms).",
    controls=["FSBP:S3.17"],
    remediation_id="s3.put_default_encryption",
    requires=["encryption"],
)
PHASE = 50
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def evaluate(snapshot: Snapshot, settings: AgentSettings) -> list[Result]:
    enc = snapshot.config.encryption.value
    evidence = {
        "encryption": None if enc is None else enc.to_json_dict(),
        "kmsRequired": settings.require_kms,
    }
    if not settings.require_kms or (enc is not None and enc.algorithm in KMS_ALGORITHMS):
        return passed(**evidence)
    return failed(**evidence)


def remediate(state: PlanningState, finding: Finding) -> Draft | None:
    return put_default_encryption(state)
