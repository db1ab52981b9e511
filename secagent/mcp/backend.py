"""Where the MCP tools get their data: the account (read-only, through the domain layer) and the audit API.

`Backend` is the seam the unit tests replace with fakes.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Protocol

import boto3

from secagent.audit_api import AuditApi
from secagent.aws import StackMissing, api_outputs, client_factory
from secagent.client import AuditApiClient
from secagent.discovery import discover
from secagent.mcp.errors import StackNotDeployed
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import ResourceRef, Snapshot

DEFAULT_STACK_NAME = "SecurityAgent"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class ServerSettings:
    """Where the server points: the AWS account (profile, region, endpoint) and the deployed stack."""

    endpoint_url: str | None = None  # a custom AWS endpoint, e.g. LocalStack's http://127.0.0.1:4566
    stack_name: str = DEFAULT_STACK_NAME
    region: str | None = None
    profile: str | None = None
    api_url: str | None = None  # the audit API's base URL; default: from the stack's outputs
    agent: AgentSettings = field(default_factory=AgentSettings)  # analysis settings (SECAGENT_* env)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> ServerSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {
            "endpoint_url": env.get("AWS_ENDPOINT_URL") or None,
            "stack_name": env.get("SECAGENT_STACK_NAME") or DEFAULT_STACK_NAME,
            "api_url": env.get("SECAGENT_API_URL") or None,
            "agent": AgentSettings.from_env(dict(env)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


class Backend(Protocol):
    settings: ServerSettings

    def snapshot(self, resource: ResourceRef) -> Snapshot:
        """Discover: the bucket's or security group's configuration (read-only calls)."""
        ...

    def api(self) -> AuditApi:
        """The deployed audit API (approval gate and durable workflow)."""
        ...


class AwsBackend:
    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._api: AuditApiClient | None = None

    def session(self) -> boto3.Session:
        # One per call: tools run on worker threads and boto3 sessions are not thread-safe.
        return boto3.Session(profile_name=self.settings.profile, region_name=self._region())

    def _region(self) -> str:
        if self.settings.region:
            return self.settings.region
        return boto3.Session(profile_name=self.settings.profile).region_name or DEFAULT_REGION

    def snapshot(self, resource: ResourceRef) -> Snapshot:
        session = self.session()
        return discover(resource, session, clients=client_factory(session, self.settings.endpoint_url))

    def api(self) -> AuditApiClient:
        with self._lock:
            if self._api is None:
                session = self.session()
                if self.settings.api_url:
                    self._api = AuditApiClient(self.settings.api_url, session=session)
                else:
                    outputs = self._stack_outputs(session)
                    self._api = AuditApiClient.for_stack(
                        outputs, endpoint_url=self.settings.endpoint_url, session=session
                    )
            return self._api

    def _stack_outputs(self, session: boto3.Session) -> dict[str, str]:
        name, where = self.settings.stack_name, f"region {session.region_name}"
        if self.settings.endpoint_url:
            where += f" at {self.settings.endpoint_url}"
        cloudformation = client_factory(session, self.settings.endpoint_url)("cloudformation", None)
        try:
            return api_outputs(cloudformation, name, emulator=bool(self.settings.endpoint_url))
        except StackMissing as err:
            if err.missing:
                raise StackNotDeployed(
                    f"The stack {name} in {where} has no {', '.join(err.missing)} output: "
                    "is it the audit agent's stack?"
                ) from err
            raise StackNotDeployed(
                f"The stack {name} is not deployed in {where}: deploy it (make deploy), "
                "or start the MCP server with --stack-name or --api-url."
            ) from err
