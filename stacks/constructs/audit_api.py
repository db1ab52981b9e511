"""REST API (IAM authorization) in front of the API function: start, read, approve audits."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

STAGE = "v1"


class AuditApi(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, handler: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.DESTROY
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name="SecurityAgentApi",
            description="Infrastructure Security Agent: start audits, follow them, approve fixes",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # bodies hold bucket policies; keep them out of logs
                tracing_enabled=True,
                throttling_rate_limit=20,
                throttling_burst_limit=40,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
            endpoint_types=[apigw.EndpointType.REGIONAL],
        )
        integration = apigw.LambdaIntegration(handler, proxy=True)
        audits = self.api.root.add_resource("audits")
        audits.add_method("POST", integration)
        audits.add_method("GET", integration)
        audit = audits.add_resource("{auditId}")
        audit.add_method("GET", integration)
        approval = audit.add_resource("approval")
        approval.add_method("POST", integration)
        approval.add_method("GET", integration)  # what approving a selection would apply
        audit.add_resource("resume").add_method("POST", integration)
        audit.add_resource("rollback").add_method("POST", integration)
        sweeps = self.api.root.add_resource("sweeps")
        sweeps.add_method("POST", integration)
        sweeps.add_method("GET", integration)
        sweep = sweeps.add_resource("{sweepId}")
        sweep.add_method("GET", integration)
        sweep.add_resource("report").add_method("GET", integration)
        sweep.add_resource("findings").add_method("GET", integration)
        sweep.add_resource("audits").add_method("POST", integration)  # a remediate audit of a finding
        exemptions = self.api.root.add_resource("exemptions")
        exemptions.add_method("POST", integration)
        exemptions.add_method("GET", integration)
        exemption = exemptions.add_resource("{exemptionId}")
        exemption.add_resource("approve").add_method("POST", integration)
        exemption.add_resource("revoke").add_method("POST", integration)

        push_logs_policy = (
            "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
        )
        acknowledgements = {
            "AwsSolutions-APIG2": "Requests are validated in the API function (pydantic), which names the "
            "bad field in a JSON 400; API Gateway's validator answers with a generic message.",
            "AwsSolutions-APIG3": "IAM-authorized internal API with throttling; attach a WAF web ACL where "
            "the organisation mandates one.",
            "AwsSolutions-COG4": "IAM (SigV4) authorization on every method; no Cognito user pool by design.",
            f"AwsSolutions-IAM4[Policy::{push_logs_policy}]": "API Gateway's account-level logging role, "
            "as AWS documents it.",
        }
        for rule, reason in acknowledgements.items():
            Validations.of(self.api).acknowledge(Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))

    @property
    def stage(self) -> str:
        return STAGE
