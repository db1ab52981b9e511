"""Reaching the accounts a sweep reads: the deployment's own with its own role, every other one
through the read-only role its member stack made (stacks/member_stack.py), with the external id.

The member role is proven before anything is listed: its own `iam:GetRole` answers only when it
is there and is the member stack's (tagged with the member stack's version). AWS refuses the
AssumeRole of a missing or untrusting role already; the check also names an outdated member stack.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.aws import ClientFactory, client_factory
from secagent.discovery._calls import error_code
from secagent.models.report import StepError
from secagent.models.sweep import ACCOUNT_ID, member_accounts_of

MEMBER_ROLE_NAME = "SecurityAgentSweepReader"
# The member stack tags its role with the version of what it grants; the hub needs at least this.
MEMBER_VERSION_TAG = "secagent:member-version"
MEMBER_VERSION = 1
SESSION_SECONDS = 3600
SECURITY_HUB_IMPORT_ENV = "SECURITY_HUB_IMPORT"  # the deploy setting securityHubImport
_RENEW_BEFORE = 300  # seconds: a cached session is renewed this long before it expires


@dataclass(frozen=True)
class SweepSettings:
    """The sweep tools' settings, read at the edge (cold start)."""

    own_account: str  # DEPLOYMENT_ACCOUNT: swept with the tool's own role
    region: str = "us-east-1"  # AWS_REGION: where security groups are listed
    partition: str = "aws"
    member_accounts: frozenset[str] = frozenset()  # SWEEP_MEMBER_ACCOUNTS: who may be swept
    external_id: str = field(default="", repr=False)  # SWEEP_EXTERNAL_ID: never logged
    machine_arn: str = ""  # SWEEP_STATE_MACHINE_ARN: List Resources and Write Posture Report check it
    security_hub_import: bool = False  # SECURITY_HUB_IMPORT=enabled: Write Posture Report imports ASFF

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SweepSettings:
        env = os.environ if environ is None else environ
        own = env.get("DEPLOYMENT_ACCOUNT", "")
        members = member_accounts_of(env)
        for account in (own, *members):
            if not ACCOUNT_ID.fullmatch(account):
                raise ValueError(f"not a 12-digit account id in the sweep settings: {account[:40]!r}")
        return cls(
            own_account=own,
            region=env.get("AWS_REGION") or "us-east-1",
            partition=env.get("DEPLOYMENT_PARTITION") or "aws",
            member_accounts=members - {own},
            external_id=env.get("SWEEP_EXTERNAL_ID", ""),
            machine_arn=env.get("SWEEP_STATE_MACHINE_ARN", ""),
            security_hub_import=env.get(SECURITY_HUB_IMPORT_ENV) == "enabled",
        )

    @property
    def sweepable(self) -> frozenset[str]:
        return self.member_accounts | {self.own_account}

    def role_arn(self, account_id: str) -> str:
        return f"arn:{self.partition}:iam::{account_id}:role/{MEMBER_ROLE_NAME}"


class AccountUnreachable(Exception):
    """The account's member role could not be assumed or is not the member stack's."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.step_error = StepError(error=error, message=message)


class AccountSessions:
    """One client factory per account, made once per warm environment and renewed before its
    credentials expire. Thread-safe."""

    def __init__(
        self,
        settings: SweepSettings,
        own: ClientFactory,
        session_name: str = "secagent-sweep",
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._own = own
        self._session_name = session_name
        self._now = now
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[ClientFactory, float]] = {}

    @property
    def settings(self) -> SweepSettings:
        return self._settings

    def clients(self, account_id: str) -> ClientFactory:
        """The account's clients; AccountUnreachable when it is not sweepable or its role fails."""
        if account_id == self._settings.own_account:
            return self._own
        if account_id not in self._settings.member_accounts:
            raise AccountUnreachable("NotAMember", f"{account_id} is not a member account of this deployment")
        with self._lock:
            cached = self._cached.get(account_id)
            if cached is not None and cached[1] - _RENEW_BEFORE > self._now():
                return cached[0]
        made, expires = self._assume(account_id)
        with self._lock:
            self._cached[account_id] = (made, expires)
        return made

    def _assume(self, account_id: str) -> tuple[ClientFactory, float]:
        role_arn = self._settings.role_arn(account_id)
        params: dict[str, Any] = {
            "RoleArn": role_arn,
            "RoleSessionName": self._session_name[:64],
            "DurationSeconds": SESSION_SECONDS,
        }
        if self._settings.external_id:
            params["ExternalId"] = self._settings.external_id
        try:
            answer = self._own("sts", None).assume_role(**params)
        except ClientError as err:
            raise AccountUnreachable(
                error_code(err) or "AccessDenied",
                f"could not assume {MEMBER_ROLE_NAME} in {account_id}: it is missing, or does not "
                "trust this deployment with its external id (deploy or update the member stack there)",
            ) from None
        except BotoCoreError as err:
            raise AccountUnreachable(type(err).__name__, f"STS did not answer for {account_id}") from None
        credentials = answer["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._settings.region,
        )
        # Recorded as the member role's calls (test deployments): the IAM proof holds them to it.
        made = client_factory(session, recorded_as=MEMBER_ROLE_NAME)
        self._prove_member_role(account_id, made)
        expiry = credentials.get("Expiration")
        expires = expiry.timestamp() if hasattr(expiry, "timestamp") else self._now() + SESSION_SECONDS
        return made, expires

    def _prove_member_role(self, account_id: str, clients: ClientFactory) -> None:
        """The role is the member stack's, of a version this hub can use."""
        try:
            role = clients("iam", None).get_role(RoleName=MEMBER_ROLE_NAME)["Role"]
        except ClientError as err:
            code = error_code(err) or "AccessDenied"
            if code == "NoSuchEntity":
                raise AccountUnreachable(
                    "MemberRoleMissing",
                    f"{account_id} has no {MEMBER_ROLE_NAME} role: deploy the member stack there",
                ) from None
            raise AccountUnreachable(
                code, f"the member role of {account_id} could not be read: update the member stack there"
            ) from None
        except BotoCoreError as err:
            raise AccountUnreachable(type(err).__name__, f"IAM did not answer for {account_id}") from None
        tags = {t.get("Key"): t.get("Value") for t in role.get("Tags") or []}
        try:
            version = int(tags.get(MEMBER_VERSION_TAG) or 0)
        except ValueError:
            version = 0
        if version < MEMBER_VERSION:
            raise AccountUnreachable(
                "MemberStackOutdated",
                f"the member role of {account_id} is not the member stack's version {MEMBER_VERSION} "
                "or later: update the member stack there",
            )
