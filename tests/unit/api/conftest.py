"""API domain fixtures: settings, a moto report bucket, the in-memory Step Functions fake, and
audits seeded in storage the way the workflow leaves them (sealed request, checkpoints, pending
approval, task token)."""

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.api import ApiSettings
from secagent.api.identity import Caller, caller_of
from secagent.api.records import RecordStore
from secagent.aws import ClientFactory, client_factory
from secagent.checks import analyze
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings, Plan, Snapshot
from secagent.models.records import AuditRequest
from secagent.models.report import ApprovalRecord
from secagent.models.snapshot import ResourceRef
from secagent.remediation import plan_remediations
from secagent.workflow.approval import plan_digest, request_approval
from secagent.workflow.checkpoints import save_checkpoint
from secagent.workflow.gate import default_remediation_ids, needs_naming, replan
from secagent.workflow.store import KmsSealer
from tests.unit.api.fakes import FakeStepFunctions

STATE_MACHINE_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:SecAgentAudit"
REPORT_BUCKET = "secagent-reports-test"
AUDIT_ID = "6f1c2b0e-3d4a-4b5c-9d8e-7f6a5b4c3d2e"
EXECUTION_ARN = f"arn:aws:states:us-east-1:123456789012:execution:SecAgentAudit:{AUDIT_ID}"
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAfake-task-token-SECRET"
DIGEST = "ab" * 32
# The execution input the API starts an audit with: it only routes (who asked is in the request record).
INPUT = {
    "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
    "mode": "remediate",
    "approvalTimeoutSeconds": 3600,
}
PLANS = [
    {
        "planId": "01-s3.put_bucket_public_access_block",
        "remediationId": "s3.put_bucket_public_access_block",
        "order": 1,
        "title": "Block public access",
        "cliCommand": "aws s3api ...",
        "risk": "low",
        "reversible": True,
    },
    {
        "planId": "02-s3.enable_object_lock",
        "remediationId": "s3.enable_object_lock",
        "order": 2,
        "title": "Enable Object Lock",
        "cliCommand": "aws s3api ...",
        "risk": "cannot be turned off",
        "reversible": False,
    },
]
NAMED_ONLY = {"s3.enable_object_lock": "irreversible: it cannot be undone; approve it by naming its id"}

# Callers as API Gateway's IAM authorization passes them (requestContext.identity.userArn).
AUDITED_BUCKET = "customer-data"
REQUESTER_ARN = "arn:aws:sts::123456789012:assumed-role/Auditor/alice"
APPROVER_ARN = "arn:aws:sts::123456789012:assumed-role/SecurityApprover/bob"


def caller(arn: str | None) -> Caller:
    return caller_of({"identity": {"userArn": arn}})


REQUESTER = caller(REQUESTER_ARN)
APPROVER = caller(APPROVER_ARN)
PUBLIC_READ = {
    "Sid": "PublicRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{AUDITED_BUCKET}/*",
}


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(state_machine_arn=STATE_MACHINE_ARN, report_bucket=REPORT_BUCKET)


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORT_BUCKET)
        yield client


@pytest.fixture
def sfn() -> FakeStepFunctions:
    return FakeStepFunctions()


@pytest.fixture
def clients(s3: Any) -> ClientFactory:
    """Clients on moto (inside the `s3` fixture's mock), as the Lambdas build them; each one made
    once (client_factory makes a new client per call, ~20 ms each, and every record read makes some)."""
    return functools.cache(client_factory())


def seal_key(clients: ClientFactory) -> str:
    """A KMS HMAC key, like the stack's seal key (moto implements GenerateMac/VerifyMac)."""
    kms = clients("kms", None)
    key = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC", Description="seal")
    return str(key["KeyMetadata"]["Arn"])


@pytest.fixture
def records(clients: ClientFactory) -> RecordStore:
    """The API's sealed records on the moto report bucket, sealed with a real (moto) KMS HMAC key."""
    return RecordStore(REPORT_BUCKET, clients, KmsSealer(seal_key(clients), clients), AgentSettings())


def make_public(clients: ClientFactory, bucket: str = AUDITED_BUCKET) -> None:
    """A moto bucket with Block Public Access off and a public-read policy (and no TLS deny)."""
    s3 = clients("s3", None)
    s3.create_bucket(Bucket=bucket)
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [PUBLIC_READ]})
    )


@pytest.fixture
def public_snapshot(clients: ClientFactory) -> Snapshot:
    """Discover's snapshot of a public moto bucket. Its proposal has every kind of plan: reversible
    bucket fixes, two edits of one policy document (s3.restrict_public_policy_statements and
    s3.add_deny_insecure_transport), irreversible ones (s3.enable_versioning,
    s3.enable_object_lock) and an account-wide one (s3control.put_public_access_block)."""
    make_public(clients)
    return discover_bucket(AUDITED_BUCKET, clients=clients)


def put_json(s3: Any, key: str, data: dict[str, Any]) -> None:
    s3.put_object(Bucket=REPORT_BUCKET, Key=key, Body=json.dumps(data).encode())


def get_json(s3: Any, key: str) -> dict[str, Any]:
    return json.loads(s3.get_object(Bucket=REPORT_BUCKET, Key=key)["Body"].read())


def record_resumes(s3: Any, audit_id: str, count: int) -> None:
    """executions/{auditId}.json as POST /audits/{id}/resume leaves it after ``count`` resumes: how
    the API finds an audit's executions (an execution it did not record is not the audit's)."""
    names = [audit_id, *(f"{audit_id}_r{n}" for n in range(1, count + 1))]
    put_json(s3, f"executions/{audit_id}.json", {"auditId": audit_id, "executions": names})


def exists(s3: Any, key: str) -> bool:
    return bool(s3.list_objects_v2(Bucket=REPORT_BUCKET, Prefix=key).get("KeyCount"))


def pending_record(**overrides: Any) -> dict[str, Any]:
    """An approvals/{auditId}.json as Await Approval writes it (no token: it is in tokens/)."""
    return {
        "auditId": AUDIT_ID,
        "status": "PENDING",
        "resource": INPUT["resource"],
        "plans": PLANS,
        "defaultRemediationIds": ["s3.put_bucket_public_access_block"],
        "planDigest": DIGEST,
        "namedOnly": NAMED_ONLY,
        "requestedBy": REQUESTER.principal,
        "requestedAt": "2025-03-01T12:00:05Z",
        "expiresAt": "2099-01-01T00:00:00Z",
        **overrides,
    }


# -- audits seeded the way the workflow leaves them -------------------------------------------


def execution_arn(audit_id: str) -> str:
    return STATE_MACHINE_ARN.replace(":stateMachine:", ":execution:") + f":{audit_id}"


def execution_input(request: AuditRequest) -> dict[str, Any]:
    """What the API passes to StartExecution: routing only."""
    return {
        "resource": request.resource.to_json_dict(),
        "mode": request.mode,
        "approvalTimeoutSeconds": request.approval_timeout_seconds,
    }


def audit_request(
    audit_id: str = AUDIT_ID,
    *,
    requested_by: Caller = REQUESTER,
    mode: str = "remediate",
    bucket: str = AUDITED_BUCKET,
    rollback_of: str | None = None,
    timeout: int = 3600,
) -> AuditRequest:
    return AuditRequest.model_validate(
        {
            "auditId": audit_id,
            "resource": ResourceRef(id=bucket).to_json_dict(),
            "mode": mode,
            "approvalTimeoutSeconds": timeout,
            "requestedBy": requested_by.principal,
            "requestedByArn": requested_by.arn or None,
            "rollbackOf": rollback_of,
            "requestedAt": "2025-03-01T12:00:00Z",
        }
    )


@dataclass(frozen=True)
class Seeded:
    audit_id: str
    request: AuditRequest | None  # None: started without a request record (not by the API)
    snapshot: Snapshot
    record: ApprovalRecord  # approvals/{auditId}.json as Await Approval wrote it
    token: str

    @property
    def plans(self) -> list[Plan]:
        return self.record.plans

    @property
    def default_ids(self) -> list[str]:
        return self.record.default_remediation_ids

    @property
    def default_digest(self) -> str:
        assert self.record.plan_digest is not None
        return self.record.plan_digest

    @property
    def all_ids(self) -> list[str]:
        return [p.remediation_id for p in self.plans]

    def plan(self, remediation_id: str) -> Plan:
        return next(p for p in self.plans if p.remediation_id == remediation_id)


def reach_approval(
    sfn: FakeStepFunctions,
    records: RecordStore,
    audit_id: str,
    snapshot: Snapshot,
    *,
    token: str = TOKEN,
    now: datetime | None = None,
) -> ApprovalRecord:
    """What Discover, Analyze and Await Approval leave for a started execution of ``audit_id``:
    the discovery and analysis checkpoints, tokens/{id}.json and a PENDING approvals/{id}.json;
    and the execution waits on its task token."""
    bucket, clients, analysis = records.bucket, records.clients, records.analysis
    save_checkpoint(bucket, audit_id, "discovery", snapshot.to_json_dict(), clients)
    result = analyze(snapshot, analysis)
    save_checkpoint(bucket, audit_id, "analysis", {"auditId": audit_id, **result.to_json_dict()}, clients)
    request = records.request(audit_id)
    if request is not None:  # exactly as lambdas/await_approval.py builds the record
        proposal = records.proposal(audit_id)
        plans = proposal.plans
        default_ids = default_remediation_ids(plans)
        digest = proposal.digest(proposal.select(default_ids, analysis))
        requested_by, resource = request.requested_by, request.resource
    else:  # no request record: Await Approval would refuse; a planted record looks the same
        plans = plan_remediations(snapshot, result.findings, analysis).plans
        default_ids = default_remediation_ids(plans)
        digest = plan_digest(replan(snapshot, result.findings, analysis, default_ids), snapshot)
        requested_by, resource = None, ResourceRef(id=snapshot.bucket)
    moment = now or datetime.now(UTC)
    executions = [arn for arn in sfn.executions if arn.rsplit(":", 1)[1].split("_", 1)[0] == audit_id]
    record = request_approval(
        record=ApprovalRecord(
            audit_id=audit_id,
            status="PENDING",
            resource=resource,
            plans=sorted(plans, key=lambda p: p.order),
            default_remediation_ids=default_ids,
            plan_digest=digest,
            named_only={p.remediation_id: why for p in plans if (why := needs_naming(p))},
            requested_by=requested_by,
            requested_at=moment,
            expires_at=moment,
        ),
        task_token=token,
        execution_name=executions[-1].rsplit(":", 1)[1],  # the latest execution (a resume) waits
        timeout_seconds=request.approval_timeout_seconds if request else 3600,
        bucket=bucket,
        clients=clients,
        now=moment,
    )
    sfn.open_task(token, executions[-1])  # the latest execution (a resume) is the one waiting
    return record


def seed_audit(
    sfn: FakeStepFunctions,
    records: RecordStore,
    snapshot: Snapshot,
    *,
    audit_id: str = AUDIT_ID,
    requested_by: Caller = REQUESTER,
    mode: str = "remediate",
    rollback_of: str | None = None,
    sealed: bool = True,
    token: str = TOKEN,
    now: datetime | None = None,
) -> Seeded:
    """An audit awaiting approval, as POST /audits and the workflow leave it in storage.

    ``sealed=False``: the execution was started directly (StartExecution by someone other than
    the API), so there is no request record.
    """
    request = audit_request(
        audit_id, requested_by=requested_by, mode=mode, bucket=snapshot.bucket, rollback_of=rollback_of
    )
    if sealed:
        records.write_request(request)
    sfn.add_execution(execution_arn(audit_id), input=json.dumps(execution_input(request)))
    record = reach_approval(sfn, records, audit_id, snapshot, token=token, now=now)
    return Seeded(audit_id, request if sealed else None, snapshot, record, token)
