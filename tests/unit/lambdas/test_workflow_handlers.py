"""Workflow tool handlers (await approval, apply, verify, report) on moto with the fixture events."""

import io
import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from lambdas import apply, await_approval, faults, report, verify
from lambdas.observability import logger
from secagent.models import InvalidInput, TransientError
from secagent.workflow.settings import WorkflowSettings
from tests.unit.lambdas.fakes import FakeLambdaContext
from tests.unit.lambdas.test_handlers import event
from tests.unit.workflow.conftest import BUCKET, REPORTS, record_events

HANDLER_MODULES = (await_approval, apply, verify, report)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes during the test (its stream is bound at import)."""
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """moto, the audited bucket (unfixed) and the report bucket; handlers use this session."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.delete_bucket_encryption(Bucket=BUCKET)
        s3.create_bucket(Bucket=REPORTS)
        for module in HANDLER_MODULES:
            monkeypatch.setattr(module, "SESSION", session)
        yield session


def test_await_approval_handler_stores_token_but_never_logs_or_returns_it(
    session: boto3.Session, logs: io.StringIO
) -> None:
    # Given
    sent = record_events(session)
    payload = event("await_approval")
    token = payload["taskToken"]
    # When
    out = await_approval.handler(payload, FakeLambdaContext())
    # Then
    assert out == {
        "auditId": "audit-20250301-0001",
        "status": "PENDING",
        "approvalKey": "approvals/audit-20250301-0001.json",
        "expiresAt": out["expiresAt"],
    }
    body = session.client("s3").get_object(Bucket=REPORTS, Key=out["approvalKey"])["Body"].read()
    assert json.loads(body)["taskToken"] == token
    logged = logs.getvalue()
    assert "approval requested" in logged and "audit-20250301-0001" in logged
    assert token not in logged + json.dumps(out) + json.dumps(sent)
    assert [e["DetailType"] for e in sent] == ["Approval Requested"]


def test_await_approval_handler_bad_event_raises_invalid_input_without_token(logs: io.StringIO) -> None:
    bad = {**event("await_approval"), "timeoutSeconds": 0}
    with pytest.raises(InvalidInput) as err:
        await_approval.handler(bad, FakeLambdaContext())
    assert bad["taskToken"] not in str(err.value) + logs.getvalue()


def test_apply_handler_applies_approved_plans(session: boto3.Session) -> None:
    out = apply.handler(event("apply"), FakeLambdaContext())
    assert set(out) == {"results", "appliedCount", "failedCount"}
    assert out["failedCount"] == 0 and out["appliedCount"] == 8
    assert session.client("s3").get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"


def test_apply_handler_injected_fault_raises_before_any_change(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fault injection is deployed and asks for one TransientError in apply
    monkeypatch.setattr(faults, "ENABLED", True)
    payload = {**event("apply"), "faults": {"apply": {"kind": "error", "times": 1}}, "attempt": 0}
    # When / Then
    with pytest.raises(TransientError):
        apply.handler(payload, FakeLambdaContext())
    assert "Status" not in session.client("s3").get_bucket_versioning(Bucket=BUCKET)
    # and the retry (attempt 1) runs
    assert apply.handler({**payload, "attempt": 1}, FakeLambdaContext())["appliedCount"] == 8


def test_apply_handler_missing_approval_raises_invalid_input() -> None:
    bad = event("apply")
    del bad["approval"]
    with pytest.raises(InvalidInput):
        apply.handler(bad, FakeLambdaContext())


def test_verify_handler_on_unfixed_bucket_fixes_nothing(session: boto3.Session) -> None:
    # Given the fixture says plans were applied, but this bucket was never changed
    out = verify.handler(event("verify"), FakeLambdaContext())
    # Then verification tells the truth
    assert set(out) == {"findings", "summary", "comparison", "allFixed", "stillFailing"}
    assert out["allFixed"] is False and not any(c["fixed"] for c in out["comparison"])
    assert "s3_bucket_versioning_disabled" in out["stillFailing"]


def test_verify_handler_injected_fault_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "ENABLED", True)
    payload = {**event("verify"), "faults": {"verify": {"kind": "error", "error": "AccessDenied"}}}
    from secagent.models import AccessDenied

    with pytest.raises(AccessDenied):
        verify.handler(payload, FakeLambdaContext())


def test_report_handler_writes_report_from_execution_history(session: boto3.Session) -> None:
    # Given a real (moto) execution to read the history of
    sfn = session.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="secagent-audit",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/secagent-sfn",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name="audit-20250301-0001")["executionArn"]
    sent = record_events(session)
    # When
    out = report.handler({**event("report"), "executionArn": arn}, FakeLambdaContext())
    # Then
    assert out == {
        "auditId": "audit-20250301-0001",
        "outcome": "REMEDIATED",
        "reportKey": "reports/audit-20250301-0001.json",
    }
    stored = json.loads(session.client("s3").get_object(Bucket=REPORTS, Key=out["reportKey"])["Body"].read())
    assert stored["auditId"] == out["auditId"] and stored["steps"] == []  # moto's history has no Task state
    assert [e["DetailType"] for e in sent] == ["Audit Completed"]


def test_report_handler_missing_state_raises_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        report.handler({"executionArn": "arn:aws:states:us-east-1:1:execution:m:a"}, FakeLambdaContext())


def test_workflow_settings_from_environment() -> None:
    settings = WorkflowSettings.from_env({"REPORT_BUCKET": "reports-bucket", "EVENT_BUS_NAME": ""})
    assert (settings.report_bucket, settings.event_bus_name) == ("reports-bucket", "default")
    with pytest.raises(ValueError):
        WorkflowSettings.from_env({})
