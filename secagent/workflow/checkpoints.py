"""Checkpoints: each step's full output, stored; the state carries a summary (secagent.models.state).

`checkpoints/{auditId}/{name}.json` in the report bucket, where `name` is the state path the step
writes (`discovery`, `analysis`, ...), each written only by the role of its step. The next steps
read it from there, never from the state. A resumed execution runs every step again; each tool
first looks for its own checkpoint and returns it instead of working (load-or-compute, keyed by
audit and step). Nothing travels in the input.
"""

from __future__ import annotations

import json
from typing import Any

from secagent.aws import ClientFactory
from secagent.workflow.store import read_object, write_object

PREFIX = "checkpoints/"
# Checkpoint name (the state path it restores) -> the step it stands for, in workflow order.
STEPS: dict[str, str] = {
    "discovery": "Discover Bucket",
    "analysis": "Analyze Configuration",
    "remediation": "Propose Fixes",
    "applied": "Apply Fixes",
    "verification": "Verify Fixes",
}
# Stored outputs that are not checkpoints: the step runs again on a resume (Recheck must re-read).
RECORDS: dict[str, str] = {"planCheck": "Recheck Configuration"}


def checkpoint_key(audit_id: str, name: str) -> str:
    if name not in STEPS and name not in RECORDS:
        raise ValueError(f"unknown checkpoint {name!r}")
    return f"{PREFIX}{audit_id}/{name}.json"


def save_checkpoint(
    bucket: str, audit_id: str, name: str, output: dict[str, Any], clients: ClientFactory
) -> None:
    write_object(bucket, checkpoint_key(audit_id, name), output, clients)


def load_checkpoint(bucket: str, audit_id: str, name: str, clients: ClientFactory) -> dict[str, Any] | None:
    return read_object(bucket, checkpoint_key(audit_id, name), clients)


def load_checkpoints(s3: Any, bucket: str, audit_id: str) -> dict[str, Any]:
    """Every stored output of the audit, by name, in workflow order."""
    found: dict[str, Any] = {}
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{PREFIX}{audit_id}/")
    keys = {item["Key"] for item in listing.get("Contents", [])}
    for name in (*STEPS, *RECORDS):
        key = checkpoint_key(audit_id, name)
        if key in keys:
            found[name] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return found
