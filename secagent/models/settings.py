"""Analysis / remediation settings, passed in explicitly (from env only at the edge)."""

import json
import os
from datetime import date
from typing import Literal

from pydantic import Field as PydanticField
from pydantic import field_validator

from secagent.models.base import CamelModel


def comma_separated(value: object, kind: type) -> object:
    """A deploy setting given as "a,b,c" (environment variables are strings), as `kind` of its items."""
    if isinstance(value, str):
        return kind(v.strip() for v in value.split(",") if v.strip())
    return value


class Exemption(CamelModel):
    """A deploy-time allow-list entry: these checks' failures on this bucket are accepted.

    ``checks`` is a list of check ids or ``"all"``; ``until`` (a UTC day, inclusive) ends it.
    Check ids are validated against the registry when the analysis runs (and at synth).
    """

    bucket: str
    checks: list[str] | Literal["all"]
    reason: str
    until: date | None = None

    @field_validator("bucket", "reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("checks")
    @classmethod
    def _some_checks(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list):
            value = [v.strip() for v in value if v.strip()]
            if not value:
                raise ValueError('must name at least one check id, or be "all"')
        return value

    def covers(self, check_id: str) -> bool:
        return self.checks == "all" or check_id in self.checks


class AgentSettings(CamelModel):
    require_kms: bool = False
    trusted_accounts: frozenset[str] = PydanticField(default_factory=frozenset)
    kms_key_id: str | None = None  # None -> the AWS managed key aws/s3
    access_log_bucket: str | None = None  # target for server access logs; None -> manual input
    disabled_checks: frozenset[str] = PydanticField(default_factory=frozenset)  # check ids not to run
    exemptions: list[Exemption] = PydanticField(default_factory=list)  # deploy-time allow-list

    @field_validator("trusted_accounts", "disabled_checks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return comma_separated(value, frozenset)

    @field_validator("trusted_accounts")
    @classmethod
    def _account_ids(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(v for v in value if not (len(v) == 12 and v.isdigit()))
        if bad:
            raise ValueError(f"not 12-digit account ids: {bad}")
        return value

    @field_validator("exemptions", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return []
            try:
                value = json.loads(value)
            except json.JSONDecodeError as err:
                raise ValueError(f"exemptions must be a JSON list of objects: {err}") from None
        if not isinstance(value, list):
            raise ValueError('exemptions must be a JSON list of {"bucket", "checks", "reason", "until"?}')
        return value

    def exempt_check_ids(self) -> frozenset[str]:
        """Every check id the allow-list names (``"all"`` names none)."""
        return frozenset(c for e in self.exemptions if isinstance(e.checks, list) for c in e.checks)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "AgentSettings":
        env = os.environ if environ is None else environ
        return cls.model_validate(
            {
                "require_kms": env.get("SECAGENT_REQUIRE_KMS", "false"),
                "trusted_accounts": env.get("SECAGENT_TRUSTED_ACCOUNTS", ""),
                "kms_key_id": env.get("SECAGENT_KMS_KEY_ID") or None,
                "access_log_bucket": env.get("SECAGENT_ACCESS_LOG_BUCKET") or None,
                "disabled_checks": env.get("SECAGENT_DISABLED_CHECKS", ""),
                "exemptions": env.get("SECAGENT_EXEMPTIONS", ""),
            }
        )


class TargetScope(CamelModel):
    """Which buckets this deployment may touch: never its own (nor CDK's staging buckets); and,
    when a scope is set, only buckets whose names start with one of its prefixes are remediated.
    The API refuses them up front; Apply's gate refuses them again (secagent.workflow.gate)."""

    protected_buckets: frozenset[str] = frozenset()
    protected_prefixes: tuple[str, ...] = ("cdk-",)
    remediation_prefixes: tuple[str, ...] = ()

    @field_validator("protected_buckets", mode="before")
    @classmethod
    def _bucket_set(cls, value: object) -> object:
        return comma_separated(value, frozenset)

    @field_validator("protected_prefixes", "remediation_prefixes", mode="before")
    @classmethod
    def _prefixes(cls, value: object) -> object:
        return comma_separated(value, tuple)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "TargetScope":
        env = os.environ if environ is None else environ
        return cls.model_validate(
            {
                "protected_buckets": env.get("PROTECTED_BUCKETS", ""),
                "remediation_prefixes": env.get("REMEDIATION_PREFIXES", ""),
            }
        )

    def protected(self, bucket: str) -> bool:
        return bucket in self.protected_buckets or bucket.startswith(self.protected_prefixes)

    def in_remediation_scope(self, bucket: str) -> bool:
        return not self.remediation_prefixes or bucket.startswith(self.remediation_prefixes)
