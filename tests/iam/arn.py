"""ARN parsing shared by the IAM proof helpers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str  # everything after the fifth colon: may itself hold ':' and '/'


def parse_arn(value: str) -> Arn | None:
    """The ARN's six parts, or None when `value` is not an ARN."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])
