"""EventBridge rules: each CloudTrail call of secagent.api.triggers.AUDIT_TRIGGERS that succeeded
(CreateBucket, CreateSecurityGroup, AuthorizeSecurityGroupIngress) starts one audit of the resource
it names, once per event.

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

from secagent.api.triggers import AUDIT_COMPLETED, AUDIT_TRIGGERS, CLOUDTRAIL_DETAIL_TYPE
from secagent.workflow._aws import EVENT_SOURCE


class CloudTrailTrigger(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, handler: lambda_.IFunction, event_bus: events.IEventBus
    ) -> None:
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
                reason="This queue is itself the dead-letter queue of the rules' target.",
            )
        )
        # One rule per event source (a pattern matches one eventSource), naming its calls.
        calls: dict[tuple[str, str], list[str]] = {}
        for trigger in AUDIT_TRIGGERS:
            calls.setdefault((trigger.source, trigger.event_source), []).append(trigger.event_name)
        self.rules: list[events.Rule] = []
        for (source, event_source), names in calls.items():
            rule = events.Rule(
                self,
                f"{source.removeprefix('aws.').upper()}Rule",
                description=f"Audit the resource of each successful {', '.join(names)} (CloudTrail)",
                event_pattern=events.EventPattern(
                    source=[source],
                    detail_type=[CLOUDTRAIL_DETAIL_TYPE],
                    # A refused call (AccessDenied, BucketAlreadyExists, InvalidGroup.Duplicate)
                    # created or opened nothing to audit.
                    detail={
                        "eventSource": [event_source],
                        "eventName": names,
                        "errorCode": [{"exists": False}],
                    },
                ),
            )
            rule.add_target(self._target(handler))
            self.rules.append(rule)
        # An event kept while its resource's audit ran is started when that audit completes.
        completed = events.Rule(
            self,
            "AuditCompletedRule",
            description="Audit a resource again for the CloudTrail event kept while its audit ran",
            event_bus=event_bus,
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[AUDIT_COMPLETED]),
        )
        completed.add_target(self._target(handler))
        self.rules.append(completed)

    def _target(self, handler: lambda_.IFunction) -> targets.LambdaFunction:
        return targets.LambdaFunction(
            handler, dead_letter_queue=self.dead_letters, retry_attempts=8, max_event_age=Duration.hours(2)
        )
