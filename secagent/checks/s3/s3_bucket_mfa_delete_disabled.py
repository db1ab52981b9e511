"""MFA delete is not enabled on the bucket's versioning (FSBP S3.20, CIS 3.0 2.1.2).

S3.20 produces no finding for a bucket with a lifecycle configuration (MFA delete and
lifecycle rules exclude each other); CIS 2.1.2 has no such exception, so such a bucket fails
only CIS 2.1.2.
"""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_mfa_delete_disabled",
    title="Bucket MFA delete is not enabled",
    severity=Severity.LOW,
    rationale="MFA delete requires the root user's MFA code to delete object versions or change versioning, "
    "a last line of defence against a stolen key wiping history.",
    controls=["FSBP:S3.20", "CIS-3.0:2.1.2"],
    remediation_id="s3.enable_mfa_delete",
    requires=["versioning", "lifecycle_rules"],
)
PHASE = 65  # needs versioning enabled first
MFA_PLACEHOLDER = "<root-mfa-device-arn> <current-mfa-code>"


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    v = snapshot.config.versioning.value
    mfa = v.mfa_delete if v else None
    if mfa == "Enabled":
        return passed(mfaDelete=mfa)
    lifecycle = bool(snapshot.config.lifecycle_rules.value)
    return failed(
        controls=["CIS-3.0:2.1.2"] if lifecycle else None,
        mfaDelete=mfa,
        versioning=v.status if v else None,
        lifecycleConfigured=lifecycle,
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    def versioning(mfa_delete: str) -> dict[str, str]:
        return {"Status": "Enabled", "MFADelete": mfa_delete}

    return Draft(
        title="Enable MFA delete (root credentials and MFA code required)",
        api_call=state.s3(
            "PutBucketVersioning", VersioningConfiguration=versioning("Enabled"), MFA=MFA_PLACEHOLDER
        ),
        risk="Deleting versions or changing versioning then needs the root user's MFA; lifecycle expiry of "
        "versions is not possible while it is on.",
        reversible=True,
        rollback=state.s3(
            "PutBucketVersioning", VersioningConfiguration=versioning("Disabled"), MFA=MFA_PLACEHOLDER
        ),
        previous_config={"MFADelete": finding.evidence.get("mfaDelete")},
        manual_inputs=["MFA: root user's MFA device ARN and a current code; run as root, not through Apply"],
    )
