"""What the workflow tools build once per warm environment, from the environment (cold start)."""

from __future__ import annotations

import functools

from lambdas.observability import logger
from secagent.aws import ClientFactory, client_factory
from secagent.models import AgentSettings
from secagent.models.errors import AccessDenied
from secagent.models.exemption import ExemptionRecord
from secagent.models.settings import TargetScope
from secagent.workflow.invocation import confirm_invocation
from secagent.workflow.settings import WorkflowSettings
from secagent.workflow.store import KmsSealer, Sealer, load_exemptions


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
def scope() -> TargetScope:
    """PROTECTED_BUCKETS, REMEDIATION_PREFIXES: what Apply's gate refuses whatever was approved."""
    return TargetScope.from_env()


@functools.cache
def sealer() -> Sealer:
    return KmsSealer(settings().seal_key_id, clients())


def exemptions_of(bucket: str) -> list[ExemptionRecord]:
    """The bucket's exemptions sealed by the API (Discover and Verify read them alike); none when
    they cannot be read, so its findings stay FAIL."""
    try:
        return load_exemptions(settings().report_bucket, bucket, sealer(), clients())
    except AccessDenied:
        logger.warning("exemption records unreadable: none applied", extra={"bucket": bucket})
        return []


def confirm(execution_arn: str, audit_id: str, *states: str) -> None:
    """Refuse unless the audit's own running execution, in one of `states`, invoked this tool."""
    confirm_invocation(execution_arn, audit_id, states, clients())
