"""The tools' Lambda functions: one code asset, one dependencies layer, one role per function."""

from __future__ import annotations

import platform
from pathlib import Path

from aws_cdk import Acknowledgment, Duration, IgnoreMode, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.constructs import permissions

ROOT = Path(__file__).resolve().parents[2]
LAYER_DIR = ROOT / ".build" / "layer"
RUNTIME = lambda_.Runtime.PYTHON_3_13
# The layer is built on the host for its architecture (see Makefile), so the functions match it.
ARCHITECTURE = (
    lambda_.Architecture.ARM_64 if platform.machine() in ("aarch64", "arm64") else lambda_.Architecture.X86_64
)


class ToolFunctions(Construct):
    """Creates tool functions that share the code asset (lambdas/ + secagent/) and the layer."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service_name: str,
        environment: dict[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if not (LAYER_DIR / "python").is_dir():
            raise FileNotFoundError(
                f"{LAYER_DIR} is missing: run `make bootstrap` to build the dependencies layer"
            )
        self._service_name = service_name
        self._environment = environment or {}
        # Only the product's code goes into the asset; everything else in the repo is excluded.
        self.code = lambda_.Code.from_asset(
            str(ROOT),
            ignore_mode=IgnoreMode.GLOB,
            exclude=[
                "*",
                "!lambdas",
                "!lambdas/**",
                "!secagent",
                "!secagent/**",
                "**/__pycache__",
                "**/*.pyc",
            ],
        )
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(LAYER_DIR)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Powertools, pydantic, X-Ray SDK (requirements/lambda-layer.txt)",
        )

    def add(
        self,
        name: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        memory_size: int = 256,
        environment: dict[str, str] | None = None,
        role_name: str | None = None,
    ) -> lambda_.Function:
        """A function with its own role and log group; callers grant it only what it uses."""
        log_group = logs.LogGroup(
            self, f"{name}Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{name} tool: only what it uses",
            # Named only where another account's trust policy must name it (the sweep's member role).
            role_name=role_name,
        )
        function = lambda_.Function(
            self,
            name,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=self.code,
            layers=[self.layer],
            role=role,
            timeout=timeout,
            memory_size=memory_size,
            description=description,
            log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": self._service_name,
                "POWERTOOLS_METRICS_NAMESPACE": "SecurityAgent",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **self._environment,
                **(environment or {}),
            },
        )
        log_group.grant_write(role)
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="Actions with no resource-level permissions, for which '*' is the only form AWS "
                "accepts: X-Ray PutTraceSegments/PutTelemetryRecords; the account-level "
                "s3:Get/PutAccountPublicAccessBlock of Discover, Recheck, Verify and Apply; EC2's "
                f"{', '.join(permissions.EC2_CONFIGURATION_READS)} of Discover, Recheck and Verify "
                "(security group discovery) and the API's DescribeSecurityGroups (its preflight); the "
                "sweep's s3:ListAllMyBuckets (ListBuckets) and DescribeSecurityGroups (listing).",
            )
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-L1",
                reason="python3.13 on purpose: it is the runtime the local process executor and the tests "
                "run with (Python 3.13 on the build machines); move with them.",
            )
        )
        return function
