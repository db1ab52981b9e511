"""Deliberately misconfigured security groups for the tests and benches (moto, LocalStack or a
sandbox account), as scripts/buckets.py is for buckets."""

from __future__ import annotations

import uuid
from typing import Any

OFFICE = "198.51.100.0/24"  # a documentation range: the rule every fix must leave alone


def create_open_group(ec2: Any, prefix: str, *, in_use: bool = True) -> str:
    """A new group in the default VPC with SSH open to the internet and HTTPS from one office
    range; attached to a new network interface when ``in_use`` (so EC2.22's check passes and a
    revoke of the SSH rule leaves nothing failing)."""
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    vpc = (vpcs or ec2.describe_vpcs()["Vpcs"])[0]["VpcId"]
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    group_id: str = ec2.create_security_group(GroupName=name, Description="web tier", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": OFFICE}]},
        ],
    )
    if in_use:
        subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
        ec2.create_network_interface(SubnetId=subnet, Groups=[group_id])
    return group_id
