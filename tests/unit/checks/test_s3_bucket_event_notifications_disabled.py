import pytest

from secagent.models import Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_event_notifications_disabled"
QUEUE = {"QueueArn": "arn:aws:sqs:us-east-1:111122223333:q", "Events": ["s3:ObjectRemoved:*"]}


def test_event_notifications_eventbridge_passes() -> None:
    finding = run(CHECK, snapshot())  # hardened: delivery to EventBridge
    assert finding.status is Status.PASS and finding.evidence["destinations"] == ["EventBridgeConfiguration"]


@pytest.mark.parametrize(
    "key", ["QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"]
)
def test_event_notifications_any_destination_passes(key: str) -> None:
    assert run(CHECK, snapshot(notifications=Probe(value={key: [QUEUE]}))).status is Status.PASS


@pytest.mark.parametrize("config", [None, {}, {"QueueConfigurations": []}])
def test_event_notifications_none_fails_s3_11_with_no_fix(config: dict | None) -> None:
    finding = run(CHECK, snapshot(notifications=Probe(value=config)))
    assert finding.status is Status.FAIL and finding.controls == ["FSBP:S3.11"]


def test_event_notifications_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(notifications=unknown_probe())).status is Status.UNKNOWN
