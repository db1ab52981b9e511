"""decide_approval: resume the waiting task once, retire the token, refuse everything else."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from secagent.api import (
    ApiSettings,
    ApprovalRequest,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    UpstreamError,
    decide_approval,
)
from tests.unit.api.conftest import (
    AUDIT_ID,
    DIGEST,
    EXECUTION_ARN,
    INPUT,
    PLANS,
    TOKEN,
    get_json,
    pending_record,
    put_json,
)
from tests.unit.api.fakes import FailingS3, FakeStepFunctions

APPROVER = "arn:aws:iam::123456789012:user/bob"
KEY = f"approvals/{AUDIT_ID}.json"
NOW = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)


def awaiting(sfn: FakeStepFunctions, s3: Any, **record: Any) -> None:
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    sfn.open_task(TOKEN, EXECUTION_ARN)
    put_json(s3, KEY, pending_record(**record))


def decide(
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    decision: str = "approve",
    comment: str | None = None,
    approver: str = APPROVER,
    **binding: Any,
) -> Any:
    if decision == "approve":
        binding.setdefault("planDigest", DIGEST)
    body = {"decision": decision, **({"comment": comment} if comment is not None else {}), **binding}
    body = {k: v for k, v in body.items() if v is not None}
    request = ApprovalRequest.model_validate(body)
    return decide_approval(AUDIT_ID, request, approver, sfn, s3, settings, now=lambda: NOW)


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_decide_approval_pending_sends_one_task_success_and_retires_token(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, decision: str
) -> None:
    # Given an execution waiting on its approval task
    awaiting(sfn, s3)
    # When a person decides
    response = decide(sfn, s3, settings, decision, comment="looked at the plans")
    # Then the answer is the decision
    assert response.to_json_dict() == {"auditId": AUDIT_ID, "decision": decision}
    # And the task got exactly one success carrying the decision
    [sent] = sfn.called("SendTaskSuccess")
    assert sent["taskToken"] == TOKEN
    assert json.loads(sent["output"]) == {
        "decision": decision,
        "comment": "looked at the plans",
        "approver": APPROVER,
        "decidedAt": "2025-03-01T12:30:00.000Z",
        **({"planDigest": DIGEST} if decision == "approve" else {}),
    }
    # And the record is DECIDED, keeps its plans, and no longer holds the token
    record = get_json(s3, KEY)
    assert "taskToken" not in record and TOKEN not in json.dumps(record)
    assert record == {k: v for k, v in pending_record().items() if k != "taskToken"} | {
        "status": "DECIDED",
        "decision": decision,
        "decidedAt": "2025-03-01T12:30:00.000Z",
        "approver": APPROVER,
    }
    # And the decision is checkpointed for a resume (without the token)
    checkpoint = get_json(s3, f"checkpoints/{AUDIT_ID}/approval.json")
    assert checkpoint == json.loads(sent["output"]) and TOKEN not in json.dumps(checkpoint)


def test_decide_approval_without_comment_sends_null_comment(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    awaiting(sfn, s3)
    decide(sfn, s3, settings)
    assert json.loads(sfn.called("SendTaskSuccess")[0]["output"])["comment"] is None


def test_decide_approval_unknown_audit_raises_not_found(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    with pytest.raises(NotFound):
        decide(sfn, s3, settings)
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_no_record_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a running execution that has not reached the approval step
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT))
    # When someone decides
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings)
    # Then 409, and nothing was sent
    assert caught.value.status == 409
    assert (
        caught.value.message
        == f'Audit "{AUDIT_ID}" is not awaiting approval: no plans were proposed for approval.'
    )
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_second_decision_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a decision already made
    awaiting(sfn, s3)
    decide(sfn, s3, settings, "approve")
    # When a second one comes
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, "reject")
    # Then 409 from the record, and the task was resumed only once
    assert caught.value.message == f'Audit "{AUDIT_ID}" was already decided (approve).'
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_decide_approval_token_already_used_raises_conflict_without_token(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given a record still PENDING whose token another request has just used (a race)
    awaiting(sfn, s3)
    sfn.tokens.clear()
    # When someone decides, Step Functions answers InvalidToken (quoting the token)
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings)
    # Then 409 naming the reason, not the token; the record is left alone
    assert caught.value.message == f'Audit "{AUDIT_ID}" is no longer awaiting approval (InvalidToken).'
    assert TOKEN not in str(caught.value) and caught.value.__cause__ is None
    assert get_json(s3, KEY)["status"] == "PENDING"


@pytest.mark.parametrize("code", ["TaskDoesNotExist", "InvalidToken", "TaskTimedOut"])
def test_decide_approval_stale_token_codes_raise_conflict(
    s3: Any, settings: ApiSettings, sfn: FakeStepFunctions, code: str
) -> None:
    awaiting(sfn, s3)
    sfn.fail("SendTaskSuccess", code, f"refused '{TOKEN}'")
    with pytest.raises(Conflict):
        decide(sfn, s3, settings)


def test_decide_approval_unexpected_sfn_error_hides_the_sdk_message(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    awaiting(sfn, s3)
    sfn.fail("SendTaskSuccess", "ThrottlingException", f"slow down '{TOKEN}'")
    with pytest.raises(UpstreamError) as caught:
        decide(sfn, s3, settings)
    assert str(caught.value) == "SendTaskSuccess failed: ThrottlingException"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("sfn_status", ["SUCCEEDED", "FAILED", "ABORTED"])
def test_decide_approval_execution_not_running_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, sfn_status: str
) -> None:
    awaiting(sfn, s3)
    sfn.executions[EXECUTION_ARN].status = sfn_status
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings)
    assert caught.value.message == f'Audit "{AUDIT_ID}" is not awaiting approval: it is {sfn_status}.'
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_expired_record_raises_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    awaiting(sfn, s3, expiresAt="2025-03-01T12:29:59Z")
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings)
    assert "expired" in caught.value.message
    assert sfn.called("SendTaskSuccess") == []


def test_decide_approval_record_rewrite_fails_still_answers_decision(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings
) -> None:
    # Given S3 refuses the rewrite after the task was resumed
    awaiting(sfn, s3)
    # When the decision is made
    response = decide_approval(
        AUDIT_ID, ApprovalRequest(decision="reject"), APPROVER, sfn, FailingS3(s3), settings, now=lambda: NOW
    )
    # Then the decision stands (it took effect) and the failure is reported for the log, not the wire
    assert response.record_error == "AccessDenied"
    assert response.to_json_dict() == {"auditId": AUDIT_ID, "decision": "reject"}
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_decide_approval_stale_digest_is_a_conflict_and_nothing_is_sent(sfn, s3, settings):
    awaiting(sfn, s3)
    with pytest.raises(Conflict) as caught:
        decide(sfn, s3, settings, "approve", planDigest="cd" * 32)
    assert caught.value.field == "planDigest" and "Nothing was applied" in caught.value.message
    assert sfn.called("SendTaskSuccess") == []
    assert get_json(s3, KEY)["status"] == "PENDING"


def test_decide_approval_without_digest_cannot_approve_but_can_reject(sfn, s3, settings):
    awaiting(sfn, s3)
    with pytest.raises(BadRequest) as caught:
        decide(sfn, s3, settings, "approve", planDigest=None)
    assert caught.value.field == "planDigest" and "is required to approve" in caught.value.message
    assert sfn.called("SendTaskSuccess") == []
    decide(sfn, s3, settings, "reject")
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_decide_approval_subset_is_passed_to_apply_and_recorded(sfn, s3, settings):
    awaiting(sfn, s3)
    chosen = [PLANS[0]["remediationId"]]
    decide(sfn, s3, settings, "approve", remediationIds=chosen)
    [sent] = sfn.called("SendTaskSuccess")
    assert json.loads(sent["output"])["remediationIds"] == chosen
    assert get_json(s3, KEY)["remediationIds"] == chosen


def test_decide_approval_unknown_remediation_id_is_a_bad_request(sfn, s3, settings):
    awaiting(sfn, s3)
    with pytest.raises(BadRequest) as caught:
        decide(sfn, s3, settings, "approve", remediationIds=["no-such-fix"])
    assert caught.value.field == "remediationIds" and sfn.called("SendTaskSuccess") == []


def test_decide_approval_by_the_requester_is_forbidden_when_four_eyes_is_on(sfn, s3, settings):
    awaiting(sfn, s3)
    four_eyes = settings.model_copy(update={"forbid_self_approval": True})
    with pytest.raises(Forbidden):
        decide(sfn, s3, four_eyes, "approve", approver="arn:aws:iam::123456789012:user/alice")
    assert sfn.called("SendTaskSuccess") == []
    # Another person may approve
    decide(sfn, s3, four_eyes, "approve", approver="arn:aws:iam::123456789012:user/bob")
    assert len(sfn.called("SendTaskSuccess")) == 1
