"""Listing an account's resources: every bucket it owns, every security group of a region."""

from typing import Any


def list_buckets(s3: Any, prefix: str | None = None) -> dict[str, str | None]:
    """Every bucket the caller owns (ListBuckets pages) -> its region when ListBuckets tells it."""
    found: dict[str, str | None] = {}
    kwargs: dict[str, Any] = {}
    while True:
        page = s3.list_buckets(**kwargs)
        for b in page.get("Buckets", []):
            if not prefix or b["Name"].startswith(prefix):
                found[b["Name"]] = b.get("BucketRegion")
        token = page.get("ContinuationToken")
        if not token:
            break
        kwargs["ContinuationToken"] = token
    return dict(sorted(found.items()))


def list_bucket_names(s3: Any, prefix: str | None = None) -> list[str]:
    return list(list_buckets(s3, prefix))


def list_security_groups(ec2: Any) -> list[str]:
    """Every security group of the client's region (DescribeSecurityGroups pages), by id."""
    pages = ec2.get_paginator("describe_security_groups").paginate()
    return sorted({g["GroupId"] for page in pages for g in page.get("SecurityGroups", [])})
