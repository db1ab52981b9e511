"""Uploads with customer-provided keys (SSE-C) are not blocked.

PutBucketEncryption's BlockedEncryptionTypes can refuse SSE-C uploads. With SSE-C allowed,
anyone who may write objects can encrypt them with a key only they hold: the owner can no
longer read them, which ransomware has used against S3. No FSBP or CIS control covers it yet.
"""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.builders import put_encryption
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot, Encryption

META = CheckMeta(
    id="s3_bucket_sse_c_allowed",
    title="Bucket accepts uploads encrypted with customer-provided keys (SSE-C)",
    severity=Severity.LOW,
    rationale="A writer can encrypt objects with a key the owner never sees (SSE-C), locking the owner "
    "out of its own data; BlockedEncryptionTypes SSE-C refuses such uploads.",
    controls=[],
    remediation_id="s3.block_sse_c_uploads",
    requires=["encryption"],
)
PHASE = 51  # after default encryption: builds on the rule it sets


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    enc = snapshot.config.encryption.value
    blocked = [] if enc is None else enc.blocked_encryption_types
    if "SSE-C" in blocked:
        return passed(blockedEncryptionTypes=blocked)
    return failed(blockedEncryptionTypes=blocked)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    current = state.encryption or Encryption(algorithm="AES256")
    if "SSE-C" in current.blocked_encryption_types:
        return None
    after = current.model_copy(
        update={"blocked_encryption_types": [*current.blocked_encryption_types, "SSE-C"]}
    )
    return put_encryption(
        state,
        after,
        title="Block uploads encrypted with customer-provided keys (BlockedEncryptionTypes SSE-C)",
        risk="Writers that send SSE-C headers get 403; objects already stored with SSE-C stay readable "
        "with their keys.",
    )
