"""Deliberately misconfigured buckets for the demo and the tests (LocalStack or a sandbox account)."""

from __future__ import annotations

import json
import uuid
from typing import Any

OPEN = dict.fromkeys(
    ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"], False
)


def create_public_bucket(s3: Any, prefix: str) -> str:
    """A new bucket readable by anyone through its policy; Block Public Access is turned off
    first, in the order real AWS accepts (it refuses a public policy while it is on)."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN)
    statement = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    return name
