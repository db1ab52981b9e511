"""The versioned, JSON-serialisable picture of one resource's configuration.

``Snapshot`` is what every resource type shares (which resource, where, when, read by whom); each
type's snapshot adds its own ``config``: ``BucketSnapshot`` (S3), ``SecurityGroupSnapshot`` (EC2).
``parse_snapshot`` reads a stored one back as its own type.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel
from secagent.models.exemption import ExemptionRecord
from secagent.models.probe import Probe, ResourceConfig
from secagent.models.security_group import SecurityGroupConfig

SNAPSHOT_SCHEMA_VERSION = "1.0"


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


class S3BucketConfig(ResourceConfig):
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


ResourceType = Literal["AWS::S3::Bucket", "AWS::EC2::SecurityGroup"]
BUCKET: ResourceType = "AWS::S3::Bucket"
SECURITY_GROUP: ResourceType = "AWS::EC2::SecurityGroup"


class ResourceRef(CamelModel):
    type: ResourceType = BUCKET
    id: str


class Snapshot(CamelModel):
    schema_version: str = SNAPSHOT_SCHEMA_VERSION
    resource: ResourceRef
    account_id: str | None = None  # assumed owner: the caller's account
    region: str
    read_at: datetime
    read_by: ReadBy
    config: ResourceConfig
    # The exemptions granted through the audit API whose seals Discover verified (not config: a
    # plan never reads them, and the plan digest covers the configuration only).
    exemptions: list[ExemptionRecord] = PydanticField(default_factory=list)

    def unknown_fields(self) -> list[str]:
        return [name for name, probe in self.config if not probe.known]

    def resource_tags(self) -> Probe[dict[str, str]]:
        """The resource's own tags (exemptions may be granted by them)."""
        return Probe(state="unknown", reason="this resource type has no tags")


class BucketSnapshot(Snapshot):
    config: S3BucketConfig

    @property
    def bucket(self) -> str:
        return self.resource.id

    def resource_tags(self) -> Probe[dict[str, str]]:
        return self.config.tags


class SecurityGroupSnapshot(Snapshot):
    config: SecurityGroupConfig

    @property
    def group_id(self) -> str:
        return self.resource.id

    def resource_tags(self) -> Probe[dict[str, str]]:
        group = self.config.group
        if not group.known:
            return Probe(state="unknown", reason=group.reason)
        return Probe(value=group.value.tags if group.value else {})


SNAPSHOT_TYPES: dict[ResourceType, type[Snapshot]] = {
    BUCKET: BucketSnapshot,
    SECURITY_GROUP: SecurityGroupSnapshot,
}


def parse_snapshot(data: Any) -> Snapshot:
    """A stored snapshot as the snapshot of its own resource type (a bucket's when it names none)."""
    if isinstance(data, Snapshot):
        return data
    kind = (data.get("resource") or {}).get("type", BUCKET) if isinstance(data, dict) else BUCKET
    return SNAPSHOT_TYPES.get(kind, BucketSnapshot).model_validate(data)
