"""Account-level Block Public Access is not fully on (FSBP S3.1; CIS 3.0 2.1.4 with the bucket).

CIS 2.1.4 is met by all four settings at the bucket or the account level: with the bucket's
own settings all on, the account's gap fails S3.1 only (for this bucket).
"""

from secagent.checks.base import Result, failed, passed, unknown
from secagent.checks.s3.s3_bucket_block_public_access_off import ALL_ON, to_api
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.plans import ApiCall
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot, PublicAccessBlock

META = CheckMeta(
    id="s3_account_block_public_access_off",
    title="Account Block Public Access is not fully enabled",
    severity=Severity.HIGH,
    rationale="Account-level Block Public Access protects every bucket, including ones created later "
    "without their own settings.",
    controls=["FSBP:S3.1", "CIS-3.0:2.1.4"],
    remediation_id="s3control.put_public_access_block",
    requires=["account_public_access_block"],
    also_reads=["public_access_block"],
)
PHASE = 15


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    if snapshot.account_id is None:
        return unknown("account id unknown")
    pab = snapshot.config.account_public_access_block.value
    if pab is not None and pab.all_on:
        return passed(accountId=snapshot.account_id, publicAccessBlock=to_api(pab))
    bucket = snapshot.config.public_access_block.value
    bucket_all_on = isinstance(bucket, PublicAccessBlock) and bucket.all_on
    return failed(
        controls=["FSBP:S3.1"] if bucket_all_on else None,
        accountId=snapshot.account_id,
        publicAccessBlock=None if pab is None else to_api(pab),
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    account = state.snapshot.account_id
    if account is None:
        return None
    pab = state.snapshot.config.account_public_access_block.value
    previous = None if pab is None else to_api(pab)

    def call(operation: str, **params: object) -> ApiCall:
        return ApiCall(
            service="s3control",
            operation=operation,
            parameters={"AccountId": account, **params},
            region=state.region,
        )

    return Draft(
        title=f"Turn on all four Block Public Access settings for account {account}",
        api_call=call("PutPublicAccessBlock", PublicAccessBlockConfiguration=ALL_ON),
        risk="ACCOUNT-WIDE: every bucket in the account stops serving public ACL/policy access.",
        reversible=True,
        rollback=call("DeletePublicAccessBlock")
        if previous is None
        else call("PutPublicAccessBlock", PublicAccessBlockConfiguration=previous),
        previous_config=previous,
    )
