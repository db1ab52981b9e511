"""Fix builders shared by several checks (same document, same API call)."""

import json
from typing import Any

from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.access import PUBLIC_GROUPS
from secagent.models.snapshot import Acl, Encryption, Grant


def grant_to_api(grant: Grant) -> dict[str, Any]:
    grantee: dict[str, Any] = {"Type": grant.grantee_type}
    if grant.grantee_id:
        grantee["ID"] = grant.grantee_id
    if grant.grantee_uri:
        grantee["URI"] = grant.grantee_uri
    if grant.grantee_email:
        grantee["EmailAddress"] = grant.grantee_email
    return {"Grantee": grantee, "Permission": grant.permission}


def acl_to_api(acl: Acl) -> dict[str, Any]:
    owner: dict[str, Any] = {"ID": acl.owner_id}
    if acl.owner_display_name:
        owner["DisplayName"] = acl.owner_display_name
    return {"Owner": owner, "Grants": [grant_to_api(g) for g in acl.grants]}


def remove_public_acl_grants(state: BucketPlanningState) -> Draft | None:
    """One plan removes every AllUsers/AuthenticatedUsers grant; a second check finds nothing left."""
    if state.acl is None:
        return None
    before = state.acl
    after = before.model_copy(
        update={"grants": [g for g in before.grants if g.grantee_uri not in PUBLIC_GROUPS]}
    )
    if after.grants == before.grants:
        return None
    state.acl = after
    return Draft(
        title="Remove AllUsers/AuthenticatedUsers grants from the bucket ACL",
        api_call=state.s3("PutBucketAcl", AccessControlPolicy=acl_to_api(after)),
        risk="Anyone relying on the public ACL (anonymous downloads, listing) loses access.",
        reversible=True,
        rollback=state.s3("PutBucketAcl", AccessControlPolicy=acl_to_api(before)),
        previous_config=acl_to_api(before),
    )


def put_policy(
    state: BucketPlanningState, new_policy: dict[str, Any] | None, title: str, risk: str
) -> Draft | None:
    before = state.policy
    if new_policy == before:
        return None
    state.policy = new_policy
    call = (
        state.s3("PutBucketPolicy", Policy=json.dumps(new_policy, separators=(",", ":")))
        if new_policy
        else state.s3("DeleteBucketPolicy")
    )
    rollback = (
        state.s3("PutBucketPolicy", Policy=json.dumps(before, separators=(",", ":")))
        if before
        else state.s3("DeleteBucketPolicy")
    )
    return Draft(
        title=title, api_call=call, risk=risk, reversible=True, rollback=rollback, previous_config=before
    )


def put_encryption(state: BucketPlanningState, after: Encryption, title: str, risk: str) -> Draft | None:
    """PutBucketEncryption of ``after``, built on the plans drafted before (like put_policy)."""
    before = state.encryption
    if after == before:
        return None
    state.encryption = after
    previous = None if before is None else {"Rules": [before.to_api_rule()]}
    return Draft(
        title=title,
        api_call=state.s3(
            "PutBucketEncryption", ServerSideEncryptionConfiguration={"Rules": [after.to_api_rule()]}
        ),
        risk=risk,
        reversible=True,
        rollback=state.s3("DeleteBucketEncryption")
        if previous is None
        else state.s3("PutBucketEncryption", ServerSideEncryptionConfiguration=previous),
        previous_config=previous,
    )


def put_default_encryption(state: BucketPlanningState) -> Draft | None:
    """SSE-KMS when the settings require it, SSE-S3 otherwise. Planned once for both encryption checks."""
    if "encryption" in state.done:
        return None
    state.done.add("encryption")
    blocked = [] if state.encryption is None else state.encryption.blocked_encryption_types
    if state.settings.require_kms:
        after = Encryption(
            algorithm="aws:kms",
            kms_key_id=state.settings.kms_key_id,
            bucket_key_enabled=True,
            blocked_encryption_types=blocked,
        )
        risk = "New objects use SSE-KMS: readers and writers need kms:Decrypt/GenerateDataKey on the key."
    else:
        after = Encryption(algorithm="AES256", blocked_encryption_types=blocked)
        risk = "Low: new objects are encrypted with SSE-S3; existing objects are unchanged."
    return put_encryption(
        state,
        after,
        title="Set default bucket encryption"
        + (" to SSE-KMS" if state.settings.require_kms else " (SSE-S3)"),
        risk=risk,
    )
