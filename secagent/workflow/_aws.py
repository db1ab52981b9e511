"""The two writes every workflow tool makes: a JSON object to the report bucket, an EventBridge event.

Both go through execute_api_call so that AWS errors arrive as the typed errors Retry/Catch match.
"""

import json
from typing import Any

from secagent.aws import ClientFactory
from secagent.models.errors import TransientError
from secagent.models.plans import ApiCall
from secagent.remediation.apply import execute_api_call
from secagent.workflow.store import write_object

EVENT_SOURCE = "secagent"


def put_json(bucket: str, key: str, body: dict[str, Any], clients: ClientFactory) -> None:
    """Write ``body`` as JSON, encrypted by the bucket's default (its customer-managed KMS key)."""
    write_object(bucket, key, body, clients)


def put_event(detail_type: str, detail: dict[str, Any], event_bus: str, clients: ClientFactory) -> None:
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps(detail),
        "EventBusName": event_bus,
    }
    call = ApiCall(service="events", operation="PutEvents", parameters={"Entries": [entry]})
    response = execute_api_call(call, clients=clients)
    if response.get("FailedEntryCount"):
        # PutEvents answers 200 with per-entry errors (throttling, internal): worth a retry.
        failed = response["Entries"][0]
        raise TransientError(f"events:PutEvents rejected {detail_type!r}: {failed.get('ErrorCode')}")
