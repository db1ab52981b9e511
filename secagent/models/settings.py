"""Analysis / remediation settings, passed in explicitly (from env only at the edge)."""

import ipaddress
import json
import os
from datetime import date
from typing import Literal

from pydantic import Field as PydanticField
from pydantic import ValidationInfo, field_validator

from secagent.models.base import CamelModel
from secagent.models.snapshot import BUCKET, ResourceRef


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
    # EC2.18: the TCP ports a security group may open to the internet (Config's authorizedTcpPorts).
    authorized_ports: frozenset[int] = frozenset({80, 443})
    # Security group fixes narrow an internet-wide rule to this range instead of revoking it.
    narrow_ingress_cidr_ipv4: str | None = None
    narrow_ingress_cidr_ipv6: str | None = None

    @field_validator("trusted_accounts", "disabled_checks", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return comma_separated(value, frozenset)

    @field_validator("authorized_ports", mode="before")
    @classmethod
    def _ports(cls, value: object) -> object:
        ports = comma_separated(value, frozenset)
        if isinstance(ports, frozenset) and any(
            not str(p).isdigit() or not 0 < int(p) < 65536 for p in ports
        ):
            raise ValueError(
                f"authorized ports must be TCP port numbers (1-65535): {sorted(map(str, ports))}"
            )
        return ports

    @field_validator("narrow_ingress_cidr_ipv4", "narrow_ingress_cidr_ipv6")
    @classmethod
    def _narrow_cidr(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        version = 4 if info.field_name == "narrow_ingress_cidr_ipv4" else 6
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as err:
            raise ValueError(f"not an IPv{version} CIDR: {err}") from None
        if network.version != version or network.prefixlen == 0:
            raise ValueError(f"must be an IPv{version} CIDR narrower than the whole internet: {value}")
        return str(network)

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
                "authorized_ports": env.get("SECAGENT_AUTHORIZED_PORTS") or "80,443",
                "narrow_ingress_cidr_ipv4": env.get("SECAGENT_NARROW_INGRESS_CIDR_IPV4") or None,
                "narrow_ingress_cidr_ipv6": env.get("SECAGENT_NARROW_INGRESS_CIDR_IPV6") or None,
            }
        )


class TargetScope(CamelModel):
    """Which resources this deployment may touch: never its own (nor CDK's staging buckets); and,
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

    def protected(self, resource: ResourceRef) -> bool:
        """The stack's own buckets; no security group is the stack's (its functions run outside a VPC)."""
        if resource.type != BUCKET:
            return False
        return resource.id in self.protected_buckets or resource.id.startswith(self.protected_prefixes)

    def in_remediation_scope(self, resource: ResourceRef) -> bool:
        """Every resource when no scope is set; else the buckets named by a prefix and no security
        group (a scope names buckets; a group is then audited in plan mode only)."""
        if not self.remediation_prefixes:
            return True
        return resource.type == BUCKET and resource.id.startswith(self.remediation_prefixes)
