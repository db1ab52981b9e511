"""ACLs still enabled: Object Ownership is not BucketOwnerEnforced.

FSBP S3.12 (Config s3-bucket-acl-prohibited) fails when an ACL is configured for user access:
the bucket ACL grants someone other than the owner. ACLs that are enabled but grant only the
owner fail the product's own stricter rule (LOW, no control): nothing stops a grant tomorrow.
"""

from secagent.checks.base import Result, failed, passed, unknown
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_acls_enabled",
    title="Bucket ACLs are enabled (Object Ownership is not BucketOwnerEnforced)",
    severity=Severity.MEDIUM,
    rationale="With ACLs disabled, access is governed by policies only, the bucket owner owns every object, "
    "and no forgotten ACL can grant access.",
    controls=["FSBP:S3.12"],
    remediation_id="s3.enforce_bucket_owner",
    requires=["ownership_controls"],
    also_reads=["acl"],
)
PHASE = 30  # after public ACL grants are removed: AWS rejects BucketOwnerEnforced while the ACL grants others


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    ownership = snapshot.config.ownership_controls.value
    if ownership == "BucketOwnerEnforced":
        return passed(objectOwnership=ownership)
    acl = snapshot.config.acl
    if not acl.known or acl.value is None:
        return unknown(
            f"ACLs are enabled and the bucket ACL is unreadable: {acl.reason}", objectOwnership=ownership
        )
    others = [g.to_json_dict() for g in acl.value.grants if g.grantee_id != acl.value.owner_id]
    if others:
        return failed(objectOwnership=ownership, nonOwnerGrants=others)
    return failed(controls=[], severity=Severity.LOW, objectOwnership=ownership, nonOwnerGrants=[])


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    previous = state.snapshot.config.ownership_controls.value
    others = [g for g in (state.acl.grants if state.acl else []) if g.grantee_id != state.acl.owner_id]  # type: ignore[union-attr]
    manual = (
        [f"migrate {len(others)} non-owner ACL grant(s) to the bucket policy, then reset the ACL to private"]
        if others
        else []
    )
    return Draft(
        title="Disable ACLs (Object Ownership = BucketOwnerEnforced)",
        api_call=state.s3(
            "PutBucketOwnershipControls",
            OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        ),
        risk="Access granted only through bucket or object ACLs (log delivery, cross-account writers) stops.",
        reversible=True,
        rollback=state.s3("DeleteBucketOwnershipControls")
        if previous is None
        else state.s3(
            "PutBucketOwnershipControls", OwnershipControls={"Rules": [{"ObjectOwnership": previous}]}
        ),
        previous_config=previous,
        manual_inputs=manual,
    )
