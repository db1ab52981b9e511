"""S3 general purpose bucket naming rules."""

import ipaddress
import re

from secagent.models.errors import InvalidInput

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
