"""The SecurityAgent stack: composes the constructs, grants each function what it uses, outputs."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, CfnOutput, Duration, Stack, Tags, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from secagent.checks import registry
from secagent.models import AgentSettings
from stacks.constructs import permissions
from stacks.constructs.approval_notifications import ApprovalNotifications
from stacks.constructs.audit_api import AuditApi
from stacks.constructs.audit_workflow import AuditWorkflow
from stacks.constructs.bucket_created_trigger import BucketCreatedTrigger
from stacks.constructs.report_store import ReportStore
from stacks.constructs.tool_functions import ToolFunctions

STATE_MACHINE_NAME = "SecurityAgentAudit"

# Deploy-time analysis settings: CDK context key -> the tools' environment variable (AgentSettings).
ANALYSIS_CONTEXT = {
    "requireKms": "SECAGENT_REQUIRE_KMS",
    "trustedAccounts": "SECAGENT_TRUSTED_ACCOUNTS",
    "kmsKeyId": "SECAGENT_KMS_KEY_ID",
    "accessLogBucket": "SECAGENT_ACCESS_LOG_BUCKET",
    "disabledChecks": "SECAGENT_DISABLED_CHECKS",
    "exemptions": "SECAGENT_EXEMPTIONS",  # JSON list: -c exemptions='[{"bucket":...,"reason":...}]'
}


def analysis_settings_from_context(app: Construct) -> dict[str, str]:
    """`cdk deploy -c disabledChecks=a,b -c requireKms=true ...`, validated at synth time."""
    env = {
        variable: str(value)
        for key, variable in ANALYSIS_CONTEXT.items()
        if (value := app.node.try_get_context(key)) not in (None, "")
    }
    settings = AgentSettings.from_env(env)  # raises on a malformed value
    if unknown := sorted(settings.disabled_checks - set(registry())):
        raise ValueError(f"disabledChecks names checks that do not exist: {', '.join(unknown)}")
    if unknown := sorted(settings.exempt_check_ids() - set(registry())):
        raise ValueError(f"exemptions name checks that do not exist: {', '.join(unknown)}")
    return env


class AuditStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fault_injection: bool = False,
        trigger_mode: str = "remediate",
        analysis_settings: dict[str, str] | None = None,
        forbid_self_approval: bool = False,
        approval_email: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", "infrastructure-security-agent")

        store = ReportStore(self, "ReportStore")
        bucket = store.bucket
        # Built from the name, not the resource: functions the machine invokes may read its history.
        machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=STATE_MACHINE_NAME,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        executions_arn = self.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{STATE_MACHINE_NAME}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        default_bus_arn = self.format_arn(service="events", resource="event-bus", resource_name="default")
        any_bucket = self.format_arn(service="s3", region="", account="", resource="*")

        tool_env = {"REPORT_BUCKET": bucket.bucket_name, "EVENT_BUS_NAME": "default"}
        if fault_injection:
            tool_env["SECAGENT_FAULT_INJECTION"] = "enabled"
        tools = ToolFunctions(self, "Tools", service_name="secagent", environment=tool_env)

        def tool(name: str, handler: str, description: str, timeout: int) -> lambda_.Function:
            return tools.add(
                name, handler=handler, description=description, timeout=Duration.seconds(timeout)
            )

        discover = tool("Discover", "lambdas.discover.handler", "Reads an S3 bucket's configuration", 50)
        analyze = tool("Analyze", "lambdas.analyze.handler", "Runs the check registry on a snapshot", 50)
        remediate = tool("Remediate", "lambdas.remediate.handler", "Plans the fix of each failing check", 50)
        await_approval = tool(
            "AwaitApproval", "lambdas.await_approval.handler", "Stores pending plans and the task token", 30
        )
        recheck = tool(
            "Recheck", "lambdas.recheck.handler", "Checks the approved plans still fit the configuration", 50
        )
        apply = tool("Apply", "lambdas.apply.handler", "Applies approved plans in order", 110)
        verify = tool("Verify", "lambdas.verify.handler", "Re-reads and re-analyzes after Apply", 80)
        # Analyze and Verify must judge alike; Remediate needs the KMS key / log bucket choices.
        for fn in (analyze, remediate, verify):
            for variable, value in (analysis_settings or {}).items():
                fn.add_environment(variable, value)
        report = tool("Report", "lambdas.report.handler", "Writes the report and announces it", 50)
        api = tool("Api", "lambdas.api.handler", "REST API: start, read and approve audits", 25)
        api.add_environment("STATE_MACHINE_ARN", machine_arn)
        on_bucket_created = tool(
            "OnBucketCreated", "lambdas.on_bucket_created.handler", "Starts an audit of each new bucket", 25
        )
        on_bucket_created.add_environment("STATE_MACHINE_ARN", machine_arn)
        on_bucket_created.add_environment("TRIGGER_MODE", trigger_mode)
        if forbid_self_approval:  # four-eyes: who started an audit may not approve it
            api.add_environment("FORBID_SELF_APPROVAL", "true")

        def allow(fn: lambda_.Function, actions: list[str], resources: list[str]) -> None:
            fn.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))

        # Audited buckets are not known at deploy time: the resource is any bucket, the actions are named.
        for reader in (discover, recheck, verify):
            allow(reader, permissions.S3_CONFIGURATION_READS, [any_bucket])
            allow(reader, permissions.ACCOUNT_CONFIGURATION_READS, ["*"])
        allow(apply, permissions.S3_REMEDIATION_WRITES, [any_bucket])
        allow(apply, permissions.ACCOUNT_REMEDIATION_WRITES, ["*"])
        allow(await_approval, ["s3:PutObject"], [bucket.arn_for_objects(f"{store.APPROVALS_PREFIX}*")])
        allow(report, ["s3:PutObject"], [bucket.arn_for_objects(f"{store.REPORTS_PREFIX}*")])
        allow(report, ["states:GetExecutionHistory"], [executions_arn])
        checkpoints = bucket.arn_for_objects(f"{store.CHECKPOINTS_PREFIX}*")
        for step in (discover, analyze, remediate, apply, verify):
            allow(step, ["s3:PutObject"], [checkpoints])
        for publisher in (await_approval, report):
            allow(publisher, ["events:PutEvents"], [default_bus_arn])
        locks = bucket.arn_for_objects(f"{store.LOCKS_PREFIX}*")
        for starter in (api, on_bucket_created):
            allow(starter, ["states:StartExecution"], [machine_arn])
            allow(starter, ["states:DescribeExecution"], [executions_arn])
            # One running audit per resource: a lock object, written conditionally.
            allow(starter, ["s3:GetObject", "s3:PutObject"], [locks])
            allow(starter, ["s3:ListBucket"], [bucket.bucket_arn])
        allow(
            api,
            ["s3:GetObject", "s3:PutObject"],
            [bucket.arn_for_objects(f"{store.IDEMPOTENCY_PREFIX}*")],
        )
        allow(api, ["states:SendTaskSuccess", "states:SendTaskFailure"], [machine_arn])
        allow(api, ["states:GetExecutionHistory"], [executions_arn])
        allow(
            api,
            ["s3:GetObject"],
            [
                bucket.arn_for_objects(f"{p}*")
                for p in (store.REPORTS_PREFIX, store.APPROVALS_PREFIX, store.CHECKPOINTS_PREFIX)
            ],
        )
        # Approval records, and the approval's checkpoint for a resume.
        allow(
            api,
            ["s3:PutObject"],
            [bucket.arn_for_objects(f"{p}*") for p in (store.APPROVALS_PREFIX, store.CHECKPOINTS_PREFIX)],
        )
        # (ListBucket, above: without it S3 answers a missing object with AccessDenied, not NoSuchKey.)
        # cdk-nag: each wildcard resource above is acknowledged once per role, with its reason.
        bucket_id = self.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
        executions_finding = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:" + (
            f"{STATE_MACHINE_NAME}:*"
        )
        why_any_bucket = (
            "The audited bucket is named at run time (by the caller or the CreateBucket event); "
            "the actions are listed one by one in stacks/constructs/permissions.py."
        )
        why_prefix = "Object keys are one per audit id under a fixed prefix of the report bucket."
        why_executions = "Executions of this one state machine; their names (audit ids) are made at run time."
        checkpoints_finding = f"<{bucket_id}.Arn>/{store.CHECKPOINTS_PREFIX}*"
        why_checkpoints = "One checkpoint object per audit id and step under the checkpoints/ prefix."
        acknowledgements = {
            discover: {"arn:<AWS::Partition>:s3:::*": why_any_bucket, checkpoints_finding: why_checkpoints},
            analyze: {checkpoints_finding: why_checkpoints},
            remediate: {checkpoints_finding: why_checkpoints},
            verify: {"arn:<AWS::Partition>:s3:::*": why_any_bucket, checkpoints_finding: why_checkpoints},
            recheck: {"arn:<AWS::Partition>:s3:::*": why_any_bucket},
            apply: {"arn:<AWS::Partition>:s3:::*": why_any_bucket, checkpoints_finding: why_checkpoints},
            await_approval: {f"<{bucket_id}.Arn>/{store.APPROVALS_PREFIX}*": why_prefix},
            report: {
                f"<{bucket_id}.Arn>/{store.REPORTS_PREFIX}*": why_prefix,
                executions_finding: why_executions,
            },
            on_bucket_created: {
                f"<{bucket_id}.Arn>/{store.LOCKS_PREFIX}*": why_prefix,
                executions_finding: why_executions,
            },
            api: {
                f"<{bucket_id}.Arn>/{store.LOCKS_PREFIX}*": why_prefix,
                f"<{bucket_id}.Arn>/{store.IDEMPOTENCY_PREFIX}*": why_prefix,
                f"<{bucket_id}.Arn>/{store.APPROVALS_PREFIX}*": why_prefix,
                f"<{bucket_id}.Arn>/{store.REPORTS_PREFIX}*": why_prefix,
                checkpoints_finding: why_checkpoints,
                executions_finding: why_executions,
            },
        }
        for fn, findings in acknowledgements.items():
            for resource, reason in findings.items():
                Validations.of(fn.role).acknowledge(  # type: ignore[arg-type]
                    Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
                )

        workflow = AuditWorkflow(
            self,
            "AuditWorkflow",
            state_machine_name=STATE_MACHINE_NAME,
            definition_file="audit.asl.json",
            functions={
                "DiscoverFunctionArn": discover,
                "AnalyzeFunctionArn": analyze,
                "RemediateFunctionArn": remediate,
                "AwaitApprovalFunctionArn": await_approval,
                "RecheckFunctionArn": recheck,
                "ApplyFunctionArn": apply,
                "VerifyFunctionArn": verify,
                "ReportFunctionArn": report,
            },
        )
        rest = AuditApi(self, "AuditApi", handler=api)
        BucketCreatedTrigger(self, "BucketCreatedTrigger", handler=on_bucket_created)
        notifications = ApprovalNotifications(self, "ApprovalNotifications", email=approval_email)

        CfnOutput(self, "ApiId", value=rest.api.rest_api_id)
        CfnOutput(self, "ApiStage", value=rest.stage)
        CfnOutput(self, "ApiUrl", value=rest.api.url)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "ReportBucketName", value=bucket.bucket_name)
        CfnOutput(self, "BucketCreatedFunctionName", value=on_bucket_created.function_name)
        CfnOutput(self, "ApprovalTopicArn", value=notifications.topic.topic_arn)
