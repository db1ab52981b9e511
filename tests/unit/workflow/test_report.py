"""Report: built from the final state, the history and the audit's records, valid against the schema.

Who asked, who decided and what was applied come from storage (the API's sealed records and
Apply's own), never from the execution state, which anyone who can start an execution shapes.
"""

import json
import re
import shutil
import tomllib
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
from botocore.stub import Stubber

from secagent.aws import ClientFactory, client_factory
from secagent.checks import list_checks, registry
from secagent.models import InvalidInput, Plan, Report, ResourceRef, Status
from secagent.models.outcome import Outcome
from secagent.models.records import ApplyProgress, AuditRequest, Decision
from secagent.models.report import (
    REPORT_SCHEMA_VERSION,
    STANDARDS,
    ReportControl,
    StepRecord,
    report_json_schema,
)
from secagent.workflow.report import (
    CHECKS_DIR,
    OUTCOME_STATES,
    VERIFIED_OUTCOME_STATE,
    AuditRecords,
    AwsLocation,
    Observation,
    Observations,
    build_report,
    carry_observations,
    check_registry_version,
    load_records,
    observations_key,
    outcome_of,
    publish_report,
    registry_version,
    reported_state,
    write_report,
)
from secagent.workflow.store import KmsSealer, decision_key, write_object
from secagent.workflow.timeline import build_timeline
from tests.unit.workflow.conftest import APPROVER, AUDIT, REPORTS, REQUESTER, Storage, hmac_key

ROOT = Path(__file__).parents[3]
EVENTS = ROOT / "tests" / "events"
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
NOW = datetime(2025, 3, 1, 12, 5, 0, tzinfo=UTC)
MACHINE = "arn:aws:states:us-east-1:123456789012:execution:SecurityAgentAudit"
LOCATION = AwsLocation(partition="aws", region="us-east-1", account="123456789012")


def _state() -> dict[str, Any]:
    """The state as the report reads it: the Write Report event's state (routes and summaries)
    with each step's full output from storage (tests/events/stored_outputs.json)."""
    event = json.loads((EVENTS / "report.json").read_text())
    stored = json.loads((EVENTS / "stored_outputs.json").read_text())
    return reported_state(event["state"], stored, event["input"])


def _event() -> dict[str, Any]:
    """The Write Report event (its state holds routes and summaries) of the execution whose steps
    stored tests/events/stored_outputs.json."""
    return json.loads((EVENTS / "report.json").read_text())


def _store_outputs(storage: Storage, *leave_out: str) -> None:
    """What the steps of that execution stored (Write Report reads them, not the state)."""
    stored = json.loads((EVENTS / "stored_outputs.json").read_text())
    for name, output in stored.items():
        if name not in leave_out:
            storage.checkpoint(AUDIT, name, output)


def _history(name: str) -> list[dict[str, Any]]:
    return json.loads((EVENTS / f"history_{name}.json").read_text())["events"]


def _valid(report: Report) -> dict[str, Any]:
    document = report.to_json_dict()
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)
    return document


def _plans(state: dict[str, Any]) -> list[Plan]:
    return [Plan.model_validate(p) for p in state["remediation"]["plans"]]


def _request() -> AuditRequest:
    return AuditRequest(
        audit_id=AUDIT,
        resource=ResourceRef(id="audited-app-bucket"),
        mode="remediate",
        approval_timeout_seconds=3600,
        requested_by=REQUESTER,
        requested_by_arn=f"{REQUESTER}/console",
        requested_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
    )


def _decision(decision: str = "approve", remediation_ids: list[str] | None = None) -> Decision:
    ids = remediation_ids if remediation_ids is not None else [p.remediation_id for p in _plans(_state())]
    return Decision(
        audit_id=AUDIT,
        resource=ResourceRef(id="audited-app-bucket"),
        mode="remediate",
        decision=decision,  # type: ignore[arg-type]
        remediation_ids=ids if decision == "approve" else [],
        selection="named",
        plan_digest="5" * 64 if decision == "approve" else None,
        approver=APPROVER,
        approver_arn=f"{APPROVER}/console",
        requested_by=REQUESTER,
        comment="reviewed" if decision == "approve" else "not now",
        decided_at=datetime(2025, 3, 1, 12, 3, tzinfo=UTC),
    )


def _progress(state: dict[str, Any]) -> ApplyProgress:
    return ApplyProgress.model_validate(
        {**state["applied"], "auditId": AUDIT, "planDigest": "5" * 64, "plans": state["remediation"]["plans"],
         "complete": True}
    )  # fmt: skip


def _records(state: dict[str, Any]) -> AuditRecords:
    return AuditRecords(request=_request(), decision=_decision(), progress=_progress(state))


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
    document = _valid(
        build_report(
            state, build_timeline(_history("happy")), records=_records(state), location=LOCATION, now=NOW
        )
    )
    # Then
    assert list(document) == [
        "schemaVersion",
        "auditId",
        "account",
        "region",
        "partition",
        "resource",
        "resourceArn",
        "product",
        "checkRegistry",
        "mode",
        "requestedBy",
        "rollbackOf",
        "startedAt",
        "finishedAt",
        "outcome",
        "summary",
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
    assert (
        document["schemaVersion"] == "2" and document["outcome"] == "PARTIALLY_REMEDIATED"
    )  # one check still fails after Verify
    assert document["executions"] == [] and document["reusedSteps"] == []  # no name given, no resume
    assert (document["startedAt"], document["finishedAt"]) == ("2025-03-01T12:00:00Z", "2025-03-01T12:05:00Z")
    assert document["failure"] is None and document["planCheck"]["stale"] is False
    assert list(document["findings"][0]) == [
        "findingId",
        "checkId",
        "title",
        "severity",
        "status",
        "controls",
        "firstObservedAt",
        "lastObservedAt",
        "evidence",
        "remediationId",
    ]
    assert len(document["findings"]) == len(state["analysis"]["findings"])
    results = {r["plan"]["remediationId"]: r for r in document["remediations"]}
    assert results["s3.enable_versioning"]["result"] == "APPLIED"
    assert results["s3.enable_versioning"]["applied"]["status"] == "APPLIED"
    assert results["s3.enable_mfa_delete"]["result"] == "SKIPPED"
    assert all(r["approved"] for r in document["remediations"])
    # The person and the requester, as the API authenticated them
    assert document["requestedBy"] == f"{REQUESTER}/console"
    assert document["approval"]["approver"] == f"{APPROVER}/console"
    assert document["approval"]["comment"] == "reviewed"
    assert [s["name"] for s in document["steps"]][:2] == ["Discover Bucket", "Analyze Configuration"]
    assert "Recheck Configuration" in [s["name"] for s in document["steps"]]
    assert set(document["steps"][0]) == {"name", "status", "attempts", "started", "ended", "error"}
    assert document["verification"]["allFixed"] is True


def test_build_report_does_not_believe_the_state_about_approval_requester_or_applied_plans() -> None:
    # Given the state claims an approval and applied plans, but storage holds no such records
    state = _state()
    state["request"]["requestedBy"] = "arn:aws:iam::123456789012:user/mallory"
    # When
    document = _valid(build_report(state, [], records=AuditRecords(), location=LOCATION, now=NOW))
    # Then nobody is said to have asked or approved, and nothing is said to have been applied
    assert document["approval"] is None and document["requestedBy"] is None
    assert {(r["approved"], r["applied"], r["result"]) for r in document["remediations"]} == {
        (False, None, "PROPOSED")
    }
    assert "mallory" not in json.dumps(document)


def test_build_report_rejected_marks_plans_not_approved() -> None:
    # Given the state says approve, the sealed decision says reject
    state = _state()
    for key in ("applied", "verification"):
        del state[key]
    state["outcome"] = "REJECTED"
    records = AuditRecords(request=_request(), decision=_decision("reject"))
    # When
    document = _valid(build_report(state, [], records=records, location=LOCATION, now=NOW))
    # Then
    assert {(r["approved"], r["applied"], r["result"]) for r in document["remediations"]} == {
        (False, None, "NOT_APPROVED")
    }
    assert document["approval"]["decision"] == "reject" and document["approval"]["comment"] == "not now"
    assert document["approval"]["remediationIds"] is None and document["verification"] is None
    assert document["outcome"] == "REJECTED"  # a person's sealed rejection: the outcome stands


def _rejected_state() -> dict[str, Any]:
    """The state of an execution routed by Approved? to Mark Rejected."""
    state = _state()
    for key in ("applied", "verification", "planCheck"):
        del state[key]
    state["outcome"] = "REJECTED"
    return state


@pytest.mark.parametrize(
    "decision",
    [None, _decision("approve")],
    ids=["no-decision-on-record", "an-approval-on-record"],
)
def test_build_report_rejected_without_a_sealed_rejection_is_approval_invalid(
    decision: Decision | None,
) -> None:
    # Given the wait ended "rejected" (someone sent the task a result with its token), but no
    # person's sealed rejection is on record
    records = AuditRecords(request=_request(), decision=decision)
    # When
    document = _valid(build_report(_rejected_state(), [], records=records, location=LOCATION, now=NOW))
    # Then the report does not say a person rejected: the approval was not valid
    assert document["outcome"] == "APPROVAL_INVALID"
    assert {r["applied"] for r in document["remediations"]} == {None}


def test_write_report_of_a_rejection_without_the_api_s_seal_is_approval_invalid(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # Given a sealed request, and a rejection planted in decisions/ without the API's seal
    storage.request()
    storage.discover_and_analyze()
    planted = {"record": _decision("reject").to_json_dict(), "seal": "AAAA"}
    write_object(REPORTS, decision_key(AUDIT), planted, storage.clients)
    sfn = _Histories({AUDIT: _ended_in("Mark Rejected")})
    # When the report of the execution that ended REJECTED is written
    _store_outputs(storage, "applied", "verification", "planCheck")
    state = {k: v for k, v in _event()["state"].items() if k not in ("applied", "verification", "planCheck")}
    report = write_report(
        f"{MACHINE}:{AUDIT}",
        state | {"outcome": "REJECTED"},
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, sfn),
    )
    # Then it is stored and announced as APPROVAL_INVALID, with no approval
    assert report.outcome == "APPROVAL_INVALID" and report.approval is None
    stored = session.client("s3").get_object(Bucket=REPORTS, Key=f"reports/{AUDIT}.json")
    assert json.loads(stored["Body"].read())["outcome"] == "APPROVAL_INVALID"
    assert [json.loads(e["Detail"])["outcome"] for e in events] == ["APPROVAL_INVALID"]


def test_build_report_approval_of_a_selection_applies_only_it() -> None:
    # Given a person approved two remediations, and Apply's record holds their results
    state = _state()
    chosen = ["s3.put_bucket_public_access_block", "s3.put_default_encryption"]
    progress = _progress(state)
    progress.results = [r for r in progress.results if r.remediation_id in chosen]
    records = AuditRecords(request=_request(), decision=_decision(remediation_ids=chosen), progress=progress)
    # When
    document = _valid(build_report(state, [], records=records, location=LOCATION, now=NOW))
    # Then
    results = {r["plan"]["remediationId"]: (r["approved"], r["result"]) for r in document["remediations"]}
    assert {k for k, (approved, _) in results.items() if approved} == set(chosen)
    assert {results[k][1] for k in chosen} == {"APPLIED"}
    assert {v[1] for k, v in results.items() if k not in chosen} == {"NOT_APPROVED"}


def test_build_report_shows_a_plan_as_applied_from_apply_s_record() -> None:
    # Given Apply re-planned a plan (a subset edits the policy differently from the full proposal)
    state = _state()
    progress = _progress(state)
    as_applied = progress.plans[3].model_copy(
        update={"cli_command": "aws s3api put-bucket-policy (re-planned)"}
    )
    progress.plans[3] = as_applied
    records = AuditRecords(request=_request(), decision=_decision(), progress=progress)
    # When
    document = _valid(build_report(state, [], records=records, location=LOCATION, now=NOW))
    # Then the report shows what was applied, not what was first proposed
    shown = next(r for r in document["remediations"] if r["plan"]["planId"] == as_applied.plan_id)
    assert shown["plan"]["cliCommand"] == "aws s3api put-bucket-policy (re-planned)"


def test_build_report_plan_mode_without_decision_lists_proposed_plans() -> None:
    state = _state()
    for key in ("approval", "applied", "verification", "planCheck"):
        state.pop(key, None)
    state["request"]["mode"] = "plan"
    state["outcome"] = "NON_COMPLIANT"
    request = _request().model_copy(update={"mode": "plan"})
    document = _valid(
        build_report(state, [], records=AuditRecords(request=request), location=LOCATION, now=NOW)
    )
    assert {r["result"] for r in document["remediations"]} == {"PROPOSED"}
    assert document["approval"] is None and document["mode"] == "plan"


def test_build_report_mode_and_resource_come_from_the_request_record() -> None:
    # Given the state's input names another mode than the sealed request
    state = _state()
    state["request"]["mode"] = "plan"
    document = _valid(build_report(state, [], records=_records(_state()), location=LOCATION, now=NOW))
    assert document["mode"] == "remediate"


def test_build_report_approval_invalid_is_an_outcome() -> None:
    state = _state()
    for key in ("applied", "verification", "planCheck"):
        del state[key]
    state |= {
        "outcome": "APPROVAL_INVALID",
        "error": {"Error": "ApprovalInvalid", "Cause": "no person has decided"},
    }
    document = _valid(
        build_report(state, [], records=AuditRecords(request=_request()), location=LOCATION, now=NOW)
    )
    assert document["outcome"] == "APPROVAL_INVALID" and document["failure"] is None
    assert {r["result"] for r in document["remediations"]} == {"PROPOSED"}


def test_build_report_failed_explains_the_caught_error_without_its_trace() -> None:
    # Given Apply Fixes failed; its Catch went to "Mark Failed" with the Lambda's error payload in
    # $.error (a message the agent wrote, the request id, and a stack trace with file paths)
    state = _state()
    for key in ("applied", "verification"):
        del state[key]
    payload = {
        "errorType": "AccessDenied",
        "errorMessage": "s3:PutBucketPolicy failed: AccessDenied",
        "requestId": "5c1d2e3f-0000-4000-8000-000000000001",
        "stackTrace": ['  File "/var/task/secagent/remediation/apply.py", line 42, in execute_api_call\n'],
    }
    state |= {"outcome": "ACCESS_DENIED", "error": {"Error": "AccessDenied", "Cause": json.dumps(payload)}}
    records = AuditRecords(request=_request(), decision=_decision())
    # When
    report = build_report(
        state, build_timeline(_history("caught")), records=records, location=LOCATION, now=NOW
    )
    # Then the failure names the step, says what to do, and carries the id the logs know it by
    document = _valid(report)
    assert document["failure"] == {
        "step": "Apply Fixes",
        "error": "AccessDenied",
        "message": "Apply Fixes was refused access: s3:PutBucketPolicy failed: AccessDenied. Give the "
        "stack's role that access (docs/iam.md) or lift the deny (a bucket policy, an SCP), then start a "
        "new audit.",
        "correlationId": "5c1d2e3f-0000-4000-8000-000000000001",
        "resumable": False,
    }
    assert {r.result for r in report.remediations} == {"NOT_RUN"}
    # and nothing of the trace is anywhere in the report
    text = json.dumps(document)
    assert (
        'File \\"' not in text and ".py" not in text and "stackTrace" not in text and "/var/task" not in text
    )


def test_build_report_failed_without_caught_error_takes_it_from_the_history() -> None:
    state = _state()
    for key in ("applied", "verification"):
        del state[key]
    state["outcome"] = "FAILED"
    report = build_report(
        state, build_timeline(_history("caught")), location=LOCATION, now=NOW, execution_name="audit-1"
    )
    assert report.failure is not None and (report.failure.step, report.failure.error) == (
        "Apply Fixes",
        "AccessDenied",
    )
    assert report.failure.message.startswith("Apply Fixes was refused access")
    # no Lambda request id in the history's cause: the execution and step name it in the logs
    assert report.failure.correlation_id == "audit-1/Apply Fixes"


@pytest.mark.parametrize("drop", ["auditId", "request", "outcome", "startedAt"])
def test_build_report_malformed_state_raises_invalid_input(drop: str) -> None:
    state = _state()
    del state[drop]
    with pytest.raises(InvalidInput):
        build_report(state, [], location=LOCATION)


def test_publish_report_writes_json_and_announces_it(
    session: boto3.Session, events: list[dict[str, Any]]
) -> None:
    # Given the product's own bus
    session.client("events").create_event_bus(Name="SecurityAgentEvents")
    state = _state()
    report = build_report(
        state, build_timeline(_history("happy")), records=_records(state), location=LOCATION, now=NOW
    )
    # When
    key = publish_report(report, bucket=REPORTS, session=session, event_bus="SecurityAgentEvents")
    # Then the stored object is the report
    assert key == f"reports/{report.audit_id}.json"
    obj = session.client("s3").get_object(Bucket=REPORTS, Key=key)
    assert obj["ContentType"] == "application/json"
    assert json.loads(obj["Body"].read()) == report.to_json_dict()
    # and the event points at it
    (entry,) = events
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "secagent",
        "Audit Completed",
        "SecurityAgentEvents",
    )
    fails = sum(f.status == "FAIL" for f in report.findings)
    assert json.loads(entry["Detail"]) == {
        "auditId": report.audit_id,
        "resource": {"type": "AWS::S3::Bucket", "id": report.resource.id},
        "resourceArn": f"arn:aws:s3:::{report.resource.id}",
        "account": report.account,
        "region": report.region,
        "outcome": "PARTIALLY_REMEDIATED",
        "reportBucket": REPORTS,
        "reportKey": key,
        "findingCounts": {"pass": len(report.findings) - fails, "fail": fails, "unknown": 0, "exempt": 0},
    }


def test_a_finding_seen_again_with_the_same_status_keeps_the_time_it_was_first_seen() -> None:
    # Given a remediate audit: access logging failed and still fails after Verify; versioning was
    # fixed (FAIL before, PASS after); the public-policy check passed throughout
    first, history = carry_observations(
        build_report(_state(), build_timeline(_history("happy")), location=LOCATION, now=NOW), Observations()
    )
    by_check = {f.check_id: f for f in first.findings}
    analyzed = by_check["s3_bucket_access_logging_disabled"].first_observed_at
    assert analyzed is not None
    # When the next audit reads the bucket two days later and finds them FAIL, FAIL and PASS
    later = _state()
    later["analysis"]["snapshotReadAt"] = (analyzed + timedelta(days=2)).isoformat()
    second, _ = carry_observations(
        build_report(later, build_timeline(_history("happy")), location=LOCATION, now=NOW), history
    )
    again = {f.check_id: f for f in second.findings}
    # Then the finding that kept failing keeps its first observation, with the same id
    logging = again["s3_bucket_access_logging_disabled"]
    assert logging.finding_id == by_check["s3_bucket_access_logging_disabled"].finding_id
    assert logging.first_observed_at == analyzed
    assert again["s3_bucket_policy_public"].first_observed_at == analyzed  # PASS, and PASS before
    # while the one Verify had fixed fails anew: first seen (failing again) by this audit
    assert again["s3_bucket_versioning_disabled"].first_observed_at == analyzed + timedelta(days=2)


def test_a_report_without_findings_keeps_the_observations_of_earlier_audits() -> None:
    # Given a finding failing since January, and an audit that failed before Analyze
    since = datetime(2026, 1, 1, tzinfo=UTC)
    earlier = Observations(findings={"f-critical": Observation(status=Status.FAIL, first_observed_at=since)})
    state = _state()
    for key in ("analysis", "remediation", "approval", "planCheck", "applied", "verification"):
        state.pop(key, None)
    state["outcome"] = "FAILED"
    failed = build_report(state, [], location=LOCATION, now=NOW)
    # When its observations are carried, the earlier one is kept as it was
    _, observed = carry_observations(failed, earlier)
    assert observed.findings == earlier.findings


def test_write_report_stores_the_observations_the_next_audit_of_the_bucket_reads(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    arn = f"{MACHINE}:{AUDIT}"
    clients = _stubbed(session, _Histories({AUDIT: _ended_in("Record Verified Outcome")}))
    s3 = session.client("s3")
    bucket = _state()["request"]["resource"]["id"]
    _store_outputs(storage)
    # An execution the API did not start (no sealed request) observes nothing: a forged one cannot
    # reset a finding's age
    write_report(arn, _event()["state"], bucket=REPORTS, sealer=storage.sealer, clients=clients)
    key = observations_key(ResourceRef(id=bucket))
    assert not s3.list_objects_v2(Bucket=REPORTS, Prefix=key).get("KeyCount")
    # One the API started leaves what it saw for the next audit of the bucket
    storage.request(resource=bucket)
    report = write_report(arn, _event()["state"], bucket=REPORTS, sealer=storage.sealer, clients=clients)
    stored = s3.get_object(Bucket=REPORTS, Key=observations_key(ResourceRef(id=bucket)))
    observed = Observations.model_validate_json(stored["Body"].read())
    versioning = next(f for f in report.findings if f.check_id == "s3_bucket_versioning_disabled")
    assert versioning.finding_id is not None
    # as Verify left the bucket: versioning now passes, since Verify saw it
    assert observed.findings[versioning.finding_id].status is Status.PASS
    assert observed.findings[versioning.finding_id].first_observed_at == versioning.last_observed_at


def _stubbed(session: boto3.Session, sfn: Any) -> ClientFactory:
    inner = client_factory(session)

    def clients(service: str, region: str | None = None) -> Any:
        return sfn if service == "stepfunctions" else inner(service, region)

    return clients


def test_write_report_reads_every_history_page_and_the_records_from_storage(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # Given the API's sealed records of the audit, and a history served in two pages
    decision = storage.approved()
    arn = f"{MACHINE}:{AUDIT}"
    history = _history("happy")
    half = len(history) // 2
    sfn = session.client("stepfunctions")
    stub = Stubber(sfn)
    first = {"executionArn": arn, "maxResults": 1000, "includeExecutionData": False}  # params hold the token
    stub.add_response("get_execution_history", {"events": history[:half], "nextToken": "t"}, first)
    stub.add_response("get_execution_history", {"events": history[half:]}, first | {"nextToken": "t"})
    # When
    with stub:
        _store_outputs(storage)
        report = write_report(
            arn,
            _event()["state"],
            bucket=REPORTS,
            sealer=storage.sealer,
            clients=_stubbed(session, sfn),
        )
    # Then all Task states of both pages are in the steps, and the report is stored and announced
    stub.assert_no_pending_responses()
    assert [s.name for s in report.steps][-1] == "Write Report" and len(report.steps) == 8
    assert session.client("s3").head_object(Bucket=REPORTS, Key=f"reports/{report.audit_id}.json")
    assert [e["DetailType"] for e in events] == ["Audit Completed"]
    # and the approval is the sealed decision (not the state's), the requester the sealed request's
    assert report.approval is not None and report.approval.remediation_ids == decision.remediation_ids
    assert report.approval.approver == f"{APPROVER}/session" and report.requested_by == f"{REQUESTER}/session"
    # The state's plans are a recorded proposal that predates the SSE-C check: the decision, planned
    # live on moto, names one plan more. The plans the report lists are approved as the sealed
    # decision says, not as the state's approval (which approves all of them) says.
    proposed = {p.remediation_id for p in _plans(_state())}
    assert set(decision.remediation_ids) - proposed == {"s3.block_sse_c_uploads"}
    approved = {r.plan.remediation_id for r in report.remediations if r.approved}
    assert approved == set(decision.remediation_ids) & proposed
    assert set(_event()["state"]["approval"]["remediationIds"]) == proposed != approved


def test_load_records_leaves_out_a_record_without_a_valid_seal(
    session: boto3.Session, storage: Storage, clients: ClientFactory
) -> None:
    # Given a genuine request, and a decision planted in decisions/ without the API's seal
    storage.request()
    write_object(
        REPORTS, decision_key(AUDIT), {"record": _decision().to_json_dict(), "seal": "AAAA"}, clients
    )
    # When
    records = load_records(AUDIT, f"{MACHINE}:{AUDIT}", REPORTS, storage.sealer, clients)
    # Then the request is believed, the decision is not
    assert records.request is not None and records.request.requested_by == REQUESTER
    assert records.decision is None and records.progress is None


def test_load_records_of_another_key_believes_nothing(
    session: boto3.Session, storage: Storage, clients: ClientFactory
) -> None:
    # Given records sealed with a key that is not the API's
    Storage(clients, KmsSealer(hmac_key(session), clients)).request()
    records = load_records(AUDIT, f"{MACHINE}:{AUDIT}", REPORTS, storage.sealer, clients)
    assert records.request is None


def _ended_in(*states: str) -> list[dict[str, Any]]:
    """The history of an execution that went through ``states`` (Pass states) to Write Report."""
    events: list[dict[str, Any]] = []
    for name in (*states, "Write Report"):
        kind = "Task" if name == "Write Report" else "Pass"
        events.append(
            {"type": f"{kind}StateEntered", "timestamp": NOW, "stateEnteredEventDetails": {"name": name}}
        )
        if kind == "Pass":
            events.append(
                {"type": "PassStateExited", "timestamp": NOW, "stateExitedEventDetails": {"name": name}}
            )
    return events


class _Histories:
    """A Step Functions client serving a history per execution, page by page."""

    def __init__(self, histories: dict[str, list[dict[str, Any]]]) -> None:
        self.histories = histories
        self.asked: list[str] = []

    def get_execution_history(
        self, executionArn: str, includeExecutionData: bool, **_: Any
    ) -> dict[str, Any]:
        assert includeExecutionData is False
        self.asked.append(executionArn.rsplit(":", 1)[1])
        return {"events": self.histories[executionArn.rsplit(":", 1)[1]]}


def test_load_records_of_a_resume_lists_earlier_executions_and_the_steps_they_finished(
    session: boto3.Session, storage: Storage, clients: ClientFactory
) -> None:
    # Given the audit ran twice before (Apply failed each time); this is the second resume
    sfn = _Histories({AUDIT: _history("caught"), f"{AUDIT}_r1": _history("caught")})

    def make(service: str, region: str | None = None) -> Any:
        return sfn if service == "stepfunctions" else clients(service, region)

    # When
    records = load_records(AUDIT, f"{MACHINE}:{AUDIT}_r2", REPORTS, storage.sealer, make)
    # Then
    assert records.previous_executions == [AUDIT, f"{AUDIT}_r1"] == sfn.asked
    assert records.reused_steps == ["Discover Bucket", "Analyze Configuration", "Propose Fixes"]
    # and the report of the resume names every execution and the reused steps
    state = _state()
    document = _valid(
        build_report(state, [], records=records, location=LOCATION, now=NOW, execution_name=f"{AUDIT}_r2")
    )
    assert document["executions"] == [AUDIT, f"{AUDIT}_r1", f"{AUDIT}_r2"]
    assert document["reusedSteps"] == ["Discover Bucket", "Analyze Configuration", "Propose Fixes"]


def test_load_records_of_a_first_execution_reads_no_other_history(
    storage: Storage, clients: ClientFactory
) -> None:
    sfn = _Histories({})

    def make(service: str, region: str | None = None) -> Any:
        return sfn if service == "stepfunctions" else clients(service, region)

    records = load_records(AUDIT, f"{MACHINE}:{AUDIT}", REPORTS, storage.sealer, make)
    assert (records.previous_executions, records.reused_steps, sfn.asked) == ([], [], [])


def test_load_records_reads_apply_s_record(storage: Storage, clients: ClientFactory) -> None:
    state = _state()
    storage.checkpoint(AUDIT, "applied", _progress(state).to_json_dict())
    records = load_records(AUDIT, f"{MACHINE}:{AUDIT}", REPORTS, storage.sealer, clients)
    assert records.progress == _progress(state)


def test_the_report_never_lists_its_own_step_as_running() -> None:
    # Given the history as Write Report reads it: its own step entered, not yet exited
    state = _state()
    timeline = build_timeline(_history("happy"))
    writing = [*timeline[:-1], timeline[-1].model_copy(update={"status": "running", "ended": None})]
    # When the report is built
    report = build_report(state, writing, records=_records(state), location=LOCATION, now=NOW)
    # Then it lists the steps before it, none of them running
    assert [s.name for s in report.steps][-1] == "Verify Fixes"
    assert all(s.status != "running" for s in report.steps)


# --- What a SIEM and a ticket need: where, which finding, when, against which control -----------


def _verified_state() -> dict[str, Any]:
    """The remediated run's state, its snapshot read in the same minutes as its history."""
    state = _state()
    state["analysis"]["snapshotReadAt"] = "2025-03-01T12:00:00.900000+00:00"
    return state


def test_build_report_names_account_region_partition_and_the_bucket_arn() -> None:
    # Given an execution in another partition, and Discover found the bucket in another region
    state = _state()
    state["discovery"] |= {"accountId": "210987654321", "region": "us-gov-east-1"}
    location = AwsLocation(partition="aws-us-gov", region="us-gov-west-1", account="210987654321")
    # When
    document = _valid(build_report(state, [], records=_records(state), location=location, now=NOW))
    # Then the bucket's account and region, the execution's partition, and the bucket's ARN in it
    assert (document["account"], document["region"], document["partition"]) == (
        "210987654321",
        "us-gov-east-1",
        "aws-us-gov",
    )
    assert document["resourceArn"] == "arn:aws-us-gov:s3:::audited-app-bucket"
    assert document["resource"] == {"type": "AWS::S3::Bucket", "id": "audited-app-bucket"}


def test_build_report_without_discovery_takes_account_and_region_from_the_execution() -> None:
    # Given Discover failed: the state has no snapshot
    state = _state()
    for key in ("discovery", "analysis", "remediation", "approval", "applied", "verification", "planCheck"):
        state.pop(key, None)
    state |= {"outcome": "FAILED", "failure": {"step": "Discover Bucket", "error": "AccessDenied"}}
    # When
    document = _valid(build_report(state, [], location=LOCATION, now=NOW))
    # Then
    assert (document["account"], document["region"], document["partition"]) == (
        "123456789012",
        "us-east-1",
        "aws",
    )
    assert document["findings"] == [] and document["summary"]["before"]["total"] == 0
    assert document["summary"]["after"] is None


def test_finding_ids_are_stable_per_resource_and_check() -> None:
    # Given the same bucket audited twice, at other times, by other executions
    first = build_report(_state(), [], location=LOCATION, now=NOW)
    again_state = _state() | {"auditId": "audit-20250402-0007", "startedAt": "2025-04-02T08:00:00Z"}
    again = build_report(again_state, [], location=LOCATION, now=datetime(2025, 4, 2, 8, 3, tzinfo=UTC))
    # Then each check's finding has the same id in both, and no two checks share one
    ids = {f.check_id: f.finding_id for f in first.findings}
    assert ids == {f.check_id: f.finding_id for f in again.findings}
    assert len(set(ids.values())) == len(ids) == len(first.findings)
    # The id is uuid5(NAMESPACE_URL, "{resourceArn}#{checkId}"): anyone can recompute it
    name = "arn:aws:s3:::audited-app-bucket#s3_bucket_versioning_disabled"
    assert ids["s3_bucket_versioning_disabled"] == str(uuid.uuid5(uuid.NAMESPACE_URL, name))
    # and another bucket (or partition) gives other ids
    elsewhere = AwsLocation(partition="aws-cn", region="cn-north-1", account="123456789012")
    other = build_report(_state(), [], location=elsewhere, now=NOW)
    assert not set(ids.values()) & {f.finding_id for f in other.findings}


def test_finding_ids_of_a_check_with_two_findings_on_one_resource_differ() -> None:
    state = _state()
    findings = state["analysis"]["findings"]
    findings.insert(1, {**findings[0], "evidence": {"second": True}})
    report = build_report(state, [], location=LOCATION, now=NOW)
    twice = [f.finding_id for f in report.findings if f.check_id == findings[0]["checkId"]]
    assert len(twice) == 2 and len(set(twice)) == 2
    assert twice[0] == build_report(_state(), [], location=LOCATION, now=NOW).findings[0].finding_id


def test_findings_are_first_observed_by_analyze_and_last_by_verify() -> None:
    # Given a run whose Verify Fixes ended at 12:01:42.3 and judged every check again
    state = _verified_state()
    # When
    document = _valid(
        build_report(
            state, build_timeline(_history("happy")), records=_records(state), location=LOCATION, now=NOW
        )
    )
    # Then
    assert {(f["firstObservedAt"], f["lastObservedAt"]) for f in document["findings"]} == {
        ("2025-03-01T12:00:00.900000Z", "2025-03-01T12:01:42.300000Z")
    }


def test_a_check_verify_did_not_judge_was_last_observed_by_analyze() -> None:
    state = _verified_state()
    skipped = state["verification"]["findings"].pop()["checkId"]
    report = build_report(
        state, build_timeline(_history("happy")), records=_records(state), location=LOCATION, now=NOW
    )
    verify_ended = datetime(2025, 3, 1, 12, 1, 42, 300000, tzinfo=UTC)
    assert {
        f.check_id: f.last_observed_at for f in report.findings if f.last_observed_at != verify_ended
    } == {skipped: datetime(2025, 3, 1, 12, 0, 0, 900000, tzinfo=UTC)}


def test_findings_of_a_plan_are_last_observed_when_first() -> None:
    state = _verified_state()
    for key in ("approval", "applied", "verification", "planCheck"):
        state.pop(key, None)
    state["outcome"] = "NON_COMPLIANT"
    report = build_report(state, build_timeline(_history("happy")), location=LOCATION, now=NOW)
    assert {(f.first_observed_at, f.last_observed_at) for f in report.findings} == {
        (datetime(2025, 3, 1, 12, 0, 0, 900000, tzinfo=UTC),) * 2
    }


def test_controls_are_named_as_their_standards_name_them() -> None:
    document = _valid(build_report(_state(), [], location=LOCATION, now=NOW))
    controls = {f["checkId"]: f["controls"] for f in document["findings"]}
    assert controls["s3_bucket_tls_not_enforced"] == [
        {"standard": "aws-foundational-security-best-practices/v/1.0.0", "control": "S3.5"},
        {"standard": "cis-aws-foundations-benchmark/v/3.0.0", "control": "2.1.1"},
    ]
    assert controls["s3_bucket_website_enabled"] == []


def test_every_registered_control_has_its_standard_and_its_short_form_back() -> None:
    for meta in list_checks():
        for short in meta.controls:
            control = ReportControl.parse(short)
            assert control.standard in STANDARDS.values() and control.label == short


@pytest.mark.parametrize("short", ["S3.2", "FSBP:", "CIS:2.1.4", "NIST:AC-3"])
def test_a_control_of_no_known_standard_is_refused(short: str) -> None:
    with pytest.raises(ValueError, match="known standard"):
        ReportControl.parse(short)


def test_summary_counts_by_status_and_failing_severity_before_and_after_verify() -> None:
    state = _state()
    document = _valid(build_report(state, [], records=_records(state), location=LOCATION, now=NOW))
    summary = document["summary"]
    assert summary["outcome"] == document["outcome"] == "PARTIALLY_REMEDIATED"
    assert summary["before"] == {
        "total": 17,
        "byStatus": {"pass": 7, "fail": 10, "unknown": 0, "exempt": 0},
        "failingBySeverity": {"critical": 0, "high": 2, "medium": 5, "low": 3, "info": 0},
    }
    assert summary["after"] == {
        "total": 17,
        "byStatus": {"pass": 15, "fail": 2, "unknown": 0, "exempt": 0},
        "failingBySeverity": {"critical": 0, "high": 0, "medium": 1, "low": 1, "info": 0},
    }


def test_product_and_check_registry_versions() -> None:
    check_registry_version.cache_clear()  # computed once per process: sources edited since then
    document = _valid(build_report(_state(), [], location=LOCATION, now=NOW))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert document["product"] == {"name": "secagent", "version": pyproject["project"]["version"]}
    assert document["checkRegistry"] == {"version": registry_version(), "checks": len(registry())}
    assert re.fullmatch(r"[0-9a-f]{16}", document["checkRegistry"]["version"])


def test_registry_version_is_the_same_for_the_same_sources_and_changes_with_them(tmp_path: Path) -> None:
    # Given a copy of the check package
    copy_of = tmp_path / "checks"
    shutil.copytree(CHECKS_DIR, copy_of, ignore=shutil.ignore_patterns("__pycache__"))
    assert registry_version(copy_of) == registry_version()
    # When one check's source changes
    (copy_of / "s3" / "s3_bucket_website_enabled.py").write_text("# changed\n", encoding="utf-8")
    # Then so does the version
    assert registry_version(copy_of) != registry_version()


def test_write_report_takes_partition_region_and_account_from_the_execution_arn(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # An execution that failed in Discover: nothing stored, its input names the bucket
    state = {k: v for k, v in _event()["state"].items() if k != "discovery"}
    report = write_report(
        f"arn:aws-cn:states:cn-north-1:123456789012:execution:SecurityAgentAudit:{AUDIT}",
        state,
        given=_event()["input"],
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, _Histories({AUDIT: _ended_in("Mark Failed")})),
    )
    assert (report.partition, report.region, report.account) == ("aws-cn", "cn-north-1", "123456789012")
    assert report.resource_arn == "arn:aws-cn:s3:::audited-app-bucket"


@pytest.mark.parametrize(
    "arn", ["", "audit-1", "arn:aws:states:us-east-1::execution:m:a", "x:aws:states:r:1:e:m:a"]
)
def test_aws_location_of_something_else_than_an_execution_arn_is_invalid_input(arn: str) -> None:
    with pytest.raises(InvalidInput):
        AwsLocation.of(arn)


def test_the_json_schema_is_versioned_and_requires_what_a_siem_keys_on() -> None:
    assert SCHEMA["$id"] == f"urn:secagent:report:{REPORT_SCHEMA_VERSION}" == "urn:secagent:report:2"
    assert SCHEMA["properties"]["schemaVersion"]["const"] == "2"
    top = {"schemaVersion", "account", "region", "partition", "resourceArn", "product", "checkRegistry"}
    assert top | {"summary"} <= set(SCHEMA["required"])
    finding = SCHEMA["$defs"]["ReportFinding"]
    assert {"findingId", "firstObservedAt", "lastObservedAt", "controls"} <= set(finding["required"])
    # Never null in what is written
    assert SCHEMA["properties"]["account"] == {
        "description": "the bucket's account",
        "title": "Account",
        "type": "string",
    }
    assert finding["properties"]["findingId"]["type"] == "string"


def test_a_schema_version_1_report_is_still_read() -> None:
    # Given a report a stack deployed before schemaVersion 2 wrote
    stored = json.loads((ROOT / "tests" / "unit" / "cli" / "report_plan.json").read_text())
    # When
    report = Report.model_validate(stored)
    # Then it is read as it is: its controls as objects, what it never had as None
    assert report.schema_version == "1" and report.account is None and report.summary is None
    short = {f["checkId"]: f["controls"] for f in stored["findings"]}
    assert {f.check_id: [c.label for c in f.controls] for f in report.findings} == short
    assert {f.finding_id for f in report.findings} == {None}
    # and the JSON Schema, which is 2's, refuses it
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(stored, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_a_schema_version_1_failure_is_read_without_its_raw_cause() -> None:
    # Given a failed report of schema 1, whose failure and step error kept the raw cause (a trace)
    stored = json.loads((ROOT / "tests" / "unit" / "cli" / "report_plan.json").read_text())
    trace = 'Traceback (most recent call last):\n  File "/var/task/lambdas/apply.py", line 3'
    stored |= {
        "outcome": "FAILED",
        "failure": {"step": "Apply Fixes", "error": "KeyError", "cause": trace},
        "steps": [
            {"name": "Apply Fixes", "status": "failed", "error": {"error": "KeyError", "cause": trace}}
        ],
    }
    # When it is read, the cause is gone: the step and the error's name remain
    report = Report.model_validate(stored)
    assert report.failure is not None and (report.failure.step, report.failure.error) == (
        "Apply Fixes",
        "KeyError",
    )
    assert report.failure.message == "Apply Fixes failed (KeyError)."
    assert "Traceback" not in report.model_dump_json()


def test_the_report_of_the_write_report_event_fixture_validates() -> None:
    # The report of tests/events/report.json as the Write Report Lambda builds it from that event
    event = json.loads((EVENTS / "report.json").read_text())
    location = AwsLocation.of(event["executionArn"])
    document = _valid(build_report(_state(), build_timeline(_history("happy")), location=location))
    assert document["resourceArn"] == "arn:aws:s3:::audited-app-bucket"


# --- Write Report trusts the history and storage, not the state it is handed --------------------------


def test_attack_a_forged_outcome_in_the_state_is_not_reported(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # Given a plan-mode audit whose history ends in "Mark Plans Proposed"; someone invokes Write
    # Report directly inside its window with a state that claims REMEDIATED
    storage.request(mode="plan")
    _store_outputs(storage, "applied", "verification", "planCheck")
    forged = {**_event()["state"], "outcome": "REMEDIATED"}
    # When
    report = write_report(
        f"{MACHINE}:{AUDIT}",
        forged,
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, _Histories({AUDIT: _ended_in("Mark Plans Proposed")})),
    )
    # Then the report says what the history and storage say
    assert report.outcome == "NON_COMPLIANT" and report.verification is None
    assert [json.loads(e["Detail"])["outcome"] for e in events] == ["NON_COMPLIANT"]


def test_a_verified_outcome_is_the_one_verify_stored(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    storage.request()
    _store_outputs(storage)
    stored = json.loads((EVENTS / "stored_outputs.json").read_text())["verification"]["outcome"]
    report = write_report(
        f"{MACHINE}:{AUDIT}",
        {**_event()["state"], "outcome": "REMEDIATED"},
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, _Histories({AUDIT: _ended_in("Record Verified Outcome")})),
    )
    assert report.outcome == stored == "PARTIALLY_REMEDIATED"


def test_attack_a_malformed_task_result_does_not_stop_the_report(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # Given someone with the task token sent a result of their own shape, routed to Mark Rejected
    storage.request()
    _store_outputs(storage, "applied", "verification", "planCheck")
    state = {**_event()["state"], "approval": {"decision": "nope", "extra": [1, 2]}}
    # When / Then the report is written, and no person's rejection is claimed
    report = write_report(
        f"{MACHINE}:{AUDIT}",
        state,
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, _Histories({AUDIT: _ended_in("Mark Rejected")})),
    )
    assert report.outcome == "APPROVAL_INVALID" and report.approval is None


def test_an_input_that_leaves_out_the_resource_still_gets_a_report_of_the_sealed_one(
    session: boto3.Session, storage: Storage, events: list[dict[str, Any]]
) -> None:
    # Given Discover met a missing bucket after checking an input that named no resource
    storage.request(resource="gone-bucket")
    state = {
        "auditId": AUDIT,
        "startedAt": _event()["state"]["startedAt"],
        "error": {"Error": "ResourceNotFound"},
    }
    # When
    report = write_report(
        f"{MACHINE}:{AUDIT}",
        state,
        given={"mode": "remediate"},
        bucket=REPORTS,
        sealer=storage.sealer,
        clients=_stubbed(session, _Histories({AUDIT: _ended_in("Mark Resource Not Found")})),
    )
    # Then it is the report of the sealed request's bucket
    assert report.outcome == "RESOURCE_NOT_FOUND" and report.resource.id == "gone-bucket"


def test_every_state_that_sets_the_outcome_is_known_to_the_report() -> None:
    asl = json.loads((ROOT / "statemachine" / "audit.asl.json").read_text())["States"]
    setters = {
        name: s["Result"]
        for name, s in asl.items()
        if s["Type"] == "Pass" and s.get("ResultPath") == "$.outcome" and "Result" in s
    }
    assert setters == {name: outcome.value for name, outcome in OUTCOME_STATES.items()}
    assert asl[VERIFIED_OUTCOME_STATE]["InputPath"] == "$.verification.outcome"


def test_a_security_groups_observations_never_share_a_bucket_named_like_it() -> None:
    group = ResourceRef(type="AWS::EC2::SecurityGroup", id="sg-0123456789abcdef0")
    bucket = ResourceRef(id="sg-0123456789abcdef0")  # a valid bucket name too
    assert observations_key(bucket) == "observations/sg-0123456789abcdef0.json"
    assert observations_key(group) == "observations/AWS-EC2-SecurityGroup/sg-0123456789abcdef0.json"


def test_an_audit_whose_checks_could_not_judge_is_never_reported_compliant() -> None:
    # Given the history of "Any Failing Checks?" routing to Mark Compliant (no FAIL), and an analysis
    # in which a denied read left checks UNKNOWN
    steps = [StepRecord(name="Mark Compliant", status="succeeded", type="Pass")]
    unknown = {"checkId": "ec2_security_group_ssh_open_to_internet", "status": "UNKNOWN"}
    passing = {"checkId": "ec2_security_group_unused", "status": "PASS"}
    # Then the outcome is NON_COMPLIANT; with every check judged PASS it stays COMPLIANT
    assert outcome_of(steps, {"analysis": {"findings": [passing, unknown]}}) is Outcome.NON_COMPLIANT
    assert outcome_of(steps, {"analysis": {"findings": [passing]}}) is Outcome.COMPLIANT
