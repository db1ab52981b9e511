"""EventBridge rule: a CloudTrail CreateBucket starts an audit of the new bucket, once per event.

The target is a small function, not the state machine itself: EventBridge cannot name an
execution, and the name derived from the event id is what makes a redelivery start nothing.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class BucketCreatedTrigger(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, handler: lambda_.IFunction) -> None:
        super().__init__(scope, construct_id)
        # Deliveries that fail after EventBridge's retries land here instead of being lost.
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            enforce_ssl=True,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
        )
        Validations.of(self.dead_letters).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-SQS3",
                reason="This queue is itself the dead-letter queue of the rule's target.",
            )
        )
        self.rule = events.Rule(
            self,
            "Rule",
            description="Audit every new S3 bucket (CloudTrail CreateBucket)",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["AWS API Call via CloudTrail"],
                # A refused CreateBucket (BucketAlreadyExists, AccessDenied) created nothing to audit.
                detail={
                    "eventSource": ["s3.amazonaws.com"],
                    "eventName": ["CreateBucket"],
                    "errorCode": [{"exists": False}],
                },
            ),
        )
        self.rule.add_target(
            targets.LambdaFunction(
                handler,
                dead_letter_queue=self.dead_letters,
                retry_attempts=8,
                max_event_age=Duration.hours(2),
            )
        )
