"""The SecurityAgent stack: composes the constructs, tags them, holds its outputs."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack, Tags
from constructs import Construct

from stacks.constructs.audit_workflow import AuditWorkflow
from stacks.constructs.tool_functions import ToolFunctions


class AuditStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("project", "infrastructure-security-agent")

        tools = ToolFunctions(self, "Tools", service_name="secagent")
        # Walking skeleton: one tool proving code asset, layer, executor and Step Functions together.
        hello = tools.add(
            "Hello",
            handler="lambdas.skeleton.handler",
            description="Walking skeleton: echoes its input",
            timeout=Duration.seconds(10),
        )
        workflow = AuditWorkflow(
            self, "AuditWorkflow", definition_file="skeleton.asl.json", functions={"HelloFunctionArn": hello}
        )
        CfnOutput(self, "StateMachineArn", value=workflow.state_machine.state_machine_arn)
