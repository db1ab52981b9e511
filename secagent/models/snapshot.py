"""The versioned, JSON-serialisable picture of one bucket's configuration."""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel
from secagent.models.exemption import ExemptionRecord

SNAPSHOT_SCHEMA_VERSION = "1.0"


class Probe[T](CamelModel):
    """One configuration field as read: its value, or ``unknown`` with the reason.

    ``state == "ok"`` with ``value is None`` means "read fine, not configured".
    """

    state: Literal["ok", "unknown"] = "ok"
    value: T | None = None
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.state == "ok"


class PublicAccessBlock(CamelModel):
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    block_public_policy: bool = False
    restrict_public_buckets: bool = False

    @property
    def all_on(self) -> bool:
        return (
            self.block_public_acls
            and self.ignore_public_acls
            and self.block_public_policy
            and self.restrict_public_buckets
        )


class Grant(CamelModel):
    grantee_type: str  # CanonicalUser | Group | AmazonCustomerByEmail
    permission: str  # FULL_CONTROL | READ | WRITE | READ_ACP | WRITE_ACP
    grantee_id: str | None = None
    grantee_uri: str | None = None
    grantee_email: str | None = None
    display_name: str | None = None


class Acl(CamelModel):
    owner_id: str | None = None
    owner_display_name: str | None = None
    grants: list[Grant] = PydanticField(default_factory=list)


class Encryption(CamelModel):
    algorithm: str  # AES256 | aws:kms | aws:kms:dsse
    kms_key_id: str | None = None
    bucket_key_enabled: bool = False
    # Server-side encryption types refused on upload (PutBucketEncryption BlockedEncryptionTypes): "SSE-C".
    blocked_encryption_types: list[str] = PydanticField(default_factory=list)

    def to_api_rule(self) -> dict[str, Any]:
        """The ServerSideEncryptionConfiguration rule that sets exactly this configuration."""
        default: dict[str, Any] = {"SSEAlgorithm": self.algorithm}
        if self.kms_key_id:
            default["KMSMasterKeyID"] = self.kms_key_id
        rule: dict[str, Any] = {"ApplyServerSideEncryptionByDefault": default}
        rule["BucketKeyEnabled"] = self.bucket_key_enabled
        if self.blocked_encryption_types:
            rule["BlockedEncryptionTypes"] = {"EncryptionType": list(self.blocked_encryption_types)}
        return rule


class Versioning(CamelModel):
    status: str | None = None  # None = never enabled
    mfa_delete: str | None = None


class Logging(CamelModel):
    target_bucket: str
    target_prefix: str = ""


class ObjectLock(CamelModel):
    enabled: bool
    rule: dict[str, Any] | None = None


class CorsRule(CamelModel):
    allowed_methods: list[str]
    allowed_origins: list[str]
    allowed_headers: list[str] = PydanticField(default_factory=list)
    expose_headers: list[str] = PydanticField(default_factory=list)
    max_age_seconds: int | None = None
    id: str | None = None


class S3BucketConfig(CamelModel):
    public_access_block: Probe[PublicAccessBlock] = Probe()
    account_public_access_block: Probe[PublicAccessBlock] = Probe()
    acl: Probe[Acl] = Probe()
    ownership_controls: Probe[str] = Probe()
    policy: Probe[dict[str, Any]] = Probe()
    policy_status_is_public: Probe[bool] = Probe()  # optional evidence, not emulated by LocalStack
    encryption: Probe[Encryption] = Probe()
    versioning: Probe[Versioning] = Probe()
    logging: Probe[Logging] = Probe()
    lifecycle_rules: Probe[list[dict[str, Any]]] = Probe()
    object_lock: Probe[ObjectLock] = Probe()
    website: Probe[dict[str, Any]] = Probe()
    cors: Probe[list[CorsRule]] = Probe()
    replication: Probe[dict[str, Any]] = Probe()
    notifications: Probe[dict[str, Any]] = Probe()
    tags: Probe[dict[str, str]] = Probe()


class ReadBy(CamelModel):
    principal_arn: str | None = None
    account_id: str | None = None
    region: str | None = None
    how: str
    calls: int
    concurrent: bool
    duration_ms: float


class ResourceRef(CamelModel):
    type: Literal["AWS::S3::Bucket"] = "AWS::S3::Bucket"
    id: str


class Snapshot(CamelModel):
    schema_version: str = SNAPSHOT_SCHEMA_VERSION
    resource: ResourceRef
    account_id: str | None = None  # assumed owner: the caller's account
    region: str
    read_at: datetime
    read_by: ReadBy
    config: S3BucketConfig
    # The exemptions granted through the audit API whose seals Discover verified (not config: a
    # plan never reads them, and the plan digest covers the configuration only).
    exemptions: list[ExemptionRecord] = PydanticField(default_factory=list)

    @property
    def bucket(self) -> str:
        return self.resource.id
