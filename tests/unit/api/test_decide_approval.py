"""decide_approval: seal the decision, wake the waiting task once, refuse everything else.

Each audit here is seeded as the workflow leaves it (tests.unit.api.conftest.seed_audit): the
sealed request, the discovery and analysis checkpoints of a public moto bucket, the PENDING
approvals record and the task token in tokens/.
"""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from secagent.api import (
    ApiSettings,
    ApprovalRequest,
    BadRequest,
    Conflict,
    NotFound,
    RecordStore,
    UpstreamError,
    decide_approval,
)
from secagent.api.identity import Caller
from secagent.api.models import ApprovalResponse
from secagent.models import Snapshot
from secagent.models.records import Decision
from secagent.workflow.approval import decision_output
from secagent.workflow.store import decision_key, read_sealed, token_key
from tests.unit.api.conftest import (
    APPROVER,
    APPROVER_ARN,
    AUDIT_ID,
    EXECUTION_ARN,
    REPORT_BUCKET,
    REQUESTER,
    TOKEN,
    Seeded,
    caller,
    exists,
    get_json,
    reach_approval,
    record_resumes,
    seed_audit,
)
from tests.unit.api.fakes import FailingS3, FakeStepFunctions

KEY = f"approvals/{AUDIT_ID}.json"
SEEDED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def seeded(sfn: FakeStepFunctions, records: RecordStore, public_snapshot: Snapshot) -> Seeded:
    """An audit of a public bucket awaiting approval since SEEDED_AT (for an hour)."""
    return seed_audit(sfn, records, public_snapshot, now=SEEDED_AT)


def decide(
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    decision: str = "approve",
    *,
    approver: Caller = APPROVER,
    **body: Any,
) -> ApprovalResponse:
    """A decision as POST /audits/{id}/approval makes it; an approval quotes the default digest."""
    if decision == "approve":
        body.setdefault("planDigest", seeded.default_digest)
    request = ApprovalRequest.model_validate(
        {"decision": decision, **{k: v for k, v in body.items() if v is not None}}
    )
    return decide_approval(seeded.audit_id, request, approver, sfn, s3, settings, records, now=lambda: NOW)


def decision_on_record(records: RecordStore, audit_id: str = AUDIT_ID) -> Decision | None:
    return read_sealed(records.bucket, decision_key(audit_id), Decision, records.sealer, records.clients)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_decision_is_sealed_then_wakes_the_task_once_and_marks_the_record_decided(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    decision: str,
) -> None:
    # Given an execution waiting on its approval task
    # When another person decides
    response = decide(sfn, s3, settings, records, seeded, decision, comment="looked at the plans")
    approved = decision == "approve"
    # Then the answer says what was decided: for an approval, the default selection and its digest
    assert response.to_json_dict() == {
        "auditId": AUDIT_ID,
        "decision": decision,
        "remediationIds": seeded.default_ids if approved else None,
        "planDigest": seeded.default_digest if approved else None,
    }
    # And the decision is on record, sealed by the API, naming both people
    sealed = decision_on_record(records)
    assert sealed is not None
    assert (sealed.decision, sealed.approver, sealed.approver_arn, sealed.requested_by) == (
        decision,
        APPROVER.principal,
        APPROVER_ARN,
        REQUESTER.principal,
    )
    assert (sealed.comment, sealed.decided_at, sealed.selection) == ("looked at the plans", NOW, "default")
    assert sealed.remediation_ids == (seeded.default_ids if approved else [])
    # And the task got exactly one success, carrying the decision's routing summary only
    [sent] = sfn.called("SendTaskSuccess")
    assert sent["taskToken"] == TOKEN
    assert sent["output"] == decision_output(sealed)
    assert "looked at the plans" not in sent["output"]
    # And the approvals record is DECIDED, keeps its plans, and never held the token
    record = get_json(s3, KEY)
    assert (record["status"], record["decision"], record["approver"]) == ("DECIDED", decision, APPROVER_ARN)
    assert record["decidedAt"] == "2025-03-01T12:30:00Z"
    assert record["plans"] == seeded.record.to_json_dict()["plans"]
    assert (record.get("remediationIds"), record.get("approvedDigest")) == (
        (seeded.default_ids, seeded.default_digest) if approved else (None, None)
    )
    assert TOKEN not in json.dumps(record)


def test_decision_without_comment_records_none(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    decide(sfn, s3, settings, records, seeded)
    sealed = decision_on_record(records)
    assert sealed is not None and sealed.comment is None


def test_decide_approval_unknown_audit_raises_not_found(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    request = ApprovalRequest(decision="reject")
    with pytest.raises(NotFound):
        decide_approval(AUDIT_ID, request, APPROVER, sfn, s3, settings, records)
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_before_the_approval_step_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given a running execution that has not reached the approval step
    sfn.add_execution(EXECUTION_ARN, input="{}")
    # When someone decides
    with pytest.raises(Conflict) as caught:
        decide_approval(AUDIT_ID, ApprovalRequest(decision="reject"), APPROVER, sfn, s3, settings, records)
    # Then 409, and nothing was sent or recorded
    assert caught.value.status == 409
    assert (
        caught.value.message
        == f'Audit "{AUDIT_ID}" is not awaiting approval: no plans were proposed for approval.'
    )
    assert sfn.called("SendTaskSuccess") == [] and decision_on_record(records) is None


def test_decide_approval_second_decision_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given a decision already made
    decide(sfn, s3, settings, records, seeded, "approve")
    # When a second one comes
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded, "reject")
    # Then 409 from the record, the task was resumed only once, and the first decision stands
    assert caught.value.message == f'Audit "{AUDIT_ID}" was already decided (approve).'
    assert len(sfn.called("SendTaskSuccess")) == 1
    sealed = decision_on_record(records)
    assert sealed is not None and sealed.decision == "approve"


def test_decide_approval_token_already_used_raises_conflict_without_token(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given a record still PENDING whose token another request has just used (a race)
    sfn.tokens.clear()
    # When someone decides, Step Functions answers InvalidToken (quoting the token)
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded)
    # Then 409 naming the reason, not the token; the approvals record is left alone
    assert caught.value.message == f'Audit "{AUDIT_ID}" is no longer awaiting approval (InvalidToken).'
    assert TOKEN not in str(caught.value) and caught.value.__cause__ is None
    assert get_json(s3, KEY)["status"] == "PENDING"


@pytest.mark.parametrize("code", ["TaskDoesNotExist", "InvalidToken", "TaskTimedOut"])
def test_decide_approval_stale_token_codes_raise_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded, code: str
) -> None:
    sfn.fail("SendTaskSuccess", code, f"refused '{TOKEN}'")
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded)
    assert code in caught.value.message and TOKEN not in caught.value.message


def test_decide_approval_unexpected_sfn_error_hides_the_sdk_message(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    sfn.fail("SendTaskSuccess", "ThrottlingException", f"slow down '{TOKEN}'")
    with pytest.raises(UpstreamError) as caught:
        decide(sfn, s3, settings, records, seeded)
    assert str(caught.value) == "SendTaskSuccess failed: ThrottlingException"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_decide_approval_without_a_stored_token_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given the pending plans are on record but the token is not (Await Approval wrote it first)
    s3.delete_object(Bucket=REPORT_BUCKET, Key=token_key(AUDIT_ID, AUDIT_ID))
    # When someone approves
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded)
    # Then 409 and nothing was sent
    assert caught.value.message == f'Audit "{AUDIT_ID}" is not awaiting approval: its task token is gone.'
    assert sfn.called("SendTaskSuccess") == []


@pytest.mark.parametrize("sfn_status", ["SUCCEEDED", "FAILED", "ABORTED"])
def test_decide_approval_execution_not_running_raises_conflict(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    sfn_status: str,
) -> None:
    sfn.executions[EXECUTION_ARN].status = sfn_status
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded)
    assert caught.value.message == f'Audit "{AUDIT_ID}" is not awaiting approval: it is {sfn_status}.'
    assert sfn.called("SendTaskSuccess") == [] and decision_on_record(records) is None


def test_decide_approval_on_a_resume_that_waits_wakes_the_resume(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Given an audit whose first execution failed, and whose resume now waits for approval
    seed_audit(sfn, records, public_snapshot, now=SEEDED_AT, token="first-token")
    sfn.executions[EXECUTION_ARN].status = "FAILED"
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=sfn.executions[EXECUTION_ARN].input)
    record_resumes(s3, AUDIT_ID, 1)
    record = reach_approval(sfn, records, AUDIT_ID, public_snapshot, now=SEEDED_AT)
    # When a person approves
    request = ApprovalRequest.model_validate({"decision": "approve", "planDigest": record.plan_digest})
    decide_approval(AUDIT_ID, request, APPROVER, sfn, s3, settings, records, now=lambda: NOW)
    # Then the resume's task is the one woken
    [sent] = sfn.called("SendTaskSuccess")
    assert sent["taskToken"] == TOKEN and sfn.tokens == {"first-token": EXECUTION_ARN}


def test_decide_approval_on_a_resume_never_uses_the_token_of_an_earlier_execution(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Given the first execution stored its token and failed; its resume waits, its token not stored
    seed_audit(sfn, records, public_snapshot, now=SEEDED_AT, token="first-token")
    sfn.executions[EXECUTION_ARN].status = "FAILED"
    sfn.add_execution(f"{EXECUTION_ARN}_r1", input=sfn.executions[EXECUTION_ARN].input)
    record_resumes(s3, AUDIT_ID, 1)
    record = reach_approval(sfn, records, AUDIT_ID, public_snapshot, now=SEEDED_AT)
    s3.delete_object(Bucket=REPORT_BUCKET, Key=token_key(AUDIT_ID, f"{AUDIT_ID}_r1"))
    # When a person approves
    request = ApprovalRequest.model_validate({"decision": "approve", "planDigest": record.plan_digest})
    with pytest.raises(Conflict) as caught:
        decide_approval(AUDIT_ID, request, APPROVER, sfn, s3, settings, records, now=lambda: NOW)
    # Then the first execution's token is not sent in its place: 409, nothing sent
    assert caught.value.message == f'Audit "{AUDIT_ID}" is not awaiting approval: its task token is gone.'
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_expired_record_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    request = ApprovalRequest.model_validate({"decision": "approve", "planDigest": seeded.default_digest})
    late = datetime(2025, 3, 1, 13, 0, 1, tzinfo=UTC)  # the hour is over
    with pytest.raises(Conflict) as caught:
        decide_approval(AUDIT_ID, request, APPROVER, sfn, s3, settings, records, now=lambda: late)
    assert "expired" in caught.value.message
    assert sfn.called("SendTaskSuccess") == [] and decision_on_record(records) is None


def test_decide_approval_record_rewrite_fails_still_answers_decision(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given S3 refuses the approvals record's rewrite after the task was resumed
    # When the decision is made
    response = decide_approval(
        AUDIT_ID,
        ApprovalRequest(decision="reject"),
        APPROVER,
        sfn,
        FailingS3(s3),
        settings,
        records,
        now=lambda: NOW,
    )
    # Then the decision stands (it took effect) and the failure is reported for the log, not the wire
    assert response.record_error == "AccessDenied"
    assert "recordError" not in response.to_json_dict() and response.decision == "reject"
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_decide_approval_stale_digest_is_a_conflict_and_nothing_is_sent_or_recorded(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, records, seeded, planDigest="cd" * 32)
    assert caught.value.field == "planDigest" and "Nothing was applied" in caught.value.message
    assert caught.value.extra == {"remediationIds": seeded.default_ids}
    assert sfn.called("SendTaskSuccess") == [] and decision_on_record(records) is None
    assert get_json(s3, KEY)["status"] == "PENDING"


def test_decide_approval_without_digest_cannot_approve_but_can_reject(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    with pytest.raises(BadRequest) as caught:
        decide(sfn, s3, settings, records, seeded, planDigest=None)
    assert caught.value.field == "planDigest" and "is required to approve" in caught.value.message
    assert sfn.called("SendTaskSuccess") == [] and decision_on_record(records) is None
    decide(sfn, s3, settings, records, seeded, "reject")
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_decide_approval_named_subset_is_recorded_and_sent(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given the digest of the re-planned subset (what GET /audits/{id}/approval?remediationIds= shows)
    chosen = ["s3.put_default_encryption", "s3.enable_access_logging"]
    proposal = records.proposal(AUDIT_ID)
    digest = proposal.digest(proposal.select(chosen, records.analysis))
    # When a person approves just those
    decide(sfn, s3, settings, records, seeded, remediationIds=chosen, planDigest=digest)
    # Then the decision names them, and Apply is told which (in plan order)
    sealed = decision_on_record(records)
    assert sealed is not None and (sealed.remediation_ids, sealed.selection) == (chosen, "named")
    [sent] = sfn.called("SendTaskSuccess")
    assert json.loads(sent["output"])["remediationIds"] == chosen
    assert get_json(s3, KEY)["remediationIds"] == chosen


def test_decide_approval_unknown_remediation_id_is_a_bad_request(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    with pytest.raises(BadRequest) as caught:
        decide(sfn, s3, settings, records, seeded, remediationIds=["no-such-fix"])
    assert caught.value.field == "remediationIds" and "no-such-fix" in caught.value.message
    assert sfn.called("SendTaskSuccess") == [] and not exists(s3, f"decisions/{AUDIT_ID}.json")


def test_a_retry_of_a_decision_whose_wake_up_failed_finishes_it(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given bob's approval was sealed, but waking the task failed (throttled): he got a 500
    sfn.fail("SendTaskSuccess", "ThrottlingException", "Rate exceeded")
    with pytest.raises(UpstreamError):
        decide(sfn, s3, settings, records, seeded)
    sfn.failures.clear()
    # When someone else decides otherwise, it is still refused: the sealed decision stands
    carol = caller("arn:aws:sts::123456789012:assumed-role/Operator/carol")
    with pytest.raises(Conflict):
        decide(sfn, s3, settings, records, seeded, "reject", approver=carol)
    # When bob retries the same approval
    decide(sfn, s3, settings, records, seeded)
    # Then the waiting task is woken with the decision on record
    on_record = decision_on_record(records)
    assert sfn.tokens == {} and on_record is not None
    assert sfn.called("SendTaskSuccess")[-1]["output"] == decision_output(on_record)
