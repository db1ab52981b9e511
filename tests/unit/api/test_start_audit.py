"""start_audit: seal the request, then start one execution named by the audit id, input per the contract.

On moto's Step Functions, S3 and KMS (an HMAC seal key), as deployed.
"""

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from secagent.api import ApiSettings, Forbidden, RecordStore, StartAuditRequest, start_audit
from secagent.aws import client_factory
from secagent.models import AgentSettings
from secagent.models.settings import TargetScope
from secagent.workflow.store import KmsSealer
from tests.unit.api.conftest import REQUESTER, REQUESTER_ARN, seal_key

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}})
REPORTS = "reports-bucket"


@dataclass
class Deployed:
    sfn: Any
    s3: Any
    settings: ApiSettings
    records: RecordStore

    def executions(self) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.settings.state_machine_arn)["executions"]

    def stored_keys(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=REPORTS).get("Contents", [])]


@pytest.fixture
def deployed() -> Iterator[Deployed]:
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="SecAgentAudit", definition=DEFINITION, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=REPORTS)
        make = client_factory()
        records = RecordStore(REPORTS, make, KmsSealer(seal_key(make), make), AgentSettings())
        settings = ApiSettings(
            state_machine_arn=arn,
            report_bucket=REPORTS,
            scope=TargetScope(protected_buckets=frozenset({REPORTS})),
        )
        yield Deployed(sfn, s3, settings, records)


def request(
    settings: ApiSettings, bucket: str = "customer-data", mode: str = "remediate"
) -> StartAuditRequest:
    return StartAuditRequest.parse(
        {"resource": {"type": "AWS::S3::Bucket", "id": bucket}, "mode": mode}, settings
    )


def test_start_audit_seals_the_request_and_starts_the_execution_named_by_the_audit_id(
    deployed: Deployed,
) -> None:
    # Given a valid request from alice, in a role session
    # When the audit is started
    response = start_audit(
        request(deployed.settings), REQUESTER, deployed.sfn, deployed.settings, deployed.records
    )
    # Then the answer is the audit id (a UUID4) with links
    body = response.to_json_dict()
    audit_id = body["auditId"]
    assert uuid.UUID(audit_id).version == 4
    assert body == {
        "auditId": audit_id,
        "status": "RUNNING",
        "links": {"self": f"/audits/{audit_id}", "approval": f"/audits/{audit_id}/approval"},
    }
    # And the execution of that name runs with routing input only: who asked is not in it
    execution = deployed.sfn.describe_execution(executionArn=deployed.settings.execution_arn(audit_id))
    assert execution["name"] == audit_id and execution["status"] == "RUNNING"
    assert json.loads(execution["input"]) == {
        "resource": {"type": "AWS::S3::Bucket", "id": "customer-data"},
        "mode": "remediate",
        "approvalTimeoutSeconds": 3600,
    }
    # And the sealed request record says who asked: the principal (the role), and the session
    stored = deployed.records.request(audit_id)
    assert stored is not None
    assert (stored.requested_by, stored.requested_by_arn) == (
        "arn:aws:iam::123456789012:role/Auditor",
        REQUESTER_ARN,
    )
    assert (stored.resource.id, stored.mode, stored.approval_timeout_seconds) == (
        "customer-data",
        "remediate",
        3600,
    )


def test_start_audit_twice_gives_two_audits(deployed: Deployed) -> None:
    first = start_audit(
        request(deployed.settings), REQUESTER, deployed.sfn, deployed.settings, deployed.records
    )
    second = start_audit(
        request(deployed.settings), REQUESTER, deployed.sfn, deployed.settings, deployed.records
    )
    assert first.audit_id != second.audit_id
    assert {e["name"] for e in deployed.executions()} == {first.audit_id, second.audit_id}


def test_start_audit_whose_request_cannot_be_sealed_starts_nothing(deployed: Deployed) -> None:
    # Given the API cannot seal (its seal key is not there)
    make = deployed.records.clients
    gone = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000"
    records = RecordStore(REPORTS, make, KmsSealer(gone, make), AgentSettings())
    # When an audit is requested
    with pytest.raises(ClientError) as caught:
        start_audit(request(deployed.settings), REQUESTER, deployed.sfn, deployed.settings, records)
    assert caught.value.response["Error"]["Code"] == "NotFoundException"
    # Then no execution runs without its sealed request
    assert deployed.executions() == []
    assert not [k for k in deployed.stored_keys() if k.startswith("requests/")]


@pytest.mark.parametrize(
    ("bucket", "mode"),
    [
        pytest.param(REPORTS, "plan", id="the stack's report bucket"),
        pytest.param("cdk-hnb659fds-assets-123456789012-us-east-1", "plan", id="a CDK bootstrap bucket"),
        pytest.param(REPORTS, "remediate", id="remediating the report bucket"),
    ],
)
def test_start_audit_of_a_protected_bucket_is_forbidden_and_starts_nothing(
    deployed: Deployed, bucket: str, mode: str
) -> None:
    # Given a request naming one of the stack's own buckets (or CDK's)
    # When it is started
    with pytest.raises(Forbidden) as caught:
        start_audit(
            request(deployed.settings, bucket, mode),
            REQUESTER,
            deployed.sfn,
            deployed.settings,
            deployed.records,
            s3=deployed.s3,
        )
    # Then 403 on resource.id, and nothing started, locked or recorded
    assert (caught.value.status, caught.value.field) == (403, "resource.id")
    assert "is protected" in caught.value.message
    assert deployed.executions() == [] and deployed.stored_keys() == []


def test_remediation_outside_the_deployments_scope_is_forbidden_but_planning_is_not(
    deployed: Deployed,
) -> None:
    scoped = deployed.settings.model_copy(update={"scope": TargetScope(remediation_prefixes=("sandbox-",))})
    with pytest.raises(Forbidden) as caught:
        start_audit(
            request(scoped, "customer-data"),
            REQUESTER,
            deployed.sfn,
            scoped,
            deployed.records,
            s3=deployed.s3,
        )
    assert "outside this deployment's remediation scope" in caught.value.message
    assert deployed.executions() == []
    start_audit(request(scoped, "customer-data", "plan"), REQUESTER, deployed.sfn, scoped, deployed.records)
    start_audit(request(scoped, "sandbox-data"), REQUESTER, deployed.sfn, scoped, deployed.records)
    assert len(deployed.executions()) == 2
