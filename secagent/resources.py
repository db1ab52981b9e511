"""The audited resource types as people name them: `--type` values, nouns in messages, labels in the
console and the MCP tools; and the one check of an id a person typed, with or without its type.

Shared by the console, the command line, the scan, the trigger and the MCP server, so it sits
beside them, over the models (none of them may import the CLI: tests/unit/test_layers.py). Kept
free of boto3 at import time (the CLI imports it at start-up): `secagent.discovery.names`, whose
package imports boto3, is imported only when an id is checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType

if TYPE_CHECKING:
    from secagent.models.snapshot import ResourceRef


@dataclass(frozen=True)
class ResourceKind:
    type: ResourceType  # as the API names it: "AWS::S3::Bucket"
    option: str  # as `secagent audit --type` takes it
    noun: str  # in a sentence: "an audit of the bucket"
    label: str  # a heading or a choice: "S3 bucket"
    id_hint: str  # what an id of it looks like, for a form or a tool argument

    def show(self, resource_id: str) -> str:
        """The resource as messages name it: "s3://my-bucket", "security group sg-0123abcd"."""
        return f"s3://{resource_id}" if self.type == BUCKET else f"{self.noun} {resource_id}"


KINDS: dict[ResourceType, ResourceKind] = {
    BUCKET: ResourceKind(
        type=BUCKET,
        option="bucket",
        noun="bucket",
        label="S3 bucket",
        id_hint="a bucket name (3-63 lowercase letters, digits, dots and hyphens, e.g. my-team-logs)",
    ),
    SECURITY_GROUP: ResourceKind(
        type=SECURITY_GROUP,
        option="security-group",
        noun="security group",
        label="EC2 security group",
        id_hint='a security group id ("sg-" and 8 or 17 lowercase hexadecimal digits, e.g. sg-0123abcd)',
    ),
}
RESOURCE_TYPES: tuple[ResourceType, ...] = get_args(ResourceType)
TYPE_OPTIONS: dict[str, ResourceType] = {kind.option: kind.type for kind in KINDS.values()}


def kind_of(resource_type: object) -> ResourceKind | None:
    """The kind of an API resource type; None for a type this version does not know."""
    return next((kind for kind in KINDS.values() if kind.type == resource_type), None)


def shown_resource(resource: object) -> str:
    """An API answer's `resource` ({"type", "id"}) as messages name it; "?" parts when missing."""
    found = resource if isinstance(resource, dict) else {}
    resource_id = str(found.get("id") or "?")
    kind = kind_of(found.get("type"))
    return kind.show(resource_id) if kind else f"{found.get('type') or 'resource'} {resource_id}"


class InvalidResourceId(ValueError):
    """An id that cannot name a resource of the type given (or, with none, of the type it reads as)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shown_value(value: str) -> str:
    """A value for a one-line message: quoted, control characters escaped, cut to 70 characters."""
    return json.dumps(value if len(value) <= 70 else value[:67] + "...", ensure_ascii=False)


def checked_resource(resource_id: str, resource_type: ResourceType | None = None) -> ResourceRef:
    """The resource an id names: of `resource_type`, or without one of the type the id reads as
    (a security group id reads as a group, anything else as a bucket: secagent.discovery.names).
    Raises InvalidResourceId saying why the id cannot name one, as the API would."""
    from secagent.discovery.names import ID_KINDS, resource_id_problem, resource_type_of
    from secagent.models.snapshot import ResourceRef

    kind = resource_type or resource_type_of(resource_id)
    if problem := resource_id_problem(kind, resource_id):
        raise InvalidResourceId(f"{shown_value(resource_id)} is not a valid {ID_KINDS[kind]}: {problem}")
    return ResourceRef(type=kind, id=resource_id)


def valid_id_of_any_type(resource_id: str) -> str:
    """A filter's resource id (a bucket name or a group id, as GET /audits?resource= takes it)."""
    return checked_resource(resource_id).id
