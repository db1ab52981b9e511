"""API settings: passed in explicitly; only the handler reads the environment."""

import re
from collections.abc import Mapping
from typing import Self

from pydantic import Field as PydanticField
from pydantic import field_validator, model_validator

from secagent.models.base import CamelModel
from secagent.models.settings import TargetScope
from secagent.models.snapshot import ResourceRef
from secagent.models.sweep import member_accounts_of

_STATE_MACHINE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12})"
    r":stateMachine:(?P<name>[A-Za-z0-9_-]{1,80})$"
)

MIN_APPROVAL_TIMEOUT_SECONDS = 60
DEFAULT_APPROVAL_TIMEOUT_SECONDS = 3600
MAX_APPROVAL_TIMEOUT_SECONDS = 604800  # 7 days


class ApiSettings(CamelModel):
    state_machine_arn: str
    report_bucket: str = PydanticField(min_length=3, max_length=63)
    default_approval_timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS
    min_approval_timeout_seconds: int = MIN_APPROVAL_TIMEOUT_SECONDS
    max_approval_timeout_seconds: int = MAX_APPROVAL_TIMEOUT_SECONDS
    max_body_bytes: int = 16 * 1024
    # Four-eyes is on: the principal that requested an audit never approves it. Turning it off
    # (deploy setting allowSelfApproval) is for a single-person lab only.
    allow_self_approval: bool = False
    # The KMS HMAC key that seals request and decision records (only the API's role may generate).
    seal_key_id: str = ""
    # Buckets no audit may touch, and the optional remediation scope (one definition: TargetScope).
    scope: TargetScope = PydanticField(default_factory=TargetScope)
    approvals_prefix: str = "approvals/"
    reports_prefix: str = "reports/"
    # The executions the API started for each audit (its resumes): written and read by the API only.
    executions_prefix: str = "executions/"
    # The sweep state machine, and the member accounts a sweep may read (each runs the member stack).
    sweep_state_machine_arn: str = ""
    member_accounts: frozenset[str] = frozenset()

    def protected(self, resource: ResourceRef) -> bool:
        return self.scope.protected(resource)

    def in_remediation_scope(self, resource: ResourceRef) -> bool:
        return self.scope.in_remediation_scope(resource)

    @field_validator("state_machine_arn")
    @classmethod
    def _arn(cls, value: str) -> str:
        if not _STATE_MACHINE_ARN.match(value):
            raise ValueError("not a Step Functions state machine ARN")
        return value

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        low, default, high = (
            self.min_approval_timeout_seconds,
            self.default_approval_timeout_seconds,
            self.max_approval_timeout_seconds,
        )
        if not low <= default <= high:
            raise ValueError(f"default approval timeout {default} is outside [{low}, {high}]")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "ApiSettings":
        values: dict[str, str] = {
            "state_machine_arn": environ.get("STATE_MACHINE_ARN", ""),
            "report_bucket": environ.get("REPORT_BUCKET", ""),
        }
        for key in ("ALLOW_SELF_APPROVAL", "SEAL_KEY_ID"):
            if environ.get(key):
                values[key.lower()] = environ[key]
        values["scope"] = TargetScope.from_env(dict(environ))  # type: ignore[assignment]
        values["sweep_state_machine_arn"] = environ.get("SWEEP_STATE_MACHINE_ARN", "")
        values["member_accounts"] = member_accounts_of(environ)  # type: ignore[assignment]
        for key in ("DEFAULT_APPROVAL_TIMEOUT_SECONDS", "MAX_APPROVAL_TIMEOUT_SECONDS"):
            if environ.get(key):
                values[key.lower()] = environ[key]
        return cls.model_validate(values)

    @property
    def account(self) -> str:
        """The deployment's account (the state machine's): the owner every audited bucket must have."""
        m = _STATE_MACHINE_ARN.match(self.state_machine_arn)
        assert m is not None  # checked by the validator
        return m["account"]

    @property
    def sweepable_accounts(self) -> frozenset[str]:
        """The accounts a sweep may read: the deployment's own and its member accounts."""
        return self.member_accounts | {self.account}

    @property
    def region(self) -> str:
        """The deployment's region (the state machine's)."""
        m = _STATE_MACHINE_ARN.match(self.state_machine_arn)
        assert m is not None  # checked by the validator
        return m["region"]

    def execution_arn(self, audit_id: str) -> str:
        """The audit id is the execution name, so its ARN follows from the state machine's."""
        m = _STATE_MACHINE_ARN.match(self.state_machine_arn)
        assert m is not None  # checked by the validator
        return f"arn:{m['partition']}:states:{m['region']}:{m['account']}:execution:{m['name']}:{audit_id}"

    def approval_key(self, audit_id: str) -> str:
        return f"{self.approvals_prefix}{audit_id}.json"

    def report_key(self, audit_id: str) -> str:
        return f"{self.reports_prefix}{audit_id}.json"

    def executions_key(self, audit_id: str) -> str:
        return f"{self.executions_prefix}{audit_id}.json"
