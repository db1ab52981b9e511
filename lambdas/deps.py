"""What a workflow tool builds once per warm environment: ``deps()``, from one environment model.

Every tool reads its configuration the same way: ``ToolEnvironment.from_env`` at the cold start
(a missing setting fails it, before any work), then ``deps()`` holds it with the clients and the
sealer for as long as the environment is warm.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from lambdas.observability import logger
from secagent.aws import ClientFactory, client_factory
from secagent.models import AgentSettings
from secagent.models.errors import StoreUnavailable
from secagent.models.exemption import ExemptionRecord
from secagent.models.settings import TargetScope
from secagent.models.snapshot import BUCKET, ResourceRef
from secagent.models.sweep import SweepRequest
from secagent.sweep.accounts import AccountSessions, SweepSettings
from secagent.sweep.store import confirm_sweep_execution, load_sweep_request
from secagent.workflow.invocation import confirm_invocation
from secagent.workflow.settings import WorkflowSettings
from secagent.workflow.store import KmsSealer, Sealer, load_exemptions


@dataclass(frozen=True)
class ToolEnvironment:
    """Everything a workflow tool reads from its environment variables."""

    workflow: WorkflowSettings  # REPORT_BUCKET, EVENT_BUS_NAME, SEAL_KEY_ID
    # SECAGENT_REQUIRE_KMS, SECAGENT_KMS_KEY_ID, ...: every tool that analyzes or plans judges alike.
    analysis: AgentSettings
    scope: TargetScope  # PROTECTED_BUCKETS, REMEDIATION_PREFIXES: what Apply refuses whatever was approved
    fault_injection: bool  # SECAGENT_FAULT_INJECTION=enabled: test deployments only (lambdas/faults.py)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ToolEnvironment:
        env = dict(os.environ if environ is None else environ)
        return cls(
            workflow=WorkflowSettings.from_env(env),
            analysis=AgentSettings.from_env(env),
            scope=TargetScope.from_env(env),
            fault_injection=env.get("SECAGENT_FAULT_INJECTION") == "enabled",
        )


@dataclass(frozen=True)
class Deps:
    env: ToolEnvironment
    clients: ClientFactory  # thread-safe; creating them costs ~45 ms, so once per environment
    sealer: Sealer

    @property
    def report_bucket(self) -> str:
        return self.env.workflow.report_bucket

    def confirm(self, execution_arn: str, audit_id: str, *states: str) -> datetime | None:
        """Refuse unless the audit's own running execution, in one of `states`, invoked this tool;
        when that execution started."""
        return confirm_invocation(execution_arn, audit_id, states, self.clients)

    @cached_property
    def accounts(self) -> AccountSessions:
        """The sweep tools' way into each account (its own, or a member's read-only role): read
        from the environment on first use, so the audit tools never need the sweep settings."""
        return AccountSessions(SweepSettings.from_env(), self.clients)

    def confirmed_sweep(self, execution_arn: str, sweep_id: str) -> SweepRequest:
        """The sweep's sealed request, once its own running execution is proven to have invoked
        the tool (List Resources, Write Posture Report): the sweep's twin of ``confirm``."""
        confirm_sweep_execution(execution_arn, sweep_id, self.accounts.settings.machine_arn, self.clients)
        return load_sweep_request(sweep_id, self.report_bucket, self.sealer, self.clients)

    def exemptions_of(self, resource: ResourceRef) -> list[ExemptionRecord]:
        """A bucket's exemptions sealed by the API (Discover and Verify read them alike); none
        when they cannot be read, so its findings stay FAIL. The API exempts buckets only."""
        if resource.type != BUCKET:
            return []
        try:
            return load_exemptions(self.report_bucket, resource.id, self.sealer, self.clients)
        except StoreUnavailable:
            logger.warning("exemption records unreadable: none applied", extra={"bucket": resource.id})
            return []


@functools.cache
def deps() -> Deps:
    env = ToolEnvironment.from_env()
    clients = client_factory()
    return Deps(env, clients, KmsSealer(env.workflow.seal_key_id, clients))
