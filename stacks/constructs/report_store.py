"""The report bucket: private, encrypted, versioned, TLS-only, with access logs and a lifecycle."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from secagent.api.triggers import DEFERRED_PREFIX


class ReportStore(Construct):
    """The report bucket (layout: secagent/workflow/store.py): reports, the records the approval
    gate trusts (requests, decisions, the task token), pending approvals and step checkpoints.

    Encrypted with a customer-managed key; every prefix has its writers, and the bucket policy
    denies everyone else (``only``), so a principal with a broad s3:PutObject cannot plant a
    decision or a checkpoint, and only the API's role can read a task token.
    """

    REPORTS_PREFIX = "reports/"
    APPROVALS_PREFIX = "approvals/"
    CHECKPOINTS_PREFIX = "checkpoints/"
    LOCKS_PREFIX = "locks/"  # one running audit per resource
    IDEMPOTENCY_PREFIX = "idempotency/"  # answers replayed for a repeated Idempotency-Key
    REQUESTS_PREFIX = "requests/"  # sealed audit requests
    EXECUTIONS_PREFIX = "executions/"  # per audit, the executions the API started (its resumes)
    DECISIONS_PREFIX = "decisions/"  # sealed decisions, written once
    TOKENS_PREFIX = "tokens/"  # task tokens: the API's role alone reads them
    EXEMPTIONS_PREFIX = "exemptions/"  # sealed exemptions a person granted through the API
    DEFERRED_PREFIX = DEFERRED_PREFIX  # CloudTrail events kept while their resource's audit runs
    OBSERVATIONS_PREFIX = "observations/"  # per bucket: since when each finding has been seen so

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "ReportKey",
            description="Encrypts the security agent's reports, decisions, tokens and checkpoints",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
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
        self.access_logs = access_logs
        self.bucket = s3.Bucket(
            self,
            "Reports",
            **{**private, "encryption": s3.BucketEncryption.KMS},
            encryption_key=self.key,
            bucket_key_enabled=True,
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
                s3.LifecycleRule(
                    id="age-out-approvals",
                    prefix=self.APPROVALS_PREFIX,
                    expiration=Duration.days(30),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                # A token is dead once its task ends (at most 7 days of approval wait).
                s3.LifecycleRule(
                    id="age-out-tokens",
                    prefix=self.TOKENS_PREFIX,
                    expiration=Duration.days(8),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                # Requests and decisions are audit evidence, kept as long as reports (and with them,
                # the record of each audit's executions).
                *(
                    s3.LifecycleRule(
                        id=f"age-out-{prefix.rstrip('/')}", prefix=prefix, expiration=Duration.days(400)
                    )
                    for prefix in (self.REQUESTS_PREFIX, self.DECISIONS_PREFIX, self.EXECUTIONS_PREFIX)
                ),
            ],
        )

    def only(self, actions: list[str], key_pattern: str, principals: list[iam.IRole]) -> None:
        """Deny ``actions`` on ``key_pattern`` to every principal but ``principals`` (explicit Deny)."""
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=actions,
                resources=[self.bucket.arn_for_objects(key_pattern)],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": [p.role_arn for p in principals]}},
            )
        )
