"""No event notifications are configured (FSBP S3.11).

Config rule s3-event-notifications-enabled: NON_COMPLIANT when the bucket sends no event
notification (SNS topic, SQS queue, Lambda function). Delivery to EventBridge counts: it is
S3's event notification to EventBridge, from which any target can subscribe.
"""

from secagent.checks.base import Result, failed, passed
from secagent.models.findings import CheckMeta, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_event_notifications_disabled",
    title="Bucket sends no event notifications",
    severity=Severity.MEDIUM,
    rationale="Without event notifications nobody hears of object creations and deletions (an unexpected "
    "mass delete, a file dropped into a landing bucket) until someone looks.",
    controls=["FSBP:S3.11"],
    remediation_id="s3.configure_event_notifications",
    requires=["notifications"],
)
TARGETS = (
    "TopicConfigurations",
    "QueueConfigurations",
    "LambdaFunctionConfigurations",
    "EventBridgeConfiguration",
)


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    config = snapshot.config.notifications.value or {}
    targets = [key for key in TARGETS if key in config and (config[key] or key == "EventBridgeConfiguration")]
    return passed(destinations=targets) if targets else failed(remediable=False, destinations=[])
