"""Helpers for tests against the deployed stack on LocalStack (integration, security, e2e)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from scripts.identities import person
from scripts.localstack_client import ENDPOINT, session
from secagent.api.records import RecordStore
from secagent.aws import client_factory
from secagent.client import AuditApiClient
from secagent.models import AgentSettings
from secagent.models.records import AuditRequest
from secagent.models.snapshot import ResourceRef
from secagent.workflow.store import KmsSealer

# A person other than the requester: four-eyes is on, so approvals come from this role.
APPROVER_ROLE = "secagent-approver"


def approver_credentials(role: str = APPROVER_ROLE) -> dict[str, str]:
    """Another person's credentials as environment variables (for a CLI or MCP server process)."""
    frozen = person(role).get_credentials().get_frozen_credentials()
    return {
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
        "AWS_SESSION_TOKEN": frozen.token or "",
    }


def requester_api(outputs: dict[str, str]) -> AuditApiClient:
    """The API as the account's default credentials call it (the requester in most tests)."""
    return AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=session())


def approver_api(
    outputs: dict[str, str], role: str = APPROVER_ROLE, session_name: str = "approver"
) -> AuditApiClient:
    return AuditApiClient.for_stack(outputs, endpoint_url=ENDPOINT, session=person(role, session_name))


def stack_records(outputs: dict[str, str]) -> RecordStore:
    """The report bucket's sealed records, as the API's role writes them (LocalStack enforces no IAM,
    so a test may stand in for the API; on AWS only the API's role may seal)."""
    make = client_factory(session(), endpoint_url=ENDPOINT)
    return RecordStore(
        outputs["ReportBucketName"], make, KmsSealer(outputs["SealKeyArn"], make), AgentSettings()
    )


def start_direct(aws: Any, outputs: dict[str, str], payload: dict[str, Any], *, seal: bool = True) -> str:
    """Straight to StartExecution, for inputs the API refuses on purpose (test faults, tiny timeouts).

    `seal`: write the request record the API would have written (else Discover refuses to run).
    """
    name = str(uuid.uuid4())
    if seal:
        stack_records(outputs).write_request(
            AuditRequest(
                audit_id=name,
                resource=ResourceRef(id=payload["resource"]["id"]),
                mode=payload.get("mode", "plan"),
                approval_timeout_seconds=payload.get("approvalTimeoutSeconds", 3600),
                requested_by="tests:start_direct",
                requested_at=datetime.now(UTC),
            )
        )
    aws("stepfunctions").start_execution(
        stateMachineArn=outputs["StateMachineArn"], name=name, input=json.dumps(payload)
    )
    return name
