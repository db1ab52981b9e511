"""Analysis / remediation settings, passed in explicitly (from env only at the edge)."""

import os

from pydantic import Field as PydanticField
from pydantic import field_validator

from secagent.models.base import CamelModel


class AgentSettings(CamelModel):
    require_kms: bool = False
    trusted_accounts: frozenset[str] = PydanticField(default_factory=frozenset)
    kms_key_id: str | None = None  # None -> the AWS managed key aws/s3
    access_log_bucket: str | None = None  # target for server access logs; None -> manual input
    disabled_checks: frozenset[str] = PydanticField(default_factory=frozenset)  # check ids not to run

    @field_validator("trusted_accounts", "disabled_checks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(v.strip() for v in value.split(",") if v.strip())
        return value

    @field_validator("trusted_accounts")
    @classmethod
    def _account_ids(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(v for v in value if not (len(v) == 12 and v.isdigit()))
        if bad:
            raise ValueError(f"not 12-digit account ids: {bad}")
        return value

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
            }
        )
