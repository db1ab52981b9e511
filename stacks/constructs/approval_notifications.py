"""'Approval Requested' events also go to an SNS topic (e-mail subscription at deploy time).

The message says which audit, which resource, which plans and how to decide; never the task token,
and never a link that would approve on a GET.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct


class ApprovalNotifications(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, event_bus: events.IEventBus, email: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        # A key of our own: EventBridge may not use the AWS-managed SNS key to publish.
        key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the approval-request notifications",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="Security agent: approval requested",
            master_key=key,
            enforce_ssl=True,
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        rule = events.Rule(
            self,
            "ApprovalRequested",
            description="Tell people when fixes wait for their approval",
            event_bus=event_bus,
            event_pattern=events.EventPattern(source=["secagent"], detail_type=["Approval Requested"]),
        )
        rule.add_target(
            targets.SnsTopic(
                self.topic,
                message=events.RuleTargetInput.from_object(
                    {
                        "subject": "Fixes are waiting for your approval",
                        "auditId": events.EventField.from_path("$.detail.auditId"),
                        "resource": events.EventField.from_path("$.detail.resource"),
                        "plans": events.EventField.from_path("$.detail.plans"),
                        "planDigest": events.EventField.from_path("$.detail.planDigest"),
                        "expiresAt": events.EventField.from_path("$.detail.expiresAt"),
                        "howToDecide": events.EventField.from_path("$.detail.howToDecide"),
                    }
                ),
            )
        )
