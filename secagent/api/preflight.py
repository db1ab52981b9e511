"""Before an audit starts: does the bucket exist, and may this deployment read it?

A missing bucket is a 404 and a bucket the agent may not read (another account's, or one whose
policy denies it) a 403, answered at the door instead of a workflow that fails in Discover.
GetBucketLocation is the narrowest read that tells them apart (s3:GetBucketLocation reveals
only the region; HeadBucket would need s3:ListBucket, which lists every object key). With
ExpectedBucketOwner, a bucket of another account answers 403 as Discover's reads would.
"""

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from secagent.api.audits import check_target
from secagent.api.aws import error_code
from secagent.api.errors import Forbidden, NotFound
from secagent.api.settings import ApiSettings
from secagent.aws import ACCESS_DENIED_CODES
from secagent.models.snapshot import SECURITY_GROUP, ResourceRef

_MISSING = {"NoSuchBucket", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId"}
_GROUP_MISSING = {"InvalidGroup.NotFound", "InvalidGroupId.NotFound"}


def confirm_auditable(resource: ResourceRef, mode: str, s3: Any, ec2: Any, settings: ApiSettings) -> None:
    """Forbidden for the stack's own buckets and outside the remediation scope; then NotFound or
    Forbidden when AWS says so. Any other answer lets the audit start (Discover, with its retries,
    then reports what it finds)."""
    check_target(resource, mode, settings)
    confirm_resource(resource, s3, ec2, settings)


def confirm_resource(resource: ResourceRef, s3: Any, ec2: Any, settings: ApiSettings) -> None:
    """The check of its type: is the resource there, and this deployment's to read?"""
    if resource.type == SECURITY_GROUP:
        confirm_security_group(resource.id, ec2)
    else:
        confirm_bucket(resource.id, s3, settings)


def confirm_security_group(group_id: str, ec2: Any) -> None:
    """NotFound or Forbidden when EC2 says the group is missing or not this deployment's to read."""
    shown = json.dumps(group_id)
    try:
        ec2.describe_security_groups(GroupIds=[group_id])
    except ClientError as err:
        code = error_code(err)
        if code in _GROUP_MISSING:
            raise NotFound(
                f"Security group {shown} does not exist in this deployment's account and region "
                f"(EC2 answered {code}); no audit was started.",
                field="resource.id",
            ) from None
        if code in ACCESS_DENIED_CODES:
            raise Forbidden(
                f"This deployment may not read security group {shown} (EC2 answered {code}). "
                "No audit was started.",
                field="resource.id",
            ) from None
    except BotoCoreError:
        pass  # a network hiccup here is no verdict on the group


def confirm_bucket(bucket: str, s3: Any, settings: ApiSettings) -> None:
    """NotFound or Forbidden when S3 says the bucket is missing or not this deployment's to read
    (the part of `confirm_auditable` that asks S3; `start_audit` runs it beside the identity proof
    and answers it only to a proven caller)."""
    shown = json.dumps(bucket)
    try:
        s3.get_bucket_location(Bucket=bucket, ExpectedBucketOwner=settings.account)
    except ClientError as err:
        code = error_code(err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _MISSING or status == 404:
            raise NotFound(
                f"Bucket {shown} does not exist (S3 answered {code}); no audit was started.",
                field="resource.id",
            ) from None
        if code in _DENIED or status == 403:
            raise Forbidden(
                f"This deployment may not read bucket {shown} (S3 answered {code}): it belongs to "
                "another account than the deployment's, or its bucket policy denies the agent. "
                "No audit was started.",
                field="resource.id",
            ) from None
    except BotoCoreError:
        pass  # a network hiccup here is no verdict on the bucket
