"""Default encryption is not SSE-KMS or DSSE-KMS (FSBP S3.17).

A verdict, not a preference: the bucket fails S3.17 whatever the require_kms setting says.
The setting decides the severity and whether a fix is proposed (it needs a key to point at).
"""

from typing import Any

from secagent.checks.base import Result, failed, passed
from secagent.fixes.builders import put_default_encryption
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_sse_kms_not_used",
    title="Bucket default encryption is not SSE-KMS",
    severity=Severity.MEDIUM,
    rationale="SSE-KMS adds a key policy and a CloudTrail record on every decrypt. FSBP S3.17 requires "
    "SSE-KMS or DSSE-KMS; with require_kms off the finding is LOW and no fix is proposed.",
    controls=["FSBP:S3.17"],
    remediation_id="s3.put_default_encryption",
    requires=["encryption"],
)
PHASE = 50
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    enc = snapshot.config.encryption.value
    evidence: dict[str, Any] = {
        "encryption": None if enc is None else enc.to_json_dict(),
        "kmsRequired": settings.require_kms,
    }
    if enc is not None and enc.algorithm in KMS_ALGORITHMS:
        return passed(**evidence)
    if settings.require_kms:
        return failed(**evidence)
    # Which key to use is the owner's decision: no fix is proposed, the finding stays for a person.
    return failed(severity=Severity.LOW, remediable=False, **evidence)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return put_default_encryption(state)
