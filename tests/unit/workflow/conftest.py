"""moto AWS for the workflow tools: an audited bucket, the report bucket, a KMS HMAC seal key, and
helpers that write the records the approval gate trusts exactly as their owners write them (the
API seals requests and decisions; Discover and Analyze store their checkpoints).

A recorder captures the EventBridge entries the code really sends (moto accepts PutEvents but
cannot deliver to targets here: rule targets need jsonpath_ng, which is not installed)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.aws import ClientFactory, client_factory
from secagent.checks import analyze
from secagent.discovery import discover, discover_bucket
from secagent.models import AgentSettings, AnalysisResult, Plan, ResourceRef, Snapshot
from secagent.models.records import AuditRequest, Decision, Mode
from secagent.remediation import plan_remediations
from secagent.workflow.checkpoints import checkpoint_key, load_checkpoint, save_checkpoint
from secagent.workflow.gate import default_remediation_ids, load_proposal
from secagent.workflow.store import (
    KmsSealer,
    Sealer,
    decision_key,
    read_object,
    request_key,
    write_object,
    write_sealed,
)

BUCKET = "audited-app-bucket"
REPORTS = "secagent-reports-bucket"
SETTINGS = AgentSettings()
AUDIT = "audit-20250301-0001"
REQUESTER = "arn:aws:iam::123456789012:user/alice"
APPROVER = "arn:aws:iam::123456789012:user/bob"
DECIDED_AT = datetime(2025, 3, 1, 12, 3, tzinfo=UTC)


def record_events(session: boto3.Session) -> list[dict[str, Any]]:
    """Every PutEvents entry sent by clients of ``session``, as sent (before moto answers)."""
    sent: list[dict[str, Any]] = []
    session.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **_: sent.extend(params["Entries"])
    )
    return sent


def record_calls(session: boto3.Session) -> list[str]:
    """Every API call made by clients of ``session``, as "service.Operation" (before moto answers)."""
    made: list[str] = []

    def seen(model: Any, **_: Any) -> None:
        made.append(f"{model.service_model.service_name}.{model.name}")

    session.events.register("before-call", seen)
    return made


def hmac_key(session: boto3.Session) -> str:
    kms = session.client("kms")
    return kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["Arn"]


@dataclass
class Storage:
    """The report bucket as the roles that own each record write it."""

    clients: ClientFactory
    sealer: Sealer
    bucket: str = REPORTS
    # When a person decides. Apply's gate refuses a decision older than gate.DECISION_LIFETIME by
    # the clock: the tool handlers' tests, which cannot pass a time, decide now.
    decided_at: datetime = DECIDED_AT
    # the deployment's, as Analyze, the API and the gate read them
    settings: AgentSettings = field(default_factory=lambda: SETTINGS)

    def request(
        self,
        audit_id: str = AUDIT,
        *,
        resource: str | ResourceRef = BUCKET,
        mode: Mode = "remediate",
        rollback_of: str | None = None,
        timeout: int = 3600,
    ) -> AuditRequest:
        """The audit API's sealed request record (written once); a plain name is a bucket's."""
        request = AuditRequest(
            audit_id=audit_id,
            resource=resource if isinstance(resource, ResourceRef) else ResourceRef(id=resource),
            mode=mode,
            approval_timeout_seconds=timeout,
            requested_by=REQUESTER,
            requested_by_arn=f"{REQUESTER}/session",
            rollback_of=rollback_of,
            requested_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        )
        write_sealed(self.bucket, request_key(audit_id), request, self.sealer, self.clients, once=True)
        return request

    def discover_and_analyze(self, audit_id: str = AUDIT, bucket: str | ResourceRef = BUCKET) -> Snapshot:
        """What Discover and Analyze store as their checkpoints."""
        resource = bucket if isinstance(bucket, ResourceRef) else ResourceRef(id=bucket)
        snapshot = discover(resource, clients=self.clients)
        self.checkpoint(audit_id, "discovery", snapshot.to_json_dict())
        analysis = analyze(snapshot, self.settings)
        self.checkpoint(audit_id, "analysis", {"auditId": audit_id, **analysis.to_json_dict()})
        return snapshot

    def checkpoint(self, audit_id: str, name: str, body: dict[str, Any]) -> None:
        save_checkpoint(self.bucket, audit_id, name, body, self.clients)

    def load(self, audit_id: str, name: str) -> dict[str, Any] | None:
        return load_checkpoint(self.bucket, audit_id, name, self.clients)

    def edit_checkpoint(self, audit_id: str, name: str, edit: Any) -> None:
        stored = read_object(self.bucket, checkpoint_key(audit_id, name), self.clients)
        assert stored is not None
        edit(stored)
        write_object(self.bucket, checkpoint_key(audit_id, name), stored, self.clients)

    def decision(
        self,
        audit_id: str = AUDIT,
        *,
        decision: str = "approve",
        remediation_ids: list[str] | None = None,
        **overrides: Any,
    ) -> Decision:
        """A Decision as the API builds it: the default selection (or the named ids) re-planned from
        storage and its digest; ``overrides`` replace fields (a decision on something else)."""
        proposal = load_proposal(audit_id, self.bucket, self.settings, self.sealer, self.clients)
        ids = remediation_ids if remediation_ids is not None else default_remediation_ids(proposal.plans)
        approve = decision == "approve"
        fields: dict[str, Any] = {
            "audit_id": audit_id,
            "resource": proposal.request.resource,
            "mode": proposal.request.mode,
            "decision": decision,
            "remediation_ids": ids if approve else [],
            "selection": "named" if remediation_ids is not None else "default",
            "plan_digest": proposal.digest(proposal.select(ids, self.settings)) if approve else None,
            "approver": APPROVER,
            "approver_arn": f"{APPROVER}/session",
            "requested_by": proposal.request.requested_by,
            "comment": "plans reviewed",
            "decided_at": self.decided_at,
        }
        return Decision(**(fields | overrides))

    def decide(self, audit_id: str = AUDIT, **kwargs: Any) -> Decision:
        """The API's sealed decision record (written once)."""
        decision = self.decision(audit_id, **kwargs)
        self.seal_decision(decision, audit_id)
        return decision

    def seal_decision(self, decision: Decision, audit_id: str = AUDIT) -> None:
        write_sealed(self.bucket, decision_key(audit_id), decision, self.sealer, self.clients, once=True)

    def approved(self, audit_id: str = AUDIT, **kwargs: Any) -> Decision:
        """An audit requested, discovered, analyzed and approved (the default selection)."""
        self.request(audit_id)
        self.discover_and_analyze(audit_id)
        return self.decide(audit_id, **kwargs)


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.delete_bucket_encryption(Bucket=BUCKET)  # one more FAIL with an automatic fix
        s3.create_bucket(Bucket=REPORTS)
        yield session


@pytest.fixture
def clients(session: boto3.Session) -> ClientFactory:
    return client_factory(session)


@pytest.fixture
def sealer(session: boto3.Session, clients: ClientFactory) -> KmsSealer:
    return KmsSealer(hmac_key(session), clients)


@pytest.fixture
def storage(clients: ClientFactory, sealer: KmsSealer) -> Storage:
    return Storage(clients, sealer)


@pytest.fixture
def events(session: boto3.Session) -> list[dict[str, Any]]:
    return record_events(session)


@pytest.fixture
def before(session: boto3.Session) -> AnalysisResult:
    return analyze(discover_bucket(BUCKET, session), SETTINGS)


@pytest.fixture
def plans(session: boto3.Session, before: AnalysisResult) -> list[Plan]:
    return plan_remediations(discover_bucket(BUCKET, session), before.findings, SETTINGS).plans
