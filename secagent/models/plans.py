"""Remediation plans: what to change, how to undo it."""

from typing import Any

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel


class ApiCall(CamelModel):
    """A boto3 call as data. ``operation`` is the botocore API name (PutBucketAcl)."""

    service: str
    operation: str
    parameters: dict[str, Any] = PydanticField(default_factory=dict)
    region: str | None = None


class Plan(CamelModel):
    plan_id: str
    order: int
    check_ids: list[str]
    remediation_id: str
    title: str
    resource_id: str
    api_call: ApiCall
    cli_command: str
    risk: str
    reversible: bool
    rollback: ApiCall | None = None
    rollback_cli_command: str | None = None
    previous_config: Any = None
    # Values a human must supply before Apply can run it (e.g. MFA token); empty = runnable.
    manual_inputs: list[str] = PydanticField(default_factory=list)


class RemediationPlanSet(CamelModel):
    resource_id: str
    plans: list[Plan]
    unplanned: list[str] = PydanticField(default_factory=list)  # failing check ids with no automatic fix
