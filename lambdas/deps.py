"""What the workflow tools build once per warm environment, from the environment (cold start)."""

from __future__ import annotations

import functools

from secagent.aws import ClientFactory, client_factory
from secagent.models import AgentSettings
from secagent.workflow.settings import WorkflowSettings
from secagent.workflow.store import KmsSealer, Sealer


@functools.cache
def clients() -> ClientFactory:
    """Clients live as long as the warm environment (thread-safe; creating them costs ~45 ms)."""
    return client_factory()


@functools.cache
def settings() -> WorkflowSettings:
    return WorkflowSettings.from_env()


@functools.cache
def analysis() -> AgentSettings:
    """SECAGENT_REQUIRE_KMS, SECAGENT_KMS_KEY_ID, ...: every tool that analyzes or plans judges alike."""
    return AgentSettings.from_env()


@functools.cache
def sealer() -> Sealer:
    return KmsSealer(settings().seal_key_id, clients())
