"""The picture of one EC2 security group: its rules by rule id, what they reference, who uses it."""

import ipaddress
from typing import Any

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel
from secagent.models.probe import Probe, ResourceConfig

ANY_IPV4 = "0.0.0.0/0"
ANY_IPV6 = "::/0"
ALL_PROTOCOLS = "-1"
# The protocols whose rules carry a port range (EC2: other protocols, and "-1", open every port).
PORT_PROTOCOLS = frozenset({"tcp", "udp", "6", "17"})


def internet_wide_version(cidr: str | None) -> int | None:
    """4 or 6 when ``cidr`` is a /0, i.e. every IPv4 (0.0.0.0/0) or every IPv6 (::/0) address;
    None for any narrower range (or for something that is not a CIDR)."""
    if not cidr:
        return None
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None
    return network.version if network.prefixlen == 0 else None


class SecurityGroupRule(CamelModel):
    """One rule as DescribeSecurityGroupRules lists it: exactly one source (or destination)."""

    rule_id: str  # sgr-...
    egress: bool
    ip_protocol: str  # "tcp" | "udp" | "icmp" | "icmpv6" | "-1" (all) | a protocol number
    from_port: int | None = None  # -1 or None: every port (or every ICMP type)
    to_port: int | None = None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None
    referenced_group_owner: str | None = None
    description: str | None = None

    @property
    def open_to_any_ipv4(self) -> bool:
        return self.cidr_ipv4 == ANY_IPV4

    @property
    def open_to_any_ipv6(self) -> bool:
        return self.cidr_ipv6 == ANY_IPV6

    @property
    def open_to_internet(self) -> bool:
        return self.open_to_any_ipv4 or self.open_to_any_ipv6

    @property
    def all_ports(self) -> bool:
        protocol = self.ip_protocol.lower()
        if protocol not in PORT_PROTOCOLS:
            return protocol == ALL_PROTOCOLS
        return self.from_port in (None, -1) or (self.from_port == 0 and self.to_port == 65535)

    def ports(self) -> tuple[int, int] | None:
        """The TCP/UDP port range the rule opens (0-65535 for all traffic); None for ICMP and the like."""
        if self.ip_protocol == ALL_PROTOCOLS or (
            self.ip_protocol.lower() in PORT_PROTOCOLS and self.from_port in (None, -1)
        ):
            return (0, 65535)
        if self.ip_protocol.lower() not in PORT_PROTOCOLS:
            return None
        low = self.from_port if self.from_port is not None else 0
        return (low, self.to_port if self.to_port is not None else low)

    def opens_port(self, port: int, protocol: str = "tcp") -> bool:
        """Does the rule let ``protocol`` traffic reach ``port``? (All-traffic rules open every port.)"""
        if self.ip_protocol != ALL_PROTOCOLS and self.ip_protocol.lower() not in {
            protocol,
            _NUMBER.get(protocol, protocol),
        }:
            return False
        span = self.ports()
        return span is not None and span[0] <= port <= span[1]

    @property
    def transport(self) -> str:
        """The protocol by name: "tcp", "udp", "all" (-1), or as EC2 lists it ("icmp", "50")."""
        protocol = self.ip_protocol.lower()
        return {"6": "tcp", "17": "udp", ALL_PROTOCOLS: "all"}.get(protocol, protocol)

    def traffic(self) -> str:
        """What the rule admits, as a person reads it: "all traffic", "tcp 22", "udp 1000-2000",
        "tcp 0-65535" (every TCP port), "icmp"."""
        if self.transport == "all":
            return "all traffic"
        span = self.ports()
        if span is None:
            return self.transport
        low, high = span
        return f"{self.transport} {low}" if low == high else f"{self.transport} {low}-{high}"

    def source(self) -> str:
        """The rule's one source (or destination), as a person reads it."""
        return self.cidr_ipv4 or self.cidr_ipv6 or self.prefix_list_id or self.referenced_group_id or "(none)"

    def ip_permission(self) -> dict[str, Any]:
        """The IpPermissions entry that authorizes exactly this rule again (a rollback's call)."""
        permission: dict[str, Any] = {"IpProtocol": self.ip_protocol}
        if self.from_port is not None:
            permission["FromPort"] = self.from_port
        if self.to_port is not None:
            permission["ToPort"] = self.to_port
        described = {"Description": self.description} if self.description else {}
        if self.cidr_ipv4:
            permission["IpRanges"] = [{"CidrIp": self.cidr_ipv4, **described}]
        elif self.cidr_ipv6:
            permission["Ipv6Ranges"] = [{"CidrIpv6": self.cidr_ipv6, **described}]
        elif self.prefix_list_id:
            permission["PrefixListIds"] = [{"PrefixListId": self.prefix_list_id, **described}]
        elif self.referenced_group_id:
            pair: dict[str, Any] = {"GroupId": self.referenced_group_id, **described}
            if self.referenced_group_owner:
                pair["UserId"] = self.referenced_group_owner
            permission["UserIdGroupPairs"] = [pair]
        return permission

    def rule_request(self) -> dict[str, Any]:
        """The SecurityGroupRuleRequest of ModifySecurityGroupRules that sets exactly this rule."""
        request: dict[str, Any] = {"IpProtocol": self.ip_protocol}
        if self.from_port is not None:
            request["FromPort"] = self.from_port
        if self.to_port is not None:
            request["ToPort"] = self.to_port
        for key, value in (
            ("CidrIpv4", self.cidr_ipv4),
            ("CidrIpv6", self.cidr_ipv6),
            ("PrefixListId", self.prefix_list_id),
            ("ReferencedGroupId", self.referenced_group_id),
            ("Description", self.description),
        ):
            if value:
                request[key] = value
        return request


_NUMBER = {"tcp": "6", "udp": "17"}


class SecurityGroupInfo(CamelModel):
    group_name: str
    description: str = ""
    vpc_id: str | None = None
    owner_id: str | None = None
    is_vpc_default: bool = False  # the VPC's default group (its name is "default")
    tags: dict[str, str] = PydanticField(default_factory=dict)


class NetworkInterfaceUse(CamelModel):
    """A network interface the group is attached to (EC2.22: a group no interface uses is unused)."""

    network_interface_id: str
    interface_type: str | None = None  # interface | lambda | nat_gateway | ...
    description: str | None = None
    instance_id: str | None = None
    requester_managed: bool = False


class SecurityGroupConfig(ResourceConfig):
    group: Probe[SecurityGroupInfo] = Probe()
    ingress_rules: Probe[list[SecurityGroupRule]] = Probe()
    egress_rules: Probe[list[SecurityGroupRule]] = Probe()
    # Every prefix list an ingress or egress rule names -> its CIDRs (None: not readable).
    prefix_lists: Probe[dict[str, list[str] | None]] = Probe()
    # Every group a rule references -> its name (None: not visible to this account, or gone).
    referenced_groups: Probe[dict[str, str | None]] = Probe()
    network_interfaces: Probe[list[NetworkInterfaceUse]] = Probe()
    # Other groups of the VPC whose rules reference this group (a referenced group is in use).
    referencing_groups: Probe[list[str]] = Probe()
