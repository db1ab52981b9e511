"""Await Approval: store the pending plans with the task token, announce them without it."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import boto3

from secagent.aws import ClientFactory, client_factory
from secagent.models.plans import Plan
from secagent.models.report import ApprovalRecord
from secagent.models.snapshot import ResourceRef, Snapshot
from secagent.workflow._aws import put_event, put_json

APPROVALS_PREFIX = "approvals/"


def plan_digest(plans: list[Plan], snapshot: Snapshot) -> str:
    """SHA-256 of the plans and the configuration they were computed from, as canonical JSON.

    An approval must quote it: what a person approves is exactly these plans for exactly that
    configuration; any other plan set (or a re-plan on changed configuration) has another digest.
    """
    document = {
        "plans": [p.to_json_dict() for p in sorted(plans, key=lambda p: p.order)],
        "configuration": snapshot.config.to_json_dict(),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def approval_key(audit_id: str) -> str:
    return f"{APPROVALS_PREFIX}{audit_id}.json"


def request_approval(
    *,
    audit_id: str,
    resource: ResourceRef,
    plans: list[Plan],
    snapshot: Snapshot,
    task_token: str,
    timeout_seconds: int,
    requested_by: str | None = None,
    bucket: str,
    session: boto3.Session,
    event_bus: str = "default",
    clients: ClientFactory | None = None,
    now: datetime | None = None,
) -> ApprovalRecord:
    """Write ``approvals/{auditId}.json`` (with the token) and put ``Approval Requested`` (without)."""
    make = clients or client_factory(session)
    requested_at = now or datetime.now(UTC)
    record = ApprovalRecord(
        audit_id=audit_id,
        status="PENDING",
        task_token=task_token,
        resource=resource,
        plans=sorted(plans, key=lambda p: p.order),
        plan_digest=plan_digest(plans, snapshot),
        requested_by=requested_by,
        requested_at=requested_at,
        expires_at=requested_at + timedelta(seconds=timeout_seconds),
    )
    # The record first: once the event is out, someone may approve, and the API needs the token.
    put_json(bucket, approval_key(audit_id), record.to_json_dict(), make)
    detail = {
        "auditId": audit_id,
        "resource": resource.to_json_dict(),
        "plans": [
            {"planId": p.plan_id, "title": p.title, "cliCommand": p.cli_command, "risk": p.risk}
            for p in record.plans
        ],
        "planDigest": record.plan_digest,
        "expiresAt": record.to_json_dict()["expiresAt"],
        # How to decide: never a link that acts on GET, never the task token.
        "howToDecide": f"Review with `secagent status {audit_id}`, then `secagent approve {audit_id}` "
        f"(or POST /audits/{audit_id}/approval with this planDigest) or `secagent reject {audit_id}`.",
    }
    put_event("Approval Requested", detail, event_bus, make)
    return record
