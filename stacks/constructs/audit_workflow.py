"""The Standard state machine: its ASL is the file in statemachine/, as the console shows it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

STATEMACHINE_DIR = Path(__file__).resolve().parents[2] / "statemachine"


class AuditWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_machine_name: str | None = None,
        definition_file: str,
        functions: dict[str, lambda_.IFunction],
        substitutions: dict[str, str] | None = None,
        state_fields: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """`functions` maps an ASL substitution name (e.g. DiscoverFunctionArn) to the function it names;
        `state_fields` sets fields of named states (deploy settings such as a Map's MaxConcurrency,
        which are numbers: a `${...}` substitution would leave the file invalid JSON)."""
        super().__init__(scope, construct_id)
        self.definition_path = STATEMACHINE_DIR / definition_file
        self.substitution_names = sorted([*functions, *(substitutions or {})])
        log_group = logs.LogGroup(
            self,
            "ExecutionLogs",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=self._definition(state_fields or {}),
            definition_substitutions={
                **{name: fn.function_arn for name, fn in functions.items()},
                **(substitutions or {}),
            },
            # Execution data stays out of the logs: it holds bucket policies and plans.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            tracing_enabled=True,
        )
        # Exactly the functions the ASL names, unqualified ARNs only (grant_invoke would add ':*').
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[fn.function_arn for fn in functions.values()],
            )
        )
        Validations.of(self.state_machine).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="Added by CDK for X-Ray tracing (xray:PutTraceSegments...) and CloudWatch Logs "
                "delivery (logs:CreateLogDelivery...): these actions support no resource-level permissions.",
            )
        )

    def _definition(self, state_fields: dict[str, dict[str, Any]]) -> sfn.DefinitionBody:
        if not state_fields:
            return sfn.DefinitionBody.from_file(str(self.definition_path))
        definition = json.loads(self.definition_path.read_text(encoding="utf-8"))
        for name, fields in state_fields.items():
            definition["States"][name].update(fields)  # KeyError: a state the file does not have
        return sfn.DefinitionBody.from_string(json.dumps(definition, indent=2))
