"""Create one security group corpus case on an EC2 API (moto, LocalStack, AWS), and remove it.

Where a case's group lives:
- a non-default group: in one VPC the run shares (Discover reads a group's rules, interfaces and
  referencing groups by the group's id, so groups side by side never see each other);
- a VPC's default group: a fresh VPC's own, so each such case starts from what EC2 created and no
  case changes another's default group.

A case's placeholders become real resources of that VPC: a prefix list id -> a managed prefix list
holding the case's CIDRs, a group id (a rule's source, or in ``referenced_by``) -> a peer group,
``SELF`` -> the case's own group. The group's rules are then converged to the case's (rules EC2
made that the case lacks are revoked, missing ones authorized) and read back: an emulator's
authorize answer may list fewer rule ids than it made, so only the read-back proves the build.
Converging also keeps the default-group cases faithful on moto and LocalStack, whose new VPCs'
default groups lack AWS's inbound rule (all traffic from the group itself).

Everything created is tagged ``secagent-corpus=<run>`` and recorded in a ``Ledger``, whose
``cleanup`` removes it in the order EC2 accepts.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from tests.corpus.security_groups import SELF, GroupCase, Rule, peer_field, port_range

RUN_TAG = "secagent-corpus"
VPC_CIDR, SUBNET_CIDR = "10.0.0.0/16", "10.0.0.0/24"
PREFIX_LIST_READY_SECONDS = 60.0

# A rule as DescribeSecurityGroupRules lists it: (egress, protocol, FromPort, ToPort, source id).
RuleKey = tuple[bool, str, int, int, str]

# Per source kind (a SecurityGroupRule field): its IpPermissions list and the item's key.
_PERMISSION = {
    "cidr_ipv4": ("IpRanges", "CidrIp"),
    "cidr_ipv6": ("Ipv6Ranges", "CidrIpv6"),
    "prefix_list_id": ("PrefixListIds", "PrefixListId"),
    "referenced_group_id": ("UserIdGroupPairs", "GroupId"),
}
# What a peer group in a case's ``referenced_by`` admits from the case's group: any rule would do.
_PEER_RULE = Rule("tcp", 443, SELF)


class Unbuildable(ValueError):
    """The case describes something EC2 refuses to create."""


class BuildMismatch(AssertionError):
    """The group EC2 holds after the build is not the case's."""


def unbuildable(case: GroupCase) -> str | None:
    """Why EC2 cannot hold the case's group (None: it can)."""
    for list_id, cidrs in case.prefix_lists.items():
        if cidrs is None:
            return f"prefix list {list_id} is unreadable in the case, but a builder can read what it creates"
        if len({peer_field(c) for c in cidrs}) > 1:
            return (
                f"prefix list {list_id} mixes IPv4 and IPv6: a managed prefix list holds one address family"
            )
    for rule in (*case.ingress, *case.egress):
        if peer_field(rule.source) == "prefix_list_id" and rule.source not in case.prefix_lists:
            return f"a rule names prefix list {rule.source}, whose entries the case does not give"
    return None


@dataclass
class Ledger:
    """What a build created (and the VPC default groups it changed), for ``cleanup``."""

    vpcs: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    prefix_lists: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    changed_defaults: list[str] = field(default_factory=list)  # deleted with their VPC
    interfaces: list[str] = field(default_factory=list)

    def cleanup(self, ec2: Any) -> list[str]:
        """Remove everything recorded; the failures, one sentence each (empty: all gone)."""
        failures: list[str] = []

        def attempt(what: str, call: Callable[..., Any], **params: Any) -> None:
            try:
                call(**params)
            except ClientError as err:
                failures.append(f"{what}: {err.response.get('Error', {}).get('Code')}")

        for eni in self.interfaces:
            attempt(f"delete {eni}", ec2.delete_network_interface, NetworkInterfaceId=eni)
        # EC2 refuses to delete a group another rule names, or a prefix list a rule names.
        for group_id in (*self.groups, *self.changed_defaults):
            try:
                listed = _listed(ec2, group_id)
            except ClientError as err:
                failures.append(f"read the rules of {group_id}: {err.response.get('Error', {}).get('Code')}")
                continue
            for egress in (False, True):
                naming = [rule_id for key, rule_id in listed.items() if key[0] == egress and _names(key)]
                if naming:
                    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
                    attempt(f"revoke {naming}", revoke, GroupId=group_id, SecurityGroupRuleIds=naming)
        for group_id in self.groups:
            attempt(f"delete {group_id}", ec2.delete_security_group, GroupId=group_id)
        for list_id in self.prefix_lists:
            attempt(f"delete {list_id}", ec2.delete_managed_prefix_list, PrefixListId=list_id)
        for subnet in self.subnets:
            attempt(f"delete {subnet}", ec2.delete_subnet, SubnetId=subnet)
        for vpc in self.vpcs:
            attempt(f"delete {vpc}", ec2.delete_vpc, VpcId=vpc)
        return failures


@dataclass(frozen=True)
class Network:
    vpc_id: str
    subnet_id: str  # where the network interfaces that use a group go


@dataclass(frozen=True)
class BuiltGroup:
    group_id: str
    vpc_id: str
    ids: dict[str, str]  # the case's placeholders (SELF, pl-..., sg-...) -> the real ids


def _tags(resource_type: str, name: str, run: str) -> list[dict[str, Any]]:
    return [
        {
            "ResourceType": resource_type,
            "Tags": [{"Key": "Name", "Value": name}, {"Key": RUN_TAG, "Value": run}],
        }
    ]


def create_network(ec2: Any, ledger: Ledger, *, name: str, run: str) -> Network:
    """A fresh VPC (EC2 gives it its default group) with one subnet."""
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc", name, run))["Vpc"]["VpcId"]
    ledger.vpcs.append(vpc_id)
    subnet = ec2.create_subnet(
        VpcId=vpc_id, CidrBlock=SUBNET_CIDR, TagSpecifications=_tags("subnet", name, run)
    )
    ledger.subnets.append(subnet["Subnet"]["SubnetId"])
    return Network(vpc_id, subnet["Subnet"]["SubnetId"])


def _create_group(ec2: Any, ledger: Ledger, *, name: str, vpc_id: str, run: str) -> str:
    group_id: str = ec2.create_security_group(
        GroupName=name,
        Description=f"secagent corpus {name}",
        VpcId=vpc_id,
        TagSpecifications=_tags("security-group", name, run),
    )["GroupId"]
    ledger.groups.append(group_id)
    return group_id


def _default_group(ec2: Any, vpc_id: str) -> str:
    (group,) = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return str(group["GroupId"])


def _create_prefix_list(ec2: Any, ledger: Ledger, cidrs: list[str], *, name: str, run: str) -> str:
    created = ec2.create_managed_prefix_list(
        PrefixListName=name,
        AddressFamily="IPv6" if cidrs and peer_field(cidrs[0]) == "cidr_ipv6" else "IPv4",
        MaxEntries=max(1, len(cidrs)),
        Entries=[{"Cidr": cidr} for cidr in cidrs],
        TagSpecifications=_tags("prefix-list", name, run),
    )["PrefixList"]
    list_id: str = created["PrefixListId"]
    ledger.prefix_lists.append(list_id)
    # AWS creates a prefix list asynchronously; a rule may name it once it is complete.
    deadline = time.monotonic() + PREFIX_LIST_READY_SECONDS
    state = created.get("State")
    while state != "create-complete":
        if state == "create-failed" or time.monotonic() > deadline:
            raise RuntimeError(f"prefix list {list_id} is {state}")
        time.sleep(1)
        (found,) = ec2.describe_managed_prefix_lists(PrefixListIds=[list_id])["PrefixLists"]
        state = found.get("State")
    return list_id


def _key(rule: Rule, *, egress: bool, ids: dict[str, str]) -> RuleKey:
    low, high = port_range(rule)
    return egress, rule.protocol, low, high, ids.get(rule.source, rule.source)


def _names(key: RuleKey) -> bool:
    """Does the rule name another resource (a group or a prefix list)?"""
    return peer_field(key[4]) in ("referenced_group_id", "prefix_list_id")


def _permission(key: RuleKey) -> dict[str, Any]:
    """The IpPermissions entry that authorizes exactly the rule ``key``."""
    _, protocol, low, high, source = key
    permission: dict[str, Any] = {"IpProtocol": protocol}
    if protocol != "-1":  # every protocol means every port: EC2 takes no range
        permission |= {"FromPort": low, "ToPort": high}
    listed, item = _PERMISSION[peer_field(source)]
    permission[listed] = [{item: source}]
    return permission


def _source(rule: dict[str, Any]) -> str:
    referenced = rule.get("ReferencedGroupInfo") or {}
    return str(
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or referenced.get("GroupId", "")
    )


def _listed(ec2: Any, group_id: str) -> dict[RuleKey, str]:
    """The group's rules as EC2 lists them: key -> rule id."""
    pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": [group_id]}]
    )
    return {
        (bool(r["IsEgress"]), r["IpProtocol"], r.get("FromPort", -1), r.get("ToPort", -1), _source(r)): r[
            "SecurityGroupRuleId"
        ]
        for page in pages
        for r in page["SecurityGroupRules"]
    }


def _converge(ec2: Any, group_id: str, wanted: Iterable[RuleKey]) -> None:
    """Revoke the group's rules that are not ``wanted`` (e.g. the default outbound rule), then
    authorize the missing ones: one call per direction each."""
    wanted = set(wanted)
    current = _listed(ec2, group_id)
    for egress in (False, True):
        stale = [rule_id for key, rule_id in current.items() if key[0] == egress and key not in wanted]
        missing = sorted(key for key in wanted if key[0] == egress and key not in current)
        if egress:
            revoke, authorize = ec2.revoke_security_group_egress, ec2.authorize_security_group_egress
        else:
            revoke, authorize = ec2.revoke_security_group_ingress, ec2.authorize_security_group_ingress
        if stale:
            revoke(GroupId=group_id, SecurityGroupRuleIds=stale)
        if missing:
            authorize(GroupId=group_id, IpPermissions=[_permission(key) for key in missing])


def build_group(
    case: GroupCase, ec2: Any, *, name: str, run: str, shared: Network, ledger: Ledger
) -> BuiltGroup:
    """Create ``case``'s group (named ``name`` unless it is a VPC's default group) and what it
    needs, recording every resource in ``ledger``. Raises Unbuildable before creating anything
    when EC2 cannot hold the case, BuildMismatch when what EC2 holds afterwards is not the case."""
    if reason := unbuildable(case):
        raise Unbuildable(reason)
    network = create_network(ec2, ledger, name=name, run=run) if case.default_group else shared
    ids: dict[str, str] = {
        list_id: _create_prefix_list(ec2, ledger, cidrs or [], name=f"{name}-pl{n}", run=run)
        for n, (list_id, cidrs) in enumerate(sorted(case.prefix_lists.items()))
    }
    if case.default_group:
        ids[SELF] = _default_group(ec2, network.vpc_id)
        ledger.changed_defaults.append(ids[SELF])
    else:
        ids[SELF] = _create_group(ec2, ledger, name=name, vpc_id=network.vpc_id, run=run)
    group_id = ids[SELF]
    rules = (*case.ingress, *case.egress)
    peers = {r.source for r in rules if r.source != SELF and peer_field(r.source) == "referenced_group_id"}
    for n, peer in enumerate(sorted(peers | set(case.referenced_by))):
        ids[peer] = _create_group(ec2, ledger, name=f"{name}-peer{n}", vpc_id=network.vpc_id, run=run)

    wanted = {_key(r, egress=False, ids=ids) for r in case.ingress} | {
        _key(r, egress=True, ids=ids) for r in case.egress
    }
    _converge(ec2, group_id, wanted)
    for peer in case.referenced_by:
        peer_rule = _key(_PEER_RULE, egress=False, ids={SELF: group_id})
        ec2.authorize_security_group_ingress(GroupId=ids[peer], IpPermissions=[_permission(peer_rule)])
    if case.attached:
        eni = ec2.create_network_interface(
            SubnetId=network.subnet_id,
            Groups=[group_id],
            Description=f"secagent corpus {name}",
            TagSpecifications=_tags("network-interface", name, run),
        )
        ledger.interfaces.append(eni["NetworkInterface"]["NetworkInterfaceId"])

    held = set(_listed(ec2, group_id))
    if held != wanted:
        raise BuildMismatch(f"{group_id} holds {sorted(held - wanted)} extra, lacks {sorted(wanted - held)}")
    return BuiltGroup(group_id, network.vpc_id, ids)


def leftovers(ec2: Any, run: str) -> list[str]:
    """Every resource still tagged with ``run`` (a cleanup left it): empty when all are gone. A
    deleted prefix list stays listed for a while, in state delete-complete: it counts as gone."""
    tagged = [{"Name": f"tag:{RUN_TAG}", "Values": [run]}]
    listings = (
        ("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId"),
        ("describe_security_groups", "SecurityGroups", "GroupId"),
        ("describe_managed_prefix_lists", "PrefixLists", "PrefixListId"),
        ("describe_subnets", "Subnets", "SubnetId"),
        ("describe_vpcs", "Vpcs", "VpcId"),
    )
    return [
        item[key]
        for operation, listed, key in listings
        for page in ec2.get_paginator(operation).paginate(Filters=tagged)
        for item in page[listed]
        if not str(item.get("State", "")).startswith("delete-")
    ]
