"""One running audit per resource, Idempotency-Key replays, and event-started audits exactly once."""

import json
from typing import Any

import pytest

from secagent.api import ApiSettings, Conflict, RecordStore, StartAuditRequest, start_audit
from secagent.api.errors import Unprocessable
from secagent.api.guard import idempotency_key, lock_key
from secagent.api.triggers import audit_id_for_event, start_from_event
from tests.unit.api.conftest import REQUESTER, caller, exists, get_json
from tests.unit.api.fakes import FakeStepFunctions

BOB = caller("arn:aws:iam::123456789012:user/bob")


def request(settings: ApiSettings, bucket: str = "team-data-bucket", **body: Any) -> StartAuditRequest:
    return StartAuditRequest.parse({"resource": {"type": "AWS::S3::Bucket", "id": bucket}, **body}, settings)


def test_second_start_on_a_resource_with_a_running_audit_is_a_conflict_naming_it(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    first = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3)
    with pytest.raises(Conflict) as caught:
        start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3)
    assert caught.value.extra == {"runningAuditId": first.audit_id}
    assert first.audit_id in caught.value.message
    assert len(sfn.called("StartExecution")) == 1


def test_start_after_the_previous_audit_ended_takes_the_resource_over(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    first = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3)
    sfn.executions[settings.execution_arn(first.audit_id)].status = "SUCCEEDED"
    second = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3)
    assert second.audit_id != first.audit_id
    assert get_json(s3, lock_key("AWS::S3::Bucket", "team-data-bucket")) == {"auditId": second.audit_id}


def test_other_resources_are_not_blocked(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    start_audit(request(settings, "bucket-one"), REQUESTER, sfn, settings, records, s3=s3)
    start_audit(request(settings, "bucket-two"), REQUESTER, sfn, settings, records, s3=s3)
    assert len(sfn.called("StartExecution")) == 2


def test_same_idempotency_key_and_body_replays_the_first_answer_and_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given an audit started with an Idempotency-Key
    first = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3, idempotency_key="k-1")
    # When the same caller sends the same body with the same key again (a client retry)
    again = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3, idempotency_key="k-1")
    # Then the first answer is replayed, and nothing more started or was recorded
    assert again == first and len(sfn.called("StartExecution")) == 1
    assert records.request(first.audit_id) is not None
    # And the same key from another caller is another request (so the resource is busy)
    with pytest.raises(Conflict):
        start_audit(request(settings), BOB, sfn, settings, records, s3=s3, idempotency_key="k-1")


@pytest.mark.parametrize(
    "other",
    [
        pytest.param({"mode": "remediate"}, id="another mode"),
        pytest.param({"approvalTimeoutSeconds": 600}, id="another timeout"),
        pytest.param({"bucket": "another-bucket"}, id="another bucket"),
    ],
)
def test_same_idempotency_key_with_another_body_is_unprocessable_and_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, other: dict[str, Any]
) -> None:
    # Given an audit started with an Idempotency-Key, and since ended
    first = start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3, idempotency_key="k-1")
    sfn.executions[settings.execution_arn(first.audit_id)].status = "SUCCEEDED"
    # When the same caller reuses the key for a different request
    changed = request(settings, other.pop("bucket", "team-data-bucket"), **other)
    with pytest.raises(Unprocessable) as caught:
        start_audit(changed, REQUESTER, sfn, settings, records, s3=s3, idempotency_key="k-1")
    # Then 422 on the header, and nothing started: the first answer is not replayed for it either
    assert (caught.value.status, caught.value.code, caught.value.field) == (
        422,
        "Unprocessable",
        "Idempotency-Key",
    )
    assert len(sfn.called("StartExecution")) == 1
    assert get_json(s3, idempotency_key(REQUESTER.arn, "k-1"))["answer"] == first.to_json_dict()


def test_the_request_record_is_sealed_before_the_execution_starts(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a Step Functions that notes whether the request record exists when asked to start
    seen: list[bool] = []
    start = sfn.start_execution

    def noting(**kwargs: Any) -> dict[str, Any]:
        seen.append(records.request(kwargs["name"]) is not None)
        return start(**kwargs)

    monkeypatch.setattr(sfn, "start_execution", noting)
    # When an audit is started
    start_audit(request(settings), REQUESTER, sfn, settings, records, s3=s3)
    # Then Discover, the execution's first step, will find it
    assert seen == [True]


def test_event_starts_an_audit_named_after_the_event_and_a_redelivery_starts_nothing(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    event_id = "6a7e3b0c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    first = start_from_event(event_id, "new-bucket-1", "remediate", sfn, s3, settings, records)
    again = start_from_event(event_id, "new-bucket-1", "remediate", sfn, s3, settings, records)
    assert (first.outcome, first.audit_id) == ("started", audit_id_for_event(event_id))
    assert (again.outcome, again.audit_id) == ("duplicate", first.audit_id)
    [started] = sfn.called("StartExecution")
    assert json.loads(started["input"])["mode"] == "remediate"
    # The trigger is the requester on record: any person may approve what it started
    assert first.audit_id is not None
    stored = records.request(first.audit_id)
    assert stored is not None and stored.requested_by == "eventbridge:CloudTrail"


def test_event_for_a_bucket_already_being_audited_is_kept_naming_the_running_audit(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    running = start_audit(request(settings, "new-bucket-2"), REQUESTER, sfn, settings, records, s3=s3)
    result = start_from_event("evt-2", "new-bucket-2", "remediate", sfn, s3, settings, records)
    assert (result.outcome, result.audit_id) == ("deferred", running.audit_id)
    assert "audited when that audit completes" in (result.reason or "")


def test_event_with_an_unauditable_bucket_name_is_skipped_not_raised(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    result = start_from_event("evt-3", "Not_A_Bucket", "remediate", sfn, s3, settings, records)
    assert result.outcome == "skipped" and "not an auditable bucket" in (result.reason or "")
    assert sfn.called("StartExecution") == []


def test_event_for_a_protected_bucket_is_skipped_and_nothing_is_recorded(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    result = start_from_event("evt-4", "cdk-hnb659fds-assets-1", "remediate", sfn, s3, settings, records)
    assert result.outcome == "skipped" and "is protected" in (result.reason or "")
    assert sfn.called("StartExecution") == [] and not exists(s3, "requests/")
