"""Report: built from a realistic final state + history, valid against docs/report.schema.json."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import Stubber

from secagent.models import InvalidInput, Report
from secagent.models.report import report_json_schema
from secagent.workflow.report import build_report, publish_report, write_report
from secagent.workflow.timeline import build_timeline
from tests.unit.workflow.conftest import REPORTS

ROOT = Path(__file__).parents[3]
EVENTS = ROOT / "tests" / "events"
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
NOW = datetime(2025, 3, 1, 12, 5, 0, tzinfo=UTC)


def _state() -> dict[str, Any]:
    return json.loads((EVENTS / "report.json").read_text())["state"]


def _history(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / f"history_{name}.json").read_text())["events"]


def _valid(report: Report) -> dict[str, Any]:
    document = report.to_json_dict()
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    return document


def test_report_schema_file_is_generated_from_model() -> None:
    # Byte for byte what `python -m secagent.models.report > docs/report.schema.json` writes
    generated = json.dumps(report_json_schema(), indent=2) + "\n"
    assert (ROOT / "docs" / "report.schema.json").read_text() == generated, (
        "stale schema: python -m secagent.models.report > docs/report.schema.json"
    )


def test_build_report_remediated_run_has_contract_fields_and_validates() -> None:
    # Given the final state of a remediate-mode run that was approved, applied and verified
    state = _state()
    # When
    document = _valid(build_report(state, build_timeline(_history("happy")), now=NOW))
    # Then
    assert list(document) == [
        "schemaVersion",
        "auditId",
        "resource",
        "mode",
        "requestedBy",
        "rollbackOf",
        "startedAt",
        "finishedAt",
        "outcome",
        "findings",
        "remediations",
        "approval",
        "verification",
        "planCheck",
        "steps",
        "failure",
        "executions",
        "reusedSteps",
    ]
    assert document["schemaVersion"] == "1" and document["outcome"] == "REMEDIATED"
    assert document["executions"] == [] and document["reusedSteps"] == []  # no name given, no resume
    assert (document["startedAt"], document["finishedAt"]) == ("2025-03-01T12:00:00Z", "2025-03-01T12:05:00Z")
    assert document["failure"] is None
    assert set(document["findings"][0]) == {
        "checkId",
        "title",
        "severity",
        "status",
        "controls",
        "evidence",
        "remediationId",
    }
    assert len(document["findings"]) == len(state["analysis"]["findings"])
    results = {r["plan"]["remediationId"]: r for r in document["remediations"]}
    assert results["s3.enable_versioning"]["result"] == "APPLIED"
    assert results["s3.enable_versioning"]["applied"]["status"] == "APPLIED"
    assert results["s3.enable_mfa_delete"]["result"] == "SKIPPED"
    assert all(r["approved"] for r in document["remediations"])
    assert [s["name"] for s in document["steps"]][:2] == ["Discover Bucket", "Analyze Configuration"]
    assert set(document["steps"][0]) == {"name", "status", "attempts", "started", "ended", "error"}
    assert document["verification"]["allFixed"] is True


def test_build_report_rejected_marks_plans_not_approved() -> None:
    state = _state()
    state["approval"] = {"decision": "reject", "comment": "not now", "approver": "bob"}
    for key in ("applied", "verification"):
        del state[key]
    state["outcome"] = "REJECTED"
    document = _valid(build_report(state, [], now=NOW))
    assert {(r["approved"], r["applied"], r["result"]) for r in document["remediations"]} == {
        (False, None, "NOT_APPROVED")
    }
    assert document["verification"] is None


def test_build_report_plan_mode_without_decision_lists_proposed_plans() -> None:
    state = _state()
    for key in ("approval", "applied", "verification"):
        del state[key]
    state["request"]["mode"] = "plan"
    state["outcome"] = "NON_COMPLIANT"
    document = _valid(build_report(state, [], now=NOW))
    assert {r["result"] for r in document["remediations"]} == {"PROPOSED"}
    assert document["approval"] is None and document["mode"] == "plan"


def test_build_report_failed_includes_failure_from_state() -> None:
    state = _state()
    for key in ("approval", "applied", "verification", "remediation"):
        del state[key]
    state |= {
        "outcome": "FAILED",
        "error": {"Error": "AccessDenied", "Cause": "{...}"},
        "failure": {"step": "Analyze Configuration", "error": "AccessDenied", "cause": "denied"},
    }
    document = _valid(build_report(state, [], now=NOW))
    assert document["failure"] == {
        "step": "Analyze Configuration",
        "error": "AccessDenied",
        "cause": "denied",
    }
    assert document["remediations"] == []


def test_build_report_failed_without_failure_falls_back_to_caught_error_and_timeline() -> None:
    # Given Apply Fixes failed (caught) and no "... Failed" Pass wrote $.failure
    state = _state()
    for key in ("applied", "verification"):
        del state[key]
    state |= {"outcome": "FAILED", "error": {"Error": "AccessDenied", "Cause": "denied"}}
    # When
    report = build_report(state, build_timeline(_history("caught")), now=NOW)
    # Then
    assert report.failure is not None
    assert (report.failure.step, report.failure.error, report.failure.cause) == (
        "Apply Fixes",
        "AccessDenied",
        "denied",
    )
    assert {r.result for r in report.remediations} == {"NOT_RUN"}
    _valid(report)


@pytest.mark.parametrize("drop", ["auditId", "request", "outcome", "startedAt"])
def test_build_report_malformed_state_raises_invalid_input(drop: str) -> None:
    state = _state()
    del state[drop]
    with pytest.raises(InvalidInput):
        build_report(state, [])


def test_publish_report_writes_encrypted_json_and_announces_it(
    session: boto3.Session, events: list[dict[str, Any]]
) -> None:
    # Given
    report = build_report(_state(), build_timeline(_history("happy")), now=NOW)
    # When
    key = publish_report(report, bucket=REPORTS, session=session)
    # Then the stored object is the report
    assert key == f"reports/{report.audit_id}.json"
    obj = session.client("s3").get_object(Bucket=REPORTS, Key=key)
    assert obj["ServerSideEncryption"] == "AES256" and obj["ContentType"] == "application/json"
    assert json.loads(obj["Body"].read()) == report.to_json_dict()
    # and the event points at it
    (entry,) = events
    assert (entry["Source"], entry["DetailType"]) == ("secagent", "Audit Completed")
    fails = sum(f.status == "FAIL" for f in report.findings)
    assert json.loads(entry["Detail"]) == {
        "auditId": report.audit_id,
        "resource": {"type": "AWS::S3::Bucket", "id": report.resource.id},
        "outcome": "REMEDIATED",
        "reportBucket": REPORTS,
        "reportKey": key,
        "findingCounts": {"pass": len(report.findings) - fails, "fail": fails, "unknown": 0, "exempt": 0},
    }


def test_write_report_reads_every_history_page_without_execution_data(
    session: boto3.Session, events: list[dict[str, Any]]
) -> None:
    # Given a history served in two pages by a stubbed Step Functions client
    arn = "arn:aws:states:us-east-1:123456789012:execution:secagent-audit:audit-20250301-0001"
    history = _history("happy")
    half = len(history) // 2
    sfn = session.client("stepfunctions")
    stub = Stubber(sfn)
    first = {"executionArn": arn, "includeExecutionData": False}
    stub.add_response("get_execution_history", {"events": history[:half], "nextToken": "t"}, first)
    stub.add_response("get_execution_history", {"events": history[half:]}, first | {"nextToken": "t"})

    def clients(service: str, region: str | None = None) -> Any:
        return sfn if service == "stepfunctions" else session.client(service, region_name=region)

    # When
    with stub:
        report = write_report(arn, copy.deepcopy(_state()), bucket=REPORTS, session=session, clients=clients)
    # Then all Task states of both pages are in the steps, and the report is stored and announced
    stub.assert_no_pending_responses()
    assert [s.name for s in report.steps][-1] == "Write Report" and len(report.steps) == 7
    assert session.client("s3").head_object(Bucket=REPORTS, Key=f"reports/{report.audit_id}.json")
    assert [e["DetailType"] for e in events] == ["Audit Completed"]


def test_build_report_resumed_run_lists_executions_and_reused_steps():
    # Given the state of a resume that took Discover and Analyze from their checkpoints
    state = _state()
    state["request"]["resume"] = {
        "checkpoints": {"discovery": {}, "analysis": {}},
        "previousExecutions": ["audit-1"],
    }
    # When the report is built for execution audit-1_r1
    timeline = build_timeline(_history("happy"))
    document = _valid(build_report(state, timeline, now=NOW, execution_name="audit-1_r1"))
    # Then it names both executions and the reused steps
    assert document["executions"] == ["audit-1", "audit-1_r1"]
    assert document["reusedSteps"] == ["Discover Bucket", "Analyze Configuration"]
