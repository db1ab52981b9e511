"""A moto organisation for the sweep: the deployment's own account (moto's default) and member
accounts reached through STS AssumeRole (moto maps an assumed role's credentials to the role's
account), with every AWS call the sweep's clients make recorded per account, and errors injected
per account and operation (tests/unit/awsfakes.py) or on one account's AssumeRole.

Set-up (buckets, groups, member roles) goes through sessions of its own, so the record holds only
what the code under test asked of AWS."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from secagent.aws import ClientFactory
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType
from secagent.models.sweep import SweepRequest, request_key
from secagent.sweep import accounts
from secagent.sweep.accounts import MEMBER_ROLE_NAME, MEMBER_VERSION_TAG, AccountSessions, SweepSettings
from secagent.workflow.store import KmsSealer, write_sealed
from tests.unit.awsfakes import failing_clients
from tests.unit.workflow.conftest import hmac_key

OWN = "123456789012"  # moto's default account: the deployment's own
MEMBER_B = "222222222222"
MEMBER_C = "333333333333"
OUTSIDER = "444444444444"  # neither the deployment's nor a member
EXTERNAL_ID = "secagent-sweep-external-id-0001"
REGION = "us-east-1"
REPORTS = "secagent-sweep-reports"
SWEEP = "5a0c1e2d-3b4f-4a5b-8c6d-7e8f9a0b1c2d"
REQUESTED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# What STS answers a principal it does not trust: it names the caller and the role (never to be shown).
RAW_DENIAL = (
    "User: arn:aws:sts::123456789012:assumed-role/SecAgentSweepTools/list-resources is not authorized "
    "to perform: sts:AssumeRole on resource: arn:aws:iam::{account}:role/SecurityAgentSweepReader"
)


def settings(**changes: Any) -> SweepSettings:
    """The deployment's sweep settings: members B and C, with the external id."""
    values: dict[str, Any] = {
        "own_account": OWN,
        "region": REGION,
        "member_accounts": frozenset({MEMBER_B, MEMBER_C}),
        "external_id": EXTERNAL_ID,
    }
    return SweepSettings(**(values | changes))


@functools.cache
def _shared_loader(search_path: str | None = None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(search_path)


def share_botocore_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every session made during the test parses botocore's service models once. The sweep makes
    a session per account (and so do these tests); parsing the models again for each is most of
    what its tests would cost. Test plumbing only: the sessions and clients are otherwise as made."""
    monkeypatch.setattr(botocore.session, "create_loader", _shared_loader)


@dataclass
class World:
    """The own account's session (the sweep tools' role) and what the sweep's clients did."""

    own: boto3.Session
    # account -> {"s3.ListBuckets": (status, code)}: what that account's clients answer instead of AWS
    failures: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (account, "service.Operation")
    assumed: list[dict[str, Any]] = field(default_factory=list)  # AssumeRole parameters, as sent
    _keys: dict[str, str] = field(default_factory=dict)  # access key id -> its account
    _setup: dict[str, boto3.Session] = field(default_factory=dict)  # account -> set-up session

    @classmethod
    def attach(cls, own: boto3.Session, monkeypatch: pytest.MonkeyPatch) -> World:
        """Record the calls of ``own``'s clients and of every member session the sweep makes."""
        share_botocore_data(monkeypatch)
        world = cls(own)
        world._record(own, OWN)
        own.events.register("provide-client-params.sts.AssumeRole", world._assuming)
        own.events.register("after-call.sts.AssumeRole", world._assumed)
        monkeypatch.setattr(accounts, "client_factory", world._member_clients)
        return world

    @property
    def clients(self) -> ClientFactory:
        """The own account's clients (as the tools' role), answering the own account's failures."""
        return failing_clients(self.own, self.failures.setdefault(OWN, {}))[0]

    def sessions(self, **changes: Any) -> AccountSessions:
        return AccountSessions(settings(**changes), self.clients)

    # -- what happened ------------------------------------------------------------------------
    def made(self, account: str) -> list[str]:
        return [call for who, call in self.calls if who == account]

    def member_calls(self) -> list[tuple[str, str]]:
        return [(who, call) for who, call in self.calls if who != OWN]

    # -- set-up, outside the record -------------------------------------------------------------
    def session_in(self, account: str) -> boto3.Session:
        """A set-up session in ``account`` (not the sweep's; its calls are not recorded)."""
        if account not in self._setup:
            self._setup[account] = self._new_session(account)
        return self._setup[account]

    @staticmethod
    def _new_session(account: str) -> boto3.Session:
        if account == OWN:
            return boto3.Session(region_name=REGION)
        answer = boto3.client("sts", region_name=REGION).assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/test-setup", RoleSessionName="test-setup"
        )
        c = answer["Credentials"]
        return boto3.Session(
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c["SessionToken"],
            region_name=REGION,
        )

    def install_member_role(self, account: str, version: str | None = "1") -> None:
        """The member stack's role in ``account``, tagged with its version (None: untagged)."""
        tags = [{"Key": MEMBER_VERSION_TAG, "Value": version}] if version is not None else []
        self.session_in(account).client("iam").create_role(
            RoleName=MEMBER_ROLE_NAME, AssumeRolePolicyDocument="{}", Tags=tags
        )

    def buckets(self, account: str, *names: str) -> None:
        s3 = self.session_in(account).client("s3")
        for name in names:
            s3.create_bucket(Bucket=name)

    def group(self, account: str, name: str, region: str = REGION) -> str:
        ec2 = self.session_in(account).client("ec2", region_name=region)
        return str(ec2.create_security_group(GroupName=name, Description=name)["GroupId"])

    # -- faults ---------------------------------------------------------------------------------
    def fail(self, account: str, operation: str, code: str, status: int = 400) -> None:
        """``operation`` ("s3.ListBuckets") of ``account``'s clients answers ``code`` from now on."""
        self.failures.setdefault(account, {})[operation] = (status, code)

    def deny_assume_role(self, account: str) -> None:
        """STS refuses the tools' AssumeRole into ``account`` (its role does not trust them)."""

        def deny(params: dict[str, Any], **_: Any) -> None:
            if f"::{account}:" in params.get("RoleArn", ""):
                error = {"Code": "AccessDenied", "Message": RAW_DENIAL.format(account=account)}
                raise ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}, "AssumeRole")

        self.own.events.register("provide-client-params.sts.AssumeRole", deny)

    # -- hooks ----------------------------------------------------------------------------------
    def _record(self, session: boto3.Session, account: str) -> None:
        def seen(model: Any, **_: Any) -> None:
            self.calls.append((account, f"{model.service_model.service_name}.{model.name}"))

        session.events.register("before-call", seen)

    def _assuming(self, params: dict[str, Any], **_: Any) -> None:
        self.assumed.append(dict(params))

    def _assumed(self, parsed: dict[str, Any], **_: Any) -> None:
        if "Credentials" in parsed:
            account = parsed["AssumedRoleUser"]["Arn"].split(":")[4]
            self._keys[parsed["Credentials"]["AccessKeyId"]] = account

    def _member_clients(self, session: boto3.Session, *args: Any, **kwargs: Any) -> ClientFactory:
        """What AccountSessions makes of an assumed role's session: recorded, answering its faults."""
        credentials = session.get_credentials()
        assert credentials is not None
        account = self._keys[credentials.access_key]
        self._record(session, account)
        return failing_clients(session, self.failures.setdefault(account, {}))[0]


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """moto with the report bucket in the own account; members B and C have no role yet."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # each account's EC2 starts in ms, not s
    share_botocore_data(monkeypatch)
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=REPORTS)
        yield World.attach(boto3.Session(region_name=REGION), monkeypatch)


@pytest.fixture
def sealer(world: World) -> KmsSealer:
    """The API's seal key (a moto KMS HMAC key); verifying goes through the own account's clients."""
    return KmsSealer(hmac_key(world.session_in(OWN)), world.clients)


def sweep_request(
    accounts: list[str], types: list[ResourceType] | None = None, sweep_id: str = SWEEP
) -> SweepRequest:
    return SweepRequest(
        sweep_id=sweep_id,
        accounts=accounts,
        resource_types=types or [BUCKET, SECURITY_GROUP],
        requested_by="arn:aws:iam::123456789012:role/Auditor",
        requested_at=REQUESTED_AT,
    )


def seal_request(request: SweepRequest, sealer: KmsSealer, clients: ClientFactory) -> SweepRequest:
    """The request as POST /sweeps writes it: sealed, once."""
    write_sealed(REPORTS, request_key(request.sweep_id), request, sealer, clients, once=True)
    return request
