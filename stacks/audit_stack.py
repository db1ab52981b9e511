"""The SecurityAgent stack: composes the constructs, grants each function what it uses, outputs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import (
    Acknowledgment,
    ArnFormat,
    Aws,
    CfnOutput,
    Duration,
    RemovalPolicy,
    Stack,
    Tags,
    Validations,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from secagent.api.triggers import IGNORED_ROLES_ENV
from secagent.aws import RECORD_CALLS_ENV
from secagent.checks import registry
from secagent.models import AgentSettings
from secagent.models import sweep as sweeps
from secagent.models.sweep import MAX_ACCOUNTS
from secagent.sweep.accounts import MEMBER_ROLE_NAME, SECURITY_HUB_IMPORT_ENV
from stacks.constructs import permissions
from stacks.constructs.approval_notifications import ApprovalNotifications
from stacks.constructs.audit_api import AuditApi
from stacks.constructs.audit_workflow import AuditWorkflow
from stacks.constructs.cloudtrail_trigger import CloudTrailTrigger
from stacks.constructs.report_store import ReportStore
from stacks.constructs.tool_functions import ToolFunctions
from stacks.member_stack import LISTER_ROLE, SCANNER_ROLE, check_external_id, hub_role_name

STATE_MACHINE_NAME = "SecurityAgentAudit"
SWEEP_STATE_MACHINE_NAME = "SecurityAgentSweep"

# Deploy-time analysis settings: CDK context key -> the tools' environment variable (AgentSettings).
ANALYSIS_CONTEXT = {
    "requireKms": "SECAGENT_REQUIRE_KMS",
    "trustedAccounts": "SECAGENT_TRUSTED_ACCOUNTS",
    "kmsKeyId": "SECAGENT_KMS_KEY_ID",
    "accessLogBucket": "SECAGENT_ACCESS_LOG_BUCKET",
    "disabledChecks": "SECAGENT_DISABLED_CHECKS",
    "exemptions": "SECAGENT_EXEMPTIONS",  # JSON list: -c exemptions='[{"bucket":...,"reason":...}]'
    "authorizedPorts": "SECAGENT_AUTHORIZED_PORTS",  # EC2.18: TCP ports a group may open to the internet
    "narrowIngressCidrIpv4": "SECAGENT_NARROW_INGRESS_CIDR_IPV4",  # fixes narrow 0.0.0.0/0 to it
    "narrowIngressCidrIpv6": "SECAGENT_NARROW_INGRESS_CIDR_IPV6",  # fixes narrow ::/0 to it
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


@dataclass(frozen=True)
class SweepDeploySettings:
    """The sweep's deploy settings (docs/sweep.md): who may be swept, and how the map runs."""

    member_accounts: tuple[str, ...] = ()  # -c memberAccounts=111111111111,222222222222
    external_id: str | None = None  # -c sweepExternalId=...: required with member accounts
    max_concurrency: int = 40  # -c sweepMaxConcurrency: child executions at once
    # -c sweepToleratedFailurePercentage; written as a decimal (LocalStack's parser refuses an integer)
    tolerated_failure_percentage: float = 5.0
    security_hub_import: bool = False  # -c securityHubImport=true: ASFF into Security Hub

    def __post_init__(self) -> None:
        for account in self.member_accounts:
            if not re.fullmatch(r"\d{12}", account):
                raise ValueError(f"memberAccounts: not a 12-digit account id: {account!r}")
        if self.member_accounts:
            check_external_id(self.external_id)
        if len(set(self.member_accounts)) + 1 > MAX_ACCOUNTS:  # with the deployment's own account
            raise ValueError(
                f"memberAccounts: at most {MAX_ACCOUNTS - 1} accounts (a sweep reads at most {MAX_ACCOUNTS})"
            )
        if not 1 <= self.max_concurrency <= 10000:
            raise ValueError("sweepMaxConcurrency must be between 1 and 10000")
        if not 0 <= self.tolerated_failure_percentage <= 100:
            raise ValueError("sweepToleratedFailurePercentage must be between 0 and 100")

    @classmethod
    def from_context(cls, app: Construct) -> SweepDeploySettings:
        def get(key: str) -> str | None:
            value = app.node.try_get_context(key)
            return None if value in (None, "") else str(value)

        return cls(
            member_accounts=tuple(a.strip() for a in (get("memberAccounts") or "").split(",") if a.strip()),
            external_id=get("sweepExternalId"),
            max_concurrency=int(get("sweepMaxConcurrency") or 40),
            tolerated_failure_percentage=float(get("sweepToleratedFailurePercentage") or 5),
            security_hub_import=get("securityHubImport") == "true",
        )


class AuditStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        fault_injection: bool = False,
        record_aws_calls: bool = False,
        trigger_mode: str = "remediate",
        analysis_settings: dict[str, str] | None = None,
        allow_self_approval: bool = False,
        remediation_prefixes: str | None = None,
        approval_email: str | None = None,
        sweep: SweepDeploySettings | None = None,
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
        any_bucket = self.format_arn(service="s3", region="", account="", resource="*")
        own_groups = self.format_arn(service="ec2", resource="security-group", resource_name="*")
        own_group_rules = self.format_arn(service="ec2", resource="security-group-rule", resource_name="*")
        any_prefix_list = self.format_arn(
            service="ec2", account="*", resource="prefix-list", resource_name="*"
        )
        # The product's own bus: nobody else's "Approval Requested" reaches its subscribers.
        bus = events.EventBus(self, "Events", event_bus_name="SecurityAgentEvents")
        # Seals request and decision records (secagent/workflow/store.py): the API generates, tools verify.
        seal_key = kms.Key(
            self,
            "SealKey",
            description="Seals the audit API's request and decision records (HMAC)",
            key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC,
            removal_policy=RemovalPolicy.RETAIN,
        )

        tool_env = {
            "REPORT_BUCKET": bucket.bucket_name,
            "EVENT_BUS_NAME": bus.event_bus_name,
            "SEAL_KEY_ID": seal_key.key_arn,
        }
        if fault_injection:
            tool_env["SECAGENT_FAULT_INJECTION"] = "enabled"
        if record_aws_calls:  # test-only: every AWS call to the log, for the IAM proof
            tool_env[RECORD_CALLS_ENV] = "enabled"
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
            "Recheck", "lambdas.recheck.handler", "Proves the approval and that the plans still fit", 50
        )
        apply = tool("Apply", "lambdas.apply.handler", "Applies exactly the approved plans in order", 110)
        verify = tool("Verify", "lambdas.verify.handler", "Re-reads and re-analyzes after Apply", 80)
        report = tool("Report", "lambdas.report.handler", "Writes the report and announces it", 50)
        api = tool("Api", "lambdas.api.handler", "REST API: start, read and approve audits", 25)
        on_cloudtrail_event = tool(
            "OnCloudTrailEvent",
            "lambdas.on_cloudtrail_event.handler",
            "Starts an audit of the bucket or security group a CloudTrail event names",
            25,
        )
        sweep = sweep or SweepDeploySettings()
        # The sweep's two readers have names: each member account's trust policy names them.
        list_resources = tools.add(
            "ListResources",
            handler="lambdas.list_resources.handler",
            description="Sweep: lists each account's buckets and security groups",
            timeout=Duration.seconds(280),
            role_name=hub_role_name(LISTER_ROLE, self.region),
        )
        scan_resource = tools.add(
            "ScanResource",
            handler="lambdas.scan_resource.handler",
            description="Sweep: Discover + Analyze of one resource in its account",
            timeout=Duration.seconds(55),
            role_name=hub_role_name(SCANNER_ROLE, self.region),
        )
        write_posture_report = tools.add(
            "WritePostureReport",
            handler="lambdas.write_posture_report.handler",
            description="Sweep: the posture report, and the findings as OCSF and ASFF",
            timeout=Duration.seconds(580),
            memory_size=1024,
        )
        members = ",".join(sweep.member_accounts)
        for sweep_tool in (list_resources, scan_resource, write_posture_report):
            sweep_tool.add_environment("DEPLOYMENT_ACCOUNT", Aws.ACCOUNT_ID)
            sweep_tool.add_environment("DEPLOYMENT_PARTITION", Aws.PARTITION)
        for reader in (list_resources, scan_resource):
            if members:
                reader.add_environment(sweeps.MEMBER_ACCOUNTS_ENV, members)
                reader.add_environment("SWEEP_EXTERNAL_ID", sweep.external_id or "")
        if sweep.security_hub_import:
            write_posture_report.add_environment(SECURITY_HUB_IMPORT_ENV, "enabled")
        # Every function that analyzes or (re-)plans must judge alike: before/after, proposal/approval/apply.
        for fn in (analyze, remediate, await_approval, recheck, apply, verify, api, scan_resource):
            for variable, value in (analysis_settings or {}).items():
                fn.add_environment(variable, value)
        protected = ",".join([bucket.bucket_name, store.access_logs.bucket_name])
        for starter in (api, on_cloudtrail_event):
            starter.add_environment("STATE_MACHINE_ARN", machine_arn)
        # The API refuses these buckets up front; Recheck and Apply refuse them again.
        for guard in (api, on_cloudtrail_event, recheck, apply):
            guard.add_environment("PROTECTED_BUCKETS", protected)
            if remediation_prefixes:
                guard.add_environment("REMEDIATION_PREFIXES", remediation_prefixes)
        on_cloudtrail_event.add_environment("TRIGGER_MODE", trigger_mode)
        # A rollback by Apply authorizes rules again: that call must not start an audit revoking them.
        on_cloudtrail_event.add_environment(IGNORED_ROLES_ENV, apply.role.role_arn)  # type: ignore[union-attr]
        if allow_self_approval:  # lab-only: one person may request and approve
            api.add_environment("ALLOW_SELF_APPROVAL", "true")

        def allow(fn: lambda_.Function, actions: list[str], resources: list[str]) -> None:
            fn.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=resources))

        def objects(*patterns: str) -> list[str]:
            return [bucket.arn_for_objects(p) for p in patterns]

        def checkpoint(step: str) -> str:
            return f"{store.CHECKPOINTS_PREFIX}*/{step}.json"

        # Audited buckets are not known at deploy time: the resource is any bucket, the actions are named.
        # Security groups: EC2's Describe* take no resource ("*"); a rule's prefix list may be another
        # account's (shared) or AWS's (arn:...:aws:prefix-list/...), so any owner in this region.
        for reader in (discover, recheck, verify, scan_resource):
            allow(reader, permissions.S3_CONFIGURATION_READS, [any_bucket])
            allow(reader, permissions.ACCOUNT_CONFIGURATION_READS, ["*"])
            allow(reader, permissions.EC2_CONFIGURATION_READS, ["*"])
            allow(reader, permissions.PREFIX_LIST_READS, [any_prefix_list])
        # With a remediation scope, Apply's role itself may write only buckets inside it.
        scoped = [
            self.format_arn(service="s3", region="", account="", resource=f"{prefix.strip()}*")
            for prefix in (remediation_prefixes or "").split(",")
            if prefix.strip()
        ]
        allow(apply, permissions.S3_REMEDIATION_WRITES, scoped or [any_bucket])
        allow(apply, permissions.ACCOUNT_REMEDIATION_WRITES, ["*"])
        # Security groups of the deployment's own account and region; none under a remediation scope
        # (it names buckets: the API and Apply's gate refuse to remediate a group then).
        if not scoped:
            allow(apply, permissions.SECURITY_GROUP_REMEDIATION_WRITES, [own_groups])
            allow(apply, permissions.SECURITY_GROUP_RULE_WRITES, [own_group_rules])
        # Apply never writes the stack's own buckets, CDK's, or a bucket of another account.
        apply.add_to_role_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=permissions.S3_REMEDIATION_WRITES,
                resources=[
                    bucket.bucket_arn,
                    store.access_logs.bucket_arn,
                    self.format_arn(service="s3", region="", account="", resource="cdk-*"),
                ],
            )
        )
        apply.add_to_role_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                actions=permissions.S3_REMEDIATION_WRITES,
                resources=[any_bucket],
                conditions={"StringNotEquals": {"aws:ResourceAccount": Aws.ACCOUNT_ID}},
            )
        )

        # The report bucket, prefix by prefix: who writes, who reads (and the bucket policy denies the rest).
        writes = {
            store.REQUESTS_PREFIX + "*": [api, on_cloudtrail_event],
            store.DECISIONS_PREFIX + "*": [api],
            store.TOKENS_PREFIX + "*": [await_approval],
            store.APPROVALS_PREFIX + "*": [await_approval, api],
            store.LOCKS_PREFIX + "*": [api, on_cloudtrail_event],
            store.IDEMPOTENCY_PREFIX + "*": [api],
            store.EXECUTIONS_PREFIX + "*": [api],
            store.EXEMPTIONS_PREFIX + "*": [api],
            store.REPORTS_PREFIX + "*": [report],
            store.OBSERVATIONS_PREFIX + "*": [report],
            store.DEFERRED_PREFIX + "*": [on_cloudtrail_event],
            sweeps.REQUESTS_PREFIX + "*": [api],
            sweeps.ITEMS_PREFIX + "*": [list_resources],
            sweeps.RESOURCES_PREFIX + "*": [scan_resource],
            sweeps.REPORTS_PREFIX + "*": [write_posture_report],
            checkpoint("discovery"): [discover],
            checkpoint("analysis"): [analyze],
            checkpoint("remediation"): [remediate],
            checkpoint("applied"): [apply],
            checkpoint("verification"): [verify],
            checkpoint("planCheck"): [recheck],
        }
        reads = {
            store.REQUESTS_PREFIX + "*": [
                api,
                discover,
                remediate,
                await_approval,
                recheck,
                apply,
                verify,
                report,
            ],
            store.DECISIONS_PREFIX + "*": [api, await_approval, recheck, apply, report],
            store.TOKENS_PREFIX + "*": [api],
            store.APPROVALS_PREFIX + "*": [api],
            store.LOCKS_PREFIX + "*": [api, on_cloudtrail_event],
            store.IDEMPOTENCY_PREFIX + "*": [api],
            store.EXECUTIONS_PREFIX + "*": [api],
            # Discover and Verify apply a bucket's exemptions alike (before and after the fixes).
            store.EXEMPTIONS_PREFIX + "*": [api, discover, verify],
            store.REPORTS_PREFIX + "*": [api],
            # Since when each finding has been seen so: the next report of the bucket carries it on.
            store.OBSERVATIONS_PREFIX + "*": [report],
            store.DEFERRED_PREFIX + "*": [on_cloudtrail_event],
            sweeps.REQUESTS_PREFIX + "*": [api, list_resources, scan_resource, write_posture_report],
            # Scan Resource judges only an item List Resources wrote (a made-up item reads nothing).
            sweeps.ITEMS_PREFIX + "*": [api, scan_resource, write_posture_report],
            sweeps.RESOURCES_PREFIX + "*": [api, write_posture_report],
            sweeps.REPORTS_PREFIX + "*": [api],
            # Each step reads the stored outputs of the steps before it, not the state (state by reference).
            store.CHECKPOINTS_PREFIX + "*": [api, remediate, await_approval, recheck, apply, report],
            checkpoint("discovery"): [discover, analyze, verify],
            checkpoint("analysis"): [analyze, verify],
            checkpoint("remediation"): [verify],
            checkpoint("applied"): [verify],
            checkpoint("verification"): [verify],
        }
        for pattern, writers in writes.items():
            for fn in writers:
                allow(fn, ["s3:PutObject"], objects(pattern))
            # Versioned bucket: deleting the newest version of a record would restore an older one.
            only_writers = [fn.role for fn in writers]
            store.only(["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], pattern, only_writers)  # type: ignore[arg-type]
        for pattern, readers in reads.items():
            for fn in readers:
                allow(fn, ["s3:GetObject"], objects(pattern))
        store.only(["s3:GetObject", "s3:GetObjectVersion"], store.TOKENS_PREFIX + "*", [api.role])  # type: ignore[list-item]
        users = {fn for fns in (*writes.values(), *reads.values()) for fn in fns}
        readers_of_bucket = {fn for fns in reads.values() for fn in fns}
        writers_of_bucket = {fn for fns in writes.values() for fn in fns}
        for fn in readers_of_bucket:
            # Without ListBucket, S3 answers a missing object with AccessDenied instead of NoSuchKey.
            allow(fn, ["s3:ListBucket"], [bucket.bucket_arn])
            allow(fn, ["kms:Decrypt"], [store.key.key_arn])  # SSE-KMS objects
        for fn in writers_of_bucket:
            allow(fn, ["kms:GenerateDataKey"], [store.key.key_arn])  # S3 encrypts each new object
        allow(api, ["kms:GenerateMac", "kms:VerifyMac"], [seal_key.key_arn])
        allow(on_cloudtrail_event, ["kms:GenerateMac"], [seal_key.key_arn])
        sweep_tools = (list_resources, scan_resource, write_posture_report)
        for verifier in (discover, remediate, await_approval, recheck, apply, verify, report, *sweep_tools):
            allow(verifier, ["kms:VerifyMac"], [seal_key.key_arn])
        # The key policy too: no other principal of the account may make a seal, whatever IAM grants it.
        sealers = [api.role.role_arn, on_cloudtrail_event.role.role_arn]  # type: ignore[union-attr]
        seal_key.add_to_resource_policy(
            iam.PolicyStatement(
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["kms:GenerateMac"],
                resources=["*"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": sealers}},
            )
        )

        # Each tool confirms its audit's running execution scheduled it (secagent/workflow/invocation.py).
        steps = (discover, analyze, remediate, await_approval, recheck, apply, verify, report)
        for step in steps:
            allow(step, ["states:DescribeExecution", "states:GetExecutionHistory"], [executions_arn])
        for publisher in (await_approval, report):
            allow(publisher, ["events:PutEvents"], [bus.event_bus_arn])
        # A resume of an audit already decided: Await Approval wakes itself with the sealed decision.
        allow(await_approval, ["states:SendTaskSuccess"], [machine_arn])
        for starter in (api, on_cloudtrail_event):
            allow(starter, ["states:StartExecution"], [machine_arn])
            allow(starter, ["states:DescribeExecution"], [executions_arn])
        allow(api, ["states:SendTaskSuccess"], [machine_arn])
        allow(api, ["states:GetExecutionHistory"], [executions_arn])
        allow(api, ["states:ListExecutions"], [machine_arn])
        # POST /audits answers 404/403 for a missing or unreadable bucket or group before starting
        # anything (secagent/api/preflight.py): the region is all s3:GetBucketLocation reveals.
        allow(api, ["s3:GetBucketLocation"], [any_bucket])
        allow(api, permissions.SECURITY_GROUP_PREFLIGHT_READS, ["*"])

        # The sweep (docs/sweep.md): read-only everywhere. Its own account with its own roles...
        sweep_machine_arn = self.format_arn(
            service="states",
            resource="stateMachine",
            resource_name=SWEEP_STATE_MACHINE_NAME,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        sweep_executions, sweep_children = (
            self.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{SWEEP_STATE_MACHINE_NAME}{separator}*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for separator in (":", "/")  # the sweep's executions; its Distributed Map's children
        )
        sweep_map_runs = self.format_arn(
            service="states",
            resource="mapRun",
            resource_name=f"{SWEEP_STATE_MACHINE_NAME}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # List Resources and Write Posture Report confirm the sweep's running execution called them.
        for confirmer in (list_resources, write_posture_report):
            allow(confirmer, ["states:DescribeExecution"], [sweep_executions])
        allow(list_resources, ["s3:ListAllMyBuckets"], ["*"])
        allow(list_resources, permissions.SECURITY_GROUP_PREFLIGHT_READS, ["*"])
        # ... every member account through its read-only role, with the external id.
        member_roles = [
            f"arn:{Aws.PARTITION}:iam::{account}:role/{MEMBER_ROLE_NAME}" for account in sweep.member_accounts
        ]
        if member_roles:
            for reader in (list_resources, scan_resource):
                allow(reader, ["sts:AssumeRole"], member_roles)
        if sweep.security_hub_import:
            allow(
                write_posture_report,
                ["securityhub:BatchImportFindings"],
                [
                    self.format_arn(
                        service="securityhub", resource="product", resource_name=f"{Aws.ACCOUNT_ID}/default"
                    )
                ],
            )
        allow(api, ["states:StartExecution", "states:ListExecutions"], [sweep_machine_arn])
        allow(api, ["states:DescribeExecution", "states:ListMapRuns"], [sweep_executions])
        allow(api, ["states:DescribeMapRun"], [sweep_map_runs])
        for fn in (api, list_resources, write_posture_report):
            fn.add_environment("SWEEP_STATE_MACHINE_ARN", sweep_machine_arn)
        if members:
            api.add_environment(sweeps.MEMBER_ACCOUNTS_ENV, members)

        # cdk-nag: each wildcard resource above is acknowledged once per role, with its reason.
        bucket_id = self.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
        executions_finding = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:" + (
            f"{STATE_MACHINE_NAME}:*"
        )
        why_any_bucket = (
            "The audited bucket is named at run time (by the caller or a CloudTrail event); "
            "the actions are listed one by one in stacks/constructs/permissions.py."
        )
        why_prefix = "Object keys are one per audit id under a fixed prefix of the report bucket."
        why_executions = "Executions of this one state machine; their names (audit ids) are made at run time."
        for fn in users:
            findings = {
                f"<{bucket_id}.Arn>/{pattern}": why_prefix
                for pattern, fns in (*writes.items(), *reads.items())
                if fn in fns
            }
            if fn in (discover, recheck, verify, apply, api, scan_resource):
                findings["arn:<AWS::Partition>:s3:::*"] = why_any_bucket
            if fn is apply:
                for prefix in (remediation_prefixes or "").split(","):
                    if prefix.strip():
                        findings[f"arn:<AWS::Partition>:s3:::{prefix.strip()}*"] = (
                            "The deployment's remediation scope: any bucket whose name starts with it."
                        )
            if fn in (*steps, api, on_cloudtrail_event):
                findings[executions_finding] = why_executions
            sweep_execution = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:"
            if fn in (api, list_resources, write_posture_report):
                findings[f"{sweep_execution}execution:{SWEEP_STATE_MACHINE_NAME}:*"] = (
                    "Executions of the sweep state machine; their names (sweep ids) are made at run time."
                )
            if fn is api:
                findings[f"{sweep_execution}mapRun:{SWEEP_STATE_MACHINE_NAME}/*"] = (
                    "The sweep's Distributed Map runs, named by Step Functions at run time (progress)."
                )
            if fn in (discover, recheck, verify, scan_resource):
                findings["arn:<AWS::Partition>:ec2:<AWS::Region>:*:prefix-list/*"] = (
                    "A security group rule's prefix list is named at run time and may be AWS's "
                    "(account 'aws') or shared by another account: any prefix list of this region; "
                    "the only action is ec2:GetManagedPrefixListEntries."
                )
            if fn is apply and not scoped:
                for kind in ("security-group", "security-group-rule"):
                    findings[f"arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:{kind}/*"] = (
                        "The audited security group (and its rules) is named at run time: any of the "
                        "deployment's own account and region; the actions are listed one by one in "
                        "stacks/constructs/permissions.py."
                    )
            for resource, reason in findings.items():
                kind = "Action" if resource.startswith("Action::") else "Resource"
                finding = resource if kind == "Action" else f"Resource::{resource}"
                Validations.of(fn.role).acknowledge(  # type: ignore[arg-type]
                    Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
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
        sweep_workflow = AuditWorkflow(
            self,
            "SweepWorkflow",
            state_machine_name=SWEEP_STATE_MACHINE_NAME,
            definition_file="sweep.asl.json",
            functions={
                "ListResourcesFunctionArn": list_resources,
                "ScanResourceFunctionArn": scan_resource,
                "WritePostureReportFunctionArn": write_posture_report,
            },
            substitutions={"ReportBucket": bucket.bucket_name},
            state_fields={
                "Scan Each Resource": {
                    "MaxConcurrency": sweep.max_concurrency,
                    "ToleratedFailurePercentage": float(sweep.tolerated_failure_percentage),
                }
            },
        )
        # The Distributed Map: it starts and stops its child executions, reads the items List
        # Resources wrote and writes the children's answers (ResultWriter), encrypted with the key.
        sweep_role = sweep_workflow.state_machine.role
        sweep_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[sweep_machine_arn])
        )
        sweep_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"], resources=[sweep_children]
            )
        )
        sweep_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=objects(sweeps.ITEMS_PREFIX + "*"))
        )
        sweep_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                resources=objects(sweeps.RESULTS_PREFIX + "*"),
            )
        )
        sweep_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[store.key.key_arn])
        )
        store.only(
            ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
            sweeps.RESULTS_PREFIX + "*",
            [sweep_role],
        )
        sweep_finding = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
        for resource, reason in {
            f"{sweep_finding}{SWEEP_STATE_MACHINE_NAME}/*": "The Distributed Map's child executions, named "
            "by Step Functions at run time.",
            f"<{bucket_id}.Arn>/{sweeps.ITEMS_PREFIX}*": "The map's items, one file per sweep id.",
            f"<{bucket_id}.Arn>/{sweeps.RESULTS_PREFIX}*": "The map's ResultWriter output, per map run.",
        }.items():
            Validations.of(sweep_role).acknowledge(  # type: ignore[arg-type]
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", reason=reason)
            )
        rest = AuditApi(self, "AuditApi", handler=api)
        CloudTrailTrigger(self, "CloudTrailTrigger", handler=on_cloudtrail_event, event_bus=bus)
        notifications = ApprovalNotifications(
            self, "ApprovalNotifications", event_bus=bus, email=approval_email
        )

        CfnOutput(self, "ApiId", value=rest.api.rest_api_id)
        CfnOutput(self, "ApiStage", value=rest.stage)
        CfnOutput(self, "ApiUrl", value=rest.api.url)
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
        CfnOutput(self, "SweepStateMachineArn", value=sweep_workflow.state_machine.state_machine_arn)
        CfnOutput(self, "ReportBucketName", value=bucket.bucket_name)
        CfnOutput(self, "AccessLogBucketName", value=store.access_logs.bucket_name)
        CfnOutput(self, "SealKeyArn", value=seal_key.key_arn)
        CfnOutput(self, "EventBusName", value=bus.event_bus_name)
        CfnOutput(self, "TriggerFunctionName", value=on_cloudtrail_event.function_name)
        CfnOutput(self, "ApprovalTopicArn", value=notifications.topic.topic_arn)
        for name, fn in (("Discover", discover), ("Apply", apply), ("Api", api), ("Report", report)):
            CfnOutput(self, f"{name}FunctionName", value=fn.function_name)
