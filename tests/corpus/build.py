"""Create one corpus case's bucket, in the order real AWS accepts.

Order: create (with Object Lock) -> loosen Block Public Access and set Object Ownership ->
ACL grants -> bucket policy -> the case's final Block Public Access -> encryption, versioning,
lifecycle, logging, notifications -> account-level Block Public Access last (account BPA with
BlockPublicPolicy/BlockPublicAcls on would refuse the public grants above).

Every ``None`` field is set to what AWS gives a new bucket (BPA all on, BucketOwnerEnforced,
SSE-S3): moto creates bare buckets, LocalStack and AWS already match.
"""

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from tests.corpus.cases import ALL_OFF, ALL_ON, REGION, SSE_S3, Case

SHARED_ACCOUNT = "424242424242"  # every case without account-level BPA lives here

_GROUPS = {
    "AllUsers": "http://acs.amazonaws.com/groups/global/AllUsers",
    "AuthenticatedUsers": "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
    "LogDelivery": "http://acs.amazonaws.com/groups/s3/LogDelivery",
}
_NOT_CONFIGURED = {"NoSuchPublicAccessBlockConfiguration", "NoSuchPublicAccessBlock"}


def account_for(case: Case) -> str:
    """The 12-digit account the case is built in: its own when it sets account-level BPA."""
    if case.account_public_access_block is None:
        return SHARED_ACCOUNT
    digest = int(hashlib.sha256(case.id.encode()).hexdigest(), 16)
    return "5" + str(digest % 10**11).zfill(11)


def substitute(value: Any, *, bucket: str, account: str) -> Any:
    """Fill ``{bucket}``, ``{BUCKET}`` and ``{account}`` into every string of a JSON-like value."""
    if isinstance(value, str):
        return (
            value.replace("{BUCKET}", bucket.upper())
            .replace("{bucket}", bucket)
            .replace("{account}", account)
        )
    if isinstance(value, dict):
        return {k: substitute(v, bucket=bucket, account=account) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [substitute(v, bucket=bucket, account=account) for v in value]
    return value


def log_bucket_for(bucket: str) -> str:
    return f"{bucket}-logs"


def _grant(grantee: str, permission: str) -> dict[str, Any]:
    if grantee in _GROUPS:
        return {"Grantee": {"Type": "Group", "URI": _GROUPS[grantee]}, "Permission": permission}
    return {"Grantee": {"Type": "CanonicalUser", "ID": grantee}, "Permission": permission}


def _bpa(overrides: dict[str, bool]) -> dict[str, bool]:
    return {k: bool(overrides.get(k, False)) for k in ALL_ON}


def _create(s3: Any, bucket: str, **kwargs: Any) -> None:
    if REGION != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": REGION}
    s3.create_bucket(Bucket=bucket, **kwargs)


def _enable_logging(s3: Any, bucket: str, account: str) -> None:
    target = log_bucket_for(bucket)
    _create(s3, target)
    s3.put_bucket_ownership_controls(
        Bucket=target, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_policy(
        Bucket=target,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "S3ServerAccessLogsPolicy",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{target}/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    }
                ],
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": f"{bucket}/"}},
    )


def _queues(notifications: dict[str, Any]) -> list[str]:
    return [q["QueueArn"] for q in notifications.get("QueueConfigurations", [])]


def build(case: Case, s3: Any, s3control: Any, *, bucket: str, account: str, sqs: Any = None) -> None:
    """Create and configure ``bucket`` as ``case`` describes. ``sqs`` creates notification queues
    (emulators that validate destinations need them; pass None to skip)."""

    def fill(value: Any) -> Any:
        return substitute(value, bucket=bucket, account=account)

    if case.account_public_access_block is not None:
        # The case's own account: start from "not configured" so reruns build the same thing.
        try:
            s3control.delete_public_access_block(AccountId=account)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in _NOT_CONFIGURED:
                raise

    _create(s3, bucket, **({"ObjectLockEnabledForBucket": True} if case.object_lock else {}))

    loosen = case.acl_grants is not None or case.policy is not None
    if loosen:
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=ALL_OFF)
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": case.object_ownership or "BucketOwnerEnforced"}]},
    )
    if case.acl_grants:
        current = s3.get_bucket_acl(Bucket=bucket)
        grants = [*current["Grants"], *(_grant(g, p) for g, p in case.acl_grants)]
        s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy={"Owner": current["Owner"], "Grants": grants})
    if case.policy is not None:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(fill(case.policy)))

    if case.public_access_block == {}:
        s3.delete_public_access_block(Bucket=bucket)
    else:
        final = ALL_ON if case.public_access_block is None else _bpa(case.public_access_block)
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=final)

    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=fill(case.encryption or SSE_S3))
    if case.versioning or case.mfa_delete:
        config = {"Status": case.versioning or "Enabled"}
        extra: dict[str, Any] = {}
        if case.mfa_delete:
            config["MFADelete"] = "Enabled"
            extra["MFA"] = f"arn:aws:iam::{account}:mfa/root-account-mfa-device 123456"
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration=config, **extra)
    if case.lifecycle_rules:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket, LifecycleConfiguration={"Rules": fill(case.lifecycle_rules)}
        )
    if case.logging:
        _enable_logging(s3, bucket, account)
    if case.notifications is not None:
        notifications = fill(case.notifications)
        if sqs is not None:
            for arn in _queues(notifications):
                sqs.create_queue(QueueName=arn.rsplit(":", 1)[1])
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)

    if case.account_public_access_block is not None:
        s3control.put_public_access_block(
            AccountId=account, PublicAccessBlockConfiguration=_bpa(case.account_public_access_block)
        )
