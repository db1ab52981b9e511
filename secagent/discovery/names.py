"""What a resource id may look like, per resource type: S3 bucket names, security group ids."""

import ipaddress
import re

from secagent.models.errors import InvalidInput
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType

# Used with fullmatch: `re.match(r"^...$")` would accept "my-bucket\n" (`$` matches before a final newline).
_CHARS = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid bucket name, or None when it is."""
    if not isinstance(name, str) or not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not _CHARS.fullmatch(name):
        return "only lowercase letters, digits, dots and hyphens; must start and end with a letter or digit"
    if ".." in name:
        return "must not contain two adjacent periods"
    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    if name.startswith(_BAD_PREFIXES):
        return f"must not start with any of {', '.join(_BAD_PREFIXES)}"
    if name.endswith(_BAD_SUFFIXES):
        return f"must not end with any of {', '.join(_BAD_SUFFIXES)}"
    return None


def validate_bucket_name(name: str) -> str:
    problem = bucket_name_problem(name)
    if problem:
        raise InvalidInput(f"invalid S3 bucket name {name!r}: {problem}")
    return name


# "sg-" and 8 or 17 lowercase hex digits (EC2's short and long ids).
_GROUP_ID = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})")


def security_group_id_problem(group_id: str) -> str | None:
    """Why ``group_id`` is not a security group id, or None when it is."""
    if not isinstance(group_id, str) or not _GROUP_ID.fullmatch(group_id):
        return 'must be "sg-" followed by 8 or 17 lowercase hexadecimal digits'
    return None


_ID_PROBLEMS = {BUCKET: bucket_name_problem, SECURITY_GROUP: security_group_id_problem}
ID_KINDS: dict[ResourceType, str] = {BUCKET: "S3 bucket name", SECURITY_GROUP: "security group id"}


def resource_id_problem(resource_type: ResourceType, resource_id: str) -> str | None:
    """Why ``resource_id`` cannot name a resource of ``resource_type``, or None when it can."""
    return _ID_PROBLEMS[resource_type](resource_id)


def resource_type_of(resource_id: str) -> ResourceType:
    """The type an id names when none is given: a security group id reads as a group (it is also a
    valid bucket name: a bucket named like one needs its type stated), anything else as a bucket."""
    return SECURITY_GROUP if security_group_id_problem(resource_id) is None else BUCKET
