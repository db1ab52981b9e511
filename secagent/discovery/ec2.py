"""Discover: read one EC2 security group: the group, its rules by rule id, what they reference
(prefix lists, other groups), and who uses it (network interfaces, groups that reference it).

The group is looked up in the caller's region and account. Error policy, as for buckets:
  - the group missing                        -> ResourceNotFound (not retryable)
  - the group itself unreadable (denied)     -> AccessDenied: nothing can be judged without it
  - throttling / 5xx / network               -> TransientError (retryable)
  - any other read denied or failing         -> that field is ``unknown`` with the reason
"""

import functools
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from secagent.aws import ACCESS_DENIED_CODES, TRANSIENT_ERROR_CODES, ClientFactory, client_factory
from secagent.discovery import _calls
from secagent.discovery._calls import error_code, http_status, whoami
from secagent.discovery.names import security_group_id_problem
from secagent.models.errors import AccessDenied, InvalidInput, ResourceNotFound, TransientError
from secagent.models.probe import Probe
from secagent.models.security_group import (
    NetworkInterfaceUse,
    SecurityGroupConfig,
    SecurityGroupInfo,
    SecurityGroupRule,
)
from secagent.models.snapshot import SECURITY_GROUP, ReadBy, ResourceRef, SecurityGroupSnapshot

GROUP_MISSING = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})
UNSUPPORTED = _calls.UNSUPPORTED | {"InvalidAction"}


class _Reader:
    """Counts the calls, turns outages into TransientError and other failures into unknown fields."""

    def __init__(self, ec2: Any, group_id: str) -> None:
        self.ec2 = ec2
        self.group_id = group_id
        self.calls = 0

    def pages(self, operation: str, key: str, **parameters: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self.ec2.get_paginator(operation).paginate(**parameters):
            self.calls += 1
            items.extend(page.get(key, []))
        return items

    def probe(self, field: str, read: Callable[[], Any]) -> Probe[Any]:
        try:
            return Probe(value=read())
        except ClientError as err:
            code = error_code(err)
            if code in TRANSIENT_ERROR_CODES or (http_status(err) >= 500 and code not in UNSUPPORTED):
                raise TransientError(f"{field} of {self.group_id}: {code or http_status(err)}") from err
            if code in ACCESS_DENIED_CODES:
                # EC2's denial message names the role, the policy and an encoded authorization
                # message: the reason reaches the report, the console and MCP. The code says enough.
                return Probe(state="unknown", reason=f"{code}: the agent may not read it")
            message = err.response.get("Error", {}).get("Message", "")
            return Probe(state="unknown", reason=f"{code or http_status(err)}: {message}".strip(": "))
        except (ConnectionError, HTTPClientError) as err:
            # The class names the trouble; its text holds endpoint URLs: logs only.
            raise TransientError(f"{field} of {self.group_id}: {type(err).__name__}") from err
        except BotoCoreError as err:
            return Probe(state="unknown", reason=type(err).__name__)


def _group(reader: _Reader) -> dict[str, Any]:
    """The group as DescribeSecurityGroups answers; ResourceNotFound or AccessDenied when it cannot."""
    try:
        reader.calls += 1
        found = reader.ec2.describe_security_groups(GroupIds=[reader.group_id]).get("SecurityGroups", [])
    except ClientError as err:
        code = error_code(err)
        if code in GROUP_MISSING:
            raise ResourceNotFound(f"security group {reader.group_id} does not exist") from err
        if code in ACCESS_DENIED_CODES:
            raise AccessDenied(f"DescribeSecurityGroups on {reader.group_id}: {code}") from err
        if code in TRANSIENT_ERROR_CODES or http_status(err) >= 500:
            raise TransientError(
                f"DescribeSecurityGroups on {reader.group_id}: {code or http_status(err)}"
            ) from err
        raise
    except (ConnectionError, HTTPClientError) as err:
        raise TransientError(f"DescribeSecurityGroups on {reader.group_id}: {type(err).__name__}") from err
    if not found:
        raise ResourceNotFound(f"security group {reader.group_id} does not exist")
    group: dict[str, Any] = found[0]
    return group


def _info(group: dict[str, Any]) -> SecurityGroupInfo:
    return SecurityGroupInfo(
        group_name=group.get("GroupName", ""),
        description=group.get("Description", ""),
        vpc_id=group.get("VpcId"),
        owner_id=group.get("OwnerId"),
        # Every VPC has one group named "default", created with it; no other group may take the name.
        is_vpc_default=group.get("GroupName") == "default" and bool(group.get("VpcId")),
        tags={t["Key"]: t.get("Value", "") for t in group.get("Tags", [])},
    )


def _rule(item: dict[str, Any]) -> SecurityGroupRule:
    referenced = item.get("ReferencedGroupInfo") or {}
    return SecurityGroupRule(
        rule_id=item["SecurityGroupRuleId"],
        egress=bool(item.get("IsEgress")),
        ip_protocol=str(item.get("IpProtocol", "-1")),
        from_port=item.get("FromPort"),
        to_port=item.get("ToPort"),
        cidr_ipv4=item.get("CidrIpv4"),
        cidr_ipv6=item.get("CidrIpv6"),
        prefix_list_id=item.get("PrefixListId"),
        referenced_group_id=referenced.get("GroupId"),
        referenced_group_owner=referenced.get("UserId"),
        description=item.get("Description") or None,
    )


def _prefix_lists(reader: _Reader, ids: Iterable[str]) -> dict[str, list[str] | None]:
    """Each prefix list's CIDRs; None for one that cannot be read (its rules are then unknown)."""
    found: dict[str, list[str] | None] = {}
    for list_id in sorted(set(ids)):
        entries = reader.probe("prefix_lists", functools.partial(_prefix_list_cidrs, reader, list_id))
        found[list_id] = entries.value if entries.known else None
    return found


def _prefix_list_cidrs(reader: _Reader, list_id: str) -> list[str]:
    return [
        e["Cidr"] for e in reader.pages("get_managed_prefix_list_entries", "Entries", PrefixListId=list_id)
    ]


def _referenced_groups(reader: _Reader, ids: Iterable[str]) -> dict[str, str | None]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    # A filter, not GroupIds: a group that is gone (or another account's) is absent, not an error.
    groups = reader.pages(
        "describe_security_groups", "SecurityGroups", Filters=[{"Name": "group-id", "Values": wanted}]
    )
    names = {g["GroupId"]: g.get("GroupName") for g in groups}
    return {group_id: names.get(group_id) for group_id in wanted}


def _referencing_groups(reader: _Reader) -> list[str]:
    """Other groups whose ingress or egress rules name this one (they keep it in use)."""
    found: set[str] = set()
    for name in ("ip-permission.group-id", "egress.ip-permission.group-id"):
        groups = reader.pages(
            "describe_security_groups",
            "SecurityGroups",
            Filters=[{"Name": name, "Values": [reader.group_id]}],
        )
        found.update(g["GroupId"] for g in groups if g["GroupId"] != reader.group_id)
    return sorted(found)


def _interfaces(reader: _Reader) -> list[NetworkInterfaceUse]:
    items = reader.pages(
        "describe_network_interfaces",
        "NetworkInterfaces",
        Filters=[{"Name": "group-id", "Values": [reader.group_id]}],
    )
    return [
        NetworkInterfaceUse(
            network_interface_id=i["NetworkInterfaceId"],
            interface_type=i.get("InterfaceType"),
            description=i.get("Description") or None,
            instance_id=(i.get("Attachment") or {}).get("InstanceId"),
            requester_managed=bool(i.get("RequesterManaged")),
        )
        for i in items
    ]


def discover_security_group(
    group_id: str,
    session: boto3.Session | None = None,
    *,
    clients: ClientFactory | None = None,
    region: str | None = None,
) -> SecurityGroupSnapshot:
    """Read the group's configuration into a SecurityGroupSnapshot (calls run one after another:
    each depends on what the rules name)."""
    if problem := security_group_id_problem(group_id):
        raise InvalidInput(f"invalid security group id {group_id!r}: {problem}")
    started = time.perf_counter()
    session = session or boto3.Session()
    make = clients or client_factory(session)
    region = region or session.region_name or "us-east-1"  # a sweep names where it listed the group
    account_id, caller_arn, _ = whoami(make("sts", region))
    reader = _Reader(make("ec2", region), group_id)

    group = _group(reader)
    rules = reader.probe(
        "rules",
        lambda: [
            _rule(r)
            for r in reader.pages(
                "describe_security_group_rules",
                "SecurityGroupRules",
                Filters=[{"Name": "group-id", "Values": [group_id]}],
            )
        ],
    )
    listed: list[SecurityGroupRule] = rules.value or []
    if rules.known:
        ingress: Probe[list[SecurityGroupRule]] = Probe(value=[r for r in listed if not r.egress])
        egress: Probe[list[SecurityGroupRule]] = Probe(value=[r for r in listed if r.egress])
        prefix_lists: Probe[dict[str, list[str] | None]] = Probe(
            value=_prefix_lists(reader, (r.prefix_list_id for r in listed if r.prefix_list_id))
        )
        referenced = reader.probe(
            "referenced_groups",
            lambda: _referenced_groups(
                reader, (r.referenced_group_id for r in listed if r.referenced_group_id)
            ),
        )
    else:
        ingress = egress = Probe(state="unknown", reason=rules.reason)
        prefix_lists = Probe(state="unknown", reason=f"the rules are unknown: {rules.reason}")
        referenced = Probe(state="unknown", reason=f"the rules are unknown: {rules.reason}")
    config = SecurityGroupConfig(
        group=Probe(value=_info(group)),
        ingress_rules=ingress,
        egress_rules=egress,
        prefix_lists=prefix_lists,
        referenced_groups=referenced,
        network_interfaces=reader.probe("network_interfaces", lambda: _interfaces(reader)),
        referencing_groups=reader.probe("referencing_groups", lambda: _referencing_groups(reader)),
    )
    calls = reader.calls + 1  # + GetCallerIdentity
    owner = group.get("OwnerId") or account_id
    return SecurityGroupSnapshot(
        resource=ResourceRef(type=SECURITY_GROUP, id=group_id),
        account_id=owner,
        region=region,
        read_at=datetime.now(UTC),
        read_by=ReadBy(
            principal_arn=caller_arn,
            account_id=account_id,
            region=region,
            how=f"boto3 ec2 API, {calls} calls sequential",
            calls=calls,
            concurrent=False,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        ),
        config=config,
    )
