"""Bucket-level Block Public Access is not fully on (FSBP S3.8; CIS 3.0 2.1.4 with the account).

S3.8 (Config s3-bucket-level-public-access-prohibited) reads the bucket's own settings. CIS
2.1.4 is met by all four settings at the bucket *or* the account level, so a bucket under a
fully blocked account fails S3.8 only.
"""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot, PublicAccessBlock

META = CheckMeta(
    id="s3_bucket_block_public_access_off",
    title="Bucket Block Public Access is not fully enabled",
    severity=Severity.HIGH,
    rationale="With all four Block Public Access settings on, no ACL or policy can make the bucket public, "
    "whatever is added later.",
    controls=["FSBP:S3.8", "CIS-3.0:2.1.4"],
    remediation_id="s3.put_bucket_public_access_block",
    requires=["public_access_block"],
    also_reads=["account_public_access_block"],
)
PHASE = 10
ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def to_api(pab: PublicAccessBlock) -> dict[str, bool]:
    return {
        "BlockPublicAcls": pab.block_public_acls,
        "IgnorePublicAcls": pab.ignore_public_acls,
        "BlockPublicPolicy": pab.block_public_policy,
        "RestrictPublicBuckets": pab.restrict_public_buckets,
    }


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    pab = snapshot.config.public_access_block.value
    if pab is not None and pab.all_on:
        return passed(publicAccessBlock=to_api(pab))
    account = snapshot.config.account_public_access_block
    account_all_on = isinstance(account.value, PublicAccessBlock) and account.value.all_on
    return failed(
        controls=["FSBP:S3.8"] if account_all_on else None,
        publicAccessBlock=None if pab is None else to_api(pab),
        accountBlocksAll=account_all_on if account.known else None,
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    pab = state.snapshot.config.public_access_block.value
    previous = None if pab is None else to_api(pab)
    return Draft(
        title="Turn on all four bucket Block Public Access settings",
        api_call=state.s3("PutPublicAccessBlock", PublicAccessBlockConfiguration=ALL_ON),
        risk="Public ACLs and public policy statements stop granting access; new public grants are rejected.",
        reversible=True,
        rollback=state.s3("DeletePublicAccessBlock")
        if previous is None
        else state.s3("PutPublicAccessBlock", PublicAccessBlockConfiguration=previous),
        previous_config=previous,
    )
