"""Discover a security group on moto EC2: its rules by id, what they reference, who uses it; and
the error policy (missing, denied, throttled, one read failing)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from secagent.aws import client_factory
from secagent.discovery import discover, discover_security_group
from secagent.models import ResourceRef, SecurityGroupSnapshot
from secagent.models.errors import AccessDenied, InvalidInput, ResourceNotFound, TransientError


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name="eu-west-1")


def _vpc(session: boto3.Session) -> str:
    return str(session.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"])


def _group(session: boto3.Session, name: str = "web") -> str:
    ec2 = session.client("ec2")
    return str(ec2.create_security_group(GroupName=name, Description="d", VpcId=_vpc(session))["GroupId"])


def test_discover_reads_rules_by_id_references_and_users(session: boto3.Session) -> None:
    # Given a group whose rules open SSH to the internet, name a prefix list and another group
    ec2 = session.client("ec2")
    group, peer = _group(session), _group(session, "peer")
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="offices", MaxEntries=5, AddressFamily="IPv4", Entries=[{"Cidr": "0.0.0.0/0"}]
    )["PrefixList"]["PrefixListId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "PrefixListIds": [{"PrefixListId": prefix_list}],
            },
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": peer}]},
        ],
    )
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    interface = ec2.create_network_interface(SubnetId=subnet, Groups=[group])["NetworkInterface"]
    # When it is discovered
    snapshot = discover(ResourceRef(type="AWS::EC2::SecurityGroup", id=group), session)
    # Then every rule is there with its id and one source, and what they reference is resolved
    assert isinstance(snapshot, SecurityGroupSnapshot) and snapshot.region == "eu-west-1"
    cfg = snapshot.config
    assert cfg.group.value is not None and cfg.group.value.group_name == "web"
    assert not cfg.group.value.is_vpc_default
    ingress = {r.source(): r for r in cfg.ingress_rules.value or []}
    assert set(ingress) == {"0.0.0.0/0", prefix_list, peer}
    assert all(r.rule_id.startswith("sgr-") and not r.egress for r in ingress.values())
    assert ingress["0.0.0.0/0"].opens_port(22) and not ingress["0.0.0.0/0"].opens_port(23)
    assert [r.egress for r in cfg.egress_rules.value or []] == [True]  # EC2's default allow-all
    assert cfg.prefix_lists.value == {prefix_list: ["0.0.0.0/0"]}
    assert cfg.referenced_groups.value == {peer: "peer"}
    assert [i.network_interface_id for i in cfg.network_interfaces.value or []] == [
        interface["NetworkInterfaceId"]
    ]
    assert snapshot.unknown_fields() == []


def test_the_vpcs_default_group_is_known_as_such(session: boto3.Session) -> None:
    default = session.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}, {"Name": "vpc-id", "Values": [_vpc(session)]}]
    )["SecurityGroups"][0]["GroupId"]
    info = discover_security_group(default, session).config.group.value
    assert info is not None and info.is_vpc_default


def test_a_missing_group_is_resource_not_found(session: boto3.Session) -> None:
    with pytest.raises(ResourceNotFound, match="sg-0123456789abcdef0 does not exist"):
        discover_security_group("sg-0123456789abcdef0", session)


def test_a_malformed_id_reads_nothing(session: boto3.Session) -> None:
    with pytest.raises(InvalidInput, match="invalid security group id"):
        discover_security_group("sg-../../etc", session)


DENIAL = (
    "You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/Discover "
    "is not authorized. Encoded authorization failure message: 4fQ8..."
)


class _Failing:
    """An EC2 client whose named operation answers one error code; the rest go to moto."""

    def __init__(self, real: Any, operation: str, code: str) -> None:
        self.real, self.operation, self.code = real, operation, code

    def __getattr__(self, name: str) -> Any:
        if name == self.operation:

            def fail(**_: Any) -> Any:
                raise ClientError({"Error": {"Code": self.code, "Message": DENIAL}}, name)  # type: ignore[arg-type]

            return fail
        if name == "get_paginator":
            return lambda op: _FailingPaginator(self.real.get_paginator(op), op == self.operation, self.code)
        return getattr(self.real, name)


class _FailingPaginator:
    def __init__(self, real: Any, fails: bool, code: str) -> None:
        self.real, self.fails, self.code = real, fails, code

    def paginate(self, **params: Any) -> Any:
        if self.fails:
            raise ClientError({"Error": {"Code": self.code, "Message": DENIAL}}, "Paginate")  # type: ignore[arg-type]
        return self.real.paginate(**params)


def _clients(session: boto3.Session, operation: str, code: str) -> Any:
    make = client_factory(session)
    return lambda service, region: (
        _Failing(make(service, region), operation, code) if service == "ec2" else make(service, region)
    )


def test_a_group_the_agent_may_not_describe_is_access_denied_not_a_guess(session: boto3.Session) -> None:
    group = _group(session)
    with pytest.raises(AccessDenied):
        discover_security_group(
            group, session, clients=_clients(session, "describe_security_groups", "UnauthorizedOperation")
        )


def test_throttling_is_transient(session: boto3.Session) -> None:
    group = _group(session)
    with pytest.raises(TransientError):
        discover_security_group(
            group, session, clients=_clients(session, "describe_security_group_rules", "RequestLimitExceeded")
        )


def test_rules_that_cannot_be_read_are_unknown_with_everything_they_decide(session: boto3.Session) -> None:
    # Given a group whose rules the agent may not list
    group = _group(session)
    clients = _clients(session, "describe_security_group_rules", "UnauthorizedOperation")
    # When it is discovered
    snapshot = discover_security_group(group, session, clients=clients)
    # Then the rules, and the references only they name, are unknown with the reason; never empty
    unknown = set(snapshot.unknown_fields())
    assert {"ingress_rules", "egress_rules", "prefix_lists", "referenced_groups"} <= unknown
    assert "UnauthorizedOperation" in (snapshot.config.ingress_rules.reason or "")
    assert snapshot.config.group.known
    # And the denial's message (it names the role and the policy) is kept nowhere
    shown = snapshot.model_dump_json()
    assert "assumed-role/Discover" not in shown and "Encoded" not in shown
