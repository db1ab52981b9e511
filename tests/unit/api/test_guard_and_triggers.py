"""One running audit per resource, Idempotency-Key replays, and event-started audits exactly once."""

import json
from typing import Any

import pytest

from secagent.api import ApiSettings, Conflict, StartAuditRequest, start_audit
from secagent.api.guard import lock_key
from secagent.api.triggers import audit_id_for_event, start_from_event
from tests.unit.api.conftest import get_json
from tests.unit.api.fakes import FakeStepFunctions

CALLER = "arn:aws:iam::123456789012:user/alice"


def request(settings: ApiSettings, bucket: str = "team-data-bucket") -> StartAuditRequest:
    return StartAuditRequest.parse({"resource": {"type": "AWS::S3::Bucket", "id": bucket}}, settings)


def test_second_start_on_a_resource_with_a_running_audit_is_a_conflict_naming_it(sfn, s3, settings):
    first = start_audit(request(settings), CALLER, sfn, settings, s3=s3)
    with pytest.raises(Conflict) as caught:
        start_audit(request(settings), CALLER, sfn, settings, s3=s3)
    assert caught.value.extra == {"runningAuditId": first.audit_id}
    assert first.audit_id in caught.value.message
    assert len(sfn.called("StartExecution")) == 1


def test_start_after_the_previous_audit_ended_takes_the_resource_over(sfn, s3, settings):
    first = start_audit(request(settings), CALLER, sfn, settings, s3=s3)
    sfn.executions[settings.execution_arn(first.audit_id)].status = "SUCCEEDED"
    second = start_audit(request(settings), CALLER, sfn, settings, s3=s3)
    assert second.audit_id != first.audit_id
    assert get_json(s3, lock_key("AWS::S3::Bucket", "team-data-bucket")) == {"auditId": second.audit_id}


def test_other_resources_are_not_blocked(sfn, s3, settings):
    start_audit(request(settings, "bucket-one"), CALLER, sfn, settings, s3=s3)
    start_audit(request(settings, "bucket-two"), CALLER, sfn, settings, s3=s3)
    assert len(sfn.called("StartExecution")) == 2


def test_same_idempotency_key_replays_the_first_answer_and_starts_nothing(sfn, s3, settings):
    first = start_audit(request(settings), CALLER, sfn, settings, s3=s3, idempotency_key="k-1")
    again = start_audit(request(settings), CALLER, sfn, settings, s3=s3, idempotency_key="k-1")
    assert again == first and len(sfn.called("StartExecution")) == 1
    # The same key from another caller is another request (and the resource is busy)
    with pytest.raises(Conflict):
        start_audit(
            request(settings),
            "arn:aws:iam::123456789012:user/bob",
            sfn,
            settings,
            s3=s3,
            idempotency_key="k-1",
        )


def test_event_starts_an_audit_named_after_the_event_and_a_redelivery_starts_nothing(sfn, s3, settings):
    event_id = "6a7e3b0c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    first = start_from_event(event_id, "new-bucket-1", "remediate", sfn, s3, settings)
    again = start_from_event(event_id, "new-bucket-1", "remediate", sfn, s3, settings)
    assert (first.outcome, first.audit_id) == ("started", audit_id_for_event(event_id))
    assert (again.outcome, again.audit_id) == ("duplicate", first.audit_id)
    [started] = sfn.called("StartExecution")
    execution_input: dict[str, Any] = json.loads(started["input"])
    assert (
        execution_input["requestedBy"] == "eventbridge:CreateBucket"
        and execution_input["mode"] == "remediate"
    )


def test_event_for_a_bucket_already_being_audited_is_skipped_with_the_reason(sfn, s3, settings):
    running = start_audit(request(settings, "new-bucket-2"), CALLER, sfn, settings, s3=s3)
    result = start_from_event("evt-2", "new-bucket-2", "remediate", sfn, s3, settings)
    assert (result.outcome, result.audit_id) == ("skipped", running.audit_id)


def test_event_with_an_unauditable_bucket_name_is_skipped_not_raised(sfn: FakeStepFunctions, s3, settings):
    result = start_from_event("evt-3", "Not_A_Bucket", "remediate", sfn, s3, settings)
    assert result.outcome == "skipped" and "not an auditable bucket" in (result.reason or "")
    assert sfn.called("StartExecution") == []
