"""The report bucket: private, encrypted, versioned, TLS-only, with access logs and a lifecycle."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_s3 as s3
from constructs import Construct


class ReportStore(Construct):
    """Holds reports/{auditId}.json, approvals/{auditId}.json (pending plans + task token) and
    checkpoints/{auditId}/{step}.json (step outputs, for resuming a failed audit)."""

    REPORTS_PREFIX = "reports/"
    APPROVALS_PREFIX = "approvals/"
    CHECKPOINTS_PREFIX = "checkpoints/"
    LOCKS_PREFIX = "locks/"  # one running audit per resource
    IDEMPOTENCY_PREFIX = "idempotency/"  # answers replayed for a repeated Idempotency-Key

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        private = {
            "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
            "encryption": s3.BucketEncryption.S3_MANAGED,
            "enforce_ssl": True,
            "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # Reports are audit evidence: a stack deletion must not delete them.
            "removal_policy": RemovalPolicy.RETAIN,
        }
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            **{**private, "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_PREFERRED},
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365))],
        )
        Validations.of(access_logs).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="This is the access-log bucket of the report bucket; logging it to itself would loop.",
            )
        )
        self.bucket = s3.Bucket(
            self,
            "Reports",
            **private,
            # Explicit: LocalStack's CloudFormation otherwise leaves an AllUsers READ grant on it.
            access_control=s3.BucketAccessControl.PRIVATE,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="reports-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="age-out-reports",
                    prefix=self.REPORTS_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
                            transition_after=Duration.days(30),
                        )
                    ],
                    expiration=Duration.days(400),
                    noncurrent_version_expiration=Duration.days(30),
                ),
                # A failed audit is resumed within days or not at all.
                s3.LifecycleRule(
                    id="age-out-checkpoints",
                    prefix=self.CHECKPOINTS_PREFIX,
                    expiration=Duration.days(30),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="age-out-idempotency-keys", prefix=self.IDEMPOTENCY_PREFIX, expiration=Duration.days(7)
                ),
                # Approval records hold a task token while pending; decided ones are only history.
                s3.LifecycleRule(
                    id="age-out-approvals",
                    prefix=self.APPROVALS_PREFIX,
                    expiration=Duration.days(30),
                    noncurrent_version_expiration=Duration.days(1),
                ),
            ],
        )
