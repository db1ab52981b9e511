"""A moto account with three buckets (and, when asked, two security groups), and a client factory
that records every call made."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.aws import client_factory

PRIVATE = "scan-private-bucket"
PUBLIC = "scan-public-bucket"
OTHER = "other-team-bucket"
BPA_KEYS = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    """PRIVATE locked down, PUBLIC with a public policy and no Block Public Access, OTHER bare."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        for name in (PRIVATE, PUBLIC, OTHER):
            s3.create_bucket(Bucket=name)
        s3.put_public_access_block(
            Bucket=PRIVATE, PublicAccessBlockConfiguration=dict.fromkeys(BPA_KEYS, True)
        )
        s3.put_public_access_block(
            Bucket=PUBLIC, PublicAccessBlockConfiguration=dict.fromkeys(BPA_KEYS, False)
        )
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{PUBLIC}/*",
                }
            ],
        }
        s3.put_bucket_policy(Bucket=PUBLIC, Policy=json.dumps(policy))
        yield session


@dataclass(frozen=True)
class Groups:
    open_ssh: str  # admits SSH (tcp 22) from 0.0.0.0/0
    closed: str  # admits nothing, and is in use: every check passes on it
    default: str  # the default VPC's own default group (moto makes one)


@pytest.fixture
def groups(session: boto3.Session) -> Groups:
    """Two security groups in the default VPC of the session's region, beside its default group."""
    ec2 = session.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    (default,) = ec2.describe_security_groups(
        Filters=[*in_vpc, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    open_ssh = ec2.create_security_group(GroupName="scan-open-ssh", Description="ssh", VpcId=vpc_id)[
        "GroupId"
    ]
    ssh_from_anywhere = {
        "IpProtocol": "tcp",
        "FromPort": 22,
        "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
    }
    ec2.authorize_security_group_ingress(GroupId=open_ssh, IpPermissions=[ssh_from_anywhere])
    closed = ec2.create_security_group(GroupName="scan-closed", Description="none", VpcId=vpc_id)["GroupId"]
    subnet_id = ec2.describe_subnets(Filters=in_vpc)["Subnets"][0]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet_id, Groups=[closed])  # in use: not EC2.22's unused group
    return Groups(open_ssh=open_ssh, closed=closed, default=default["GroupId"])


class Recorder:
    """A client factory over moto recording each API call as "service.Operation".

    ``bucket_regions``: ListBuckets answers each bucket's BucketRegion, as AWS does (moto leaves
    it out).
    """

    def __init__(self, session: boto3.Session, *, bucket_regions: bool = False) -> None:
        self._inner = client_factory(session)
        self._region = session.region_name
        self._bucket_regions = bucket_regions
        self._lock = threading.Lock()
        self.calls: list[str] = []

    def __call__(self, service: str, region: str | None = None) -> Any:
        client = self._inner(service, region)
        client.meta.events.register("before-call", self._record)
        if self._bucket_regions:
            client.meta.events.register("after-call.s3.ListBuckets", self._add_regions)
        return client

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls.append(f"{model.service_model.service_name}.{model.name}")

    def _add_regions(self, parsed: dict[str, Any], **_: Any) -> None:
        for bucket in parsed.get("Buckets", []):
            bucket.setdefault("BucketRegion", self._region)
