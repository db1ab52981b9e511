"""Discover: read one resource's configuration into its type's Snapshot (the only reads of it)."""

from collections.abc import Callable
from typing import Any

import boto3

from secagent.aws import ClientFactory
from secagent.discovery.ec2 import discover_security_group
from secagent.discovery.names import (
    bucket_name_problem,
    resource_id_problem,
    resource_type_of,
    security_group_id_problem,
    validate_bucket_name,
)
from secagent.discovery.s3 import discover_bucket
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef, ResourceType, Snapshot

_DISCOVER: dict[ResourceType, Callable[..., Snapshot]] = {
    BUCKET: discover_bucket,
    SECURITY_GROUP: discover_security_group,
}


def discover(
    resource: ResourceRef,
    session: boto3.Session | None = None,
    *,
    clients: ClientFactory | None = None,
    **options: Any,
) -> Snapshot:
    """Read ``resource`` with its type's discovery (ResourceNotFound when it is gone)."""
    return _DISCOVER[resource.type](resource.id, session, clients=clients, **options)


__all__ = [
    "bucket_name_problem",
    "discover",
    "discover_bucket",
    "discover_security_group",
    "resource_id_problem",
    "resource_type_of",
    "security_group_id_problem",
    "validate_bucket_name",
]
