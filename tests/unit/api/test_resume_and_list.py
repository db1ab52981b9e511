"""Resume a failed audit (each step reuses its own checkpoint); list audits newest first with filters."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from secagent.api import (
    ApiSettings,
    BadRequest,
    Conflict,
    ListAuditsQuery,
    NotFound,
    StartAuditRequest,
    list_audits,
    resume_audit,
    start_audit,
)
from secagent.api.guard import lock_key
from secagent.api.models import ListCursor
from secagent.api.parsing import parse_query
from secagent.workflow.timeline import audit_progress
from tests.unit.api.conftest import (
    AUDIT_ID,
    EXECUTION_ARN,
    INPUT,
    REQUESTER,
    get_json,
    pending_record,
    put_json,
    record_resumes,
)
from tests.unit.api.fakes import FakeStepFunctions

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def failed(sfn: FakeStepFunctions, arn: str = EXECUTION_ARN, **extra: Any) -> None:
    sfn.add_execution(
        arn, input=json.dumps(extra.pop("input", INPUT)), status="FAILED", start=T0, stop=T0, **extra
    )


def test_resume_failed_audit_starts_next_execution_with_its_request_only(sfn, s3, settings):
    # Given a failed audit started with a test fault, whose first two steps were checkpointed
    failed(sfn, input={**INPUT, "faults": {"remediate": {"kind": "error"}}})
    put_json(s3, f"checkpoints/{AUDIT_ID}/analysis.json", {"summary": {"fail": 1}})
    put_json(s3, f"checkpoints/{AUDIT_ID}/discovery.json", {"resource": INPUT["resource"]})
    # When it is resumed
    resumed = resume_audit(AUDIT_ID, sfn, s3, settings)
    # Then a new execution of the same audit gets the original request, and nothing else: no
    # checkpoints (each step loads its own from storage) and not the fault
    (start,) = sfn.called("StartExecution")
    assert start["name"] == f"{AUDIT_ID}_r1"
    assert json.loads(start["input"]) == INPUT
    assert not {"faults", "resume", "checkpoints"} & set(json.loads(start["input"]))
    # And the answer says which steps will reuse their checkpoint
    assert resumed.reused_steps == ["Discover Bucket", "Analyze Configuration"]
    assert resumed.execution == f"{AUDIT_ID}_r1"


def test_resume_of_a_failure_a_resume_cannot_help_is_a_conflict_that_says_why(sfn, s3, settings):
    # Given an audit that failed because its bucket is gone (its report says a resume cannot help)
    failed(sfn)
    message = "Discover Bucket found nothing to audit: bucket customer-data does not exist."
    failure = {"step": "Discover Bucket", "error": "ResourceNotFound", "message": message, "resumable": False}
    put_json(s3, f"reports/{AUDIT_ID}.json", {"auditId": AUDIT_ID, "outcome": "FAILED", "failure": failure})
    # When it is resumed, the answer is 409 with the report's sentence, and nothing starts
    with pytest.raises(Conflict) as refused:
        resume_audit(AUDIT_ID, sfn, s3, settings)
    assert refused.value.message == f'Audit "{AUDIT_ID}" cannot be resumed: {message}'
    assert sfn.called("StartExecution") == []


def test_resume_twice_numbers_executions(sfn, s3, settings):
    failed(sfn)
    failed(sfn, f"{EXECUTION_ARN}_r1")
    record_resumes(s3, AUDIT_ID, 1)  # the first resume, as the API recorded it
    resumed = resume_audit(AUDIT_ID, sfn, s3, settings)
    assert resumed.execution == f"{AUDIT_ID}_r2" and resumed.reused_steps == []
    assert json.loads(sfn.called("StartExecution")[0]["input"]) == INPUT


def test_resume_takes_the_resource_lock_so_it_never_runs_beside_another_audit(sfn, s3, settings, records):
    # Given a failed audit of a bucket, and since then another audit of that bucket running
    failed(sfn)
    other = start_audit(
        StartAuditRequest.parse({"resource": INPUT["resource"]}, settings),
        REQUESTER,
        sfn,
        settings,
        records,
        s3=s3,
    )
    # When the failed audit is resumed
    with pytest.raises(Conflict) as caught:
        resume_audit(AUDIT_ID, sfn, s3, settings)
    # Then 409 names the running audit, and the resume did not start
    assert caught.value.extra == {"runningAuditId": other.audit_id}
    assert [c["name"] for c in sfn.called("StartExecution")] == [other.audit_id]
    # And once that audit has ended, the resume takes the bucket over
    sfn.executions[settings.execution_arn(other.audit_id)].status = "SUCCEEDED"
    resume_audit(AUDIT_ID, sfn, s3, settings)
    assert get_json(s3, lock_key("AWS::S3::Bucket", INPUT["resource"]["id"])) == {"auditId": AUDIT_ID}
    # And while the resume runs, no new audit of the bucket starts
    with pytest.raises(Conflict) as busy:
        start_audit(
            StartAuditRequest.parse({"resource": INPUT["resource"]}, settings),
            REQUESTER,
            sfn,
            settings,
            records,
            s3=s3,
        )
    assert busy.value.extra == {"runningAuditId": AUDIT_ID}


@pytest.mark.parametrize("status", ["RUNNING", "SUCCEEDED"])
def test_resume_audit_that_did_not_fail_is_a_conflict_and_starts_nothing(sfn, s3, settings, status):
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status=status, start=T0)
    with pytest.raises(Conflict) as caught:
        resume_audit(AUDIT_ID, sfn, s3, settings)
    assert caught.value.status == 409 and "only a FAILED audit" in caught.value.message
    assert sfn.called("StartExecution") == []


def test_resume_unknown_audit_is_not_found(sfn, s3, settings):
    with pytest.raises(NotFound):
        resume_audit(AUDIT_ID, sfn, s3, settings)


def _audit(
    sfn: FakeStepFunctions, settings: ApiSettings, audit_id: str, bucket: str, status: str, minutes: int
):
    sfn.add_execution(
        settings.execution_arn(audit_id),
        input=json.dumps({**INPUT, "resource": {"type": "AWS::S3::Bucket", "id": bucket}}),
        status=status,
        start=T0 + timedelta(minutes=minutes),
        output=json.dumps({"outcome": "NON_COMPLIANT"}) if status == "SUCCEEDED" else None,
    )


def test_list_audits_newest_first_one_entry_per_resumed_audit(sfn, s3, settings):
    # Given an old failed audit resumed (running again), and a newer finished one
    _audit(sfn, settings, "aaaa-1", "bucket-one", "FAILED", 0)
    _audit(sfn, settings, "aaaa-1_r1", "bucket-one", "RUNNING", 5)
    record_resumes(s3, "aaaa-1", 1)
    _audit(sfn, settings, "bbbb-2", "bucket-two", "SUCCEEDED", 3)
    # When listed
    listed = list_audits(ListAuditsQuery(), sfn, s3, settings).to_json_dict()
    # Then each audit once, newest execution first, with its latest status
    assert [(a["auditId"], a["status"]) for a in listed["audits"]] == [
        ("aaaa-1", "RUNNING"),
        ("bbbb-2", "SUCCEEDED"),
    ]
    assert listed["audits"][1]["outcome"] == "NON_COMPLIANT"
    assert listed["audits"][0]["resource"]["id"] == "bucket-one"


def test_list_audits_filters_by_status_and_resource(sfn, s3, settings):
    _audit(sfn, settings, "aaaa-1", "bucket-one", "RUNNING", 0)
    _audit(sfn, settings, "bbbb-2", "bucket-two", "RUNNING", 1)
    put_json(s3, "approvals/bbbb-2.json", {**pending_record(), "auditId": "bbbb-2"})
    awaiting = list_audits(ListAuditsQuery(status="AWAITING_APPROVAL"), sfn, s3, settings)
    assert [a.audit_id for a in awaiting.audits] == ["bbbb-2"]
    one = list_audits(ListAuditsQuery(resource="bucket-one"), sfn, s3, settings)
    assert [a.audit_id for a in one.audits] == ["aaaa-1"]


def test_list_audits_paginates_with_next_token(sfn, s3, settings):
    for i in range(3):
        _audit(sfn, settings, f"cccc-{i}", "bucket-one", "SUCCEEDED", i)
    first = list_audits(ListAuditsQuery(limit=2), sfn, s3, settings)
    assert len(first.audits) == 2 and first.next_token
    rest = list_audits(ListAuditsQuery(limit=2, nextToken=first.next_token), sfn, s3, settings)
    assert [a.audit_id for a in rest.audits] == ["cccc-0"] and rest.next_token is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "DONE"}, "status"),
        ({"resource": "Not_A_Bucket"}, "resource"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_list_audits_bad_query_is_400_naming_the_parameter(settings, params, field):
    with pytest.raises(BadRequest) as caught:
        parse_query(ListAuditsQuery, params, settings)
    assert caught.value.field == field


def test_list_audits_foreign_next_token_is_400(sfn, s3, settings):
    with pytest.raises(BadRequest) as caught:
        parse_query(ListAuditsQuery, {"nextToken": "forged"}, settings)
    assert caught.value.field == "nextToken"
    # A token of the right shape whose Step Functions page token is not one: 400 as well
    forged = ListCursor(page="forged").token()
    with pytest.raises(BadRequest) as caught:
        list_audits(ListAuditsQuery(nextToken=forged), sfn, s3, settings)
    assert caught.value.field == "nextToken"


def _history(sfn, settings, count: int, bucket_of) -> list[str]:
    """`count` finished audits, one a minute; newest first, the ids of those of "wanted"."""
    for i in range(count):
        _audit(sfn, settings, f"a{i:04d}", bucket_of(i), "SUCCEEDED", i)
    return [f"a{i:04d}" for i in reversed(range(count)) if bucket_of(i) == "wanted"]


def _every_page(sfn, s3, settings, **params: Any) -> list[list[str]]:
    """The audit ids of each page, following nextToken (given alone: the token keeps the filter)."""
    pages, query = [], ListAuditsQuery.model_validate(params)
    while True:
        listed = list_audits(query, sfn, s3, settings)
        pages.append([a.audit_id for a in listed.audits])
        if listed.next_token is None:
            return pages
        query = ListAuditsQuery(limit=query.limit, nextToken=listed.next_token)


def test_list_audits_filter_spans_pages_of_the_history(sfn, s3, settings):
    # Given 120 audits (more than two ListExecutions pages) of which three are of one bucket, far apart
    wanted = _history(sfn, settings, 120, lambda i: "wanted" if i in (3, 60, 115) else "other")
    # When listing that bucket's audits two at a time
    pages = _every_page(sfn, s3, settings, resource="wanted", limit=2)
    # Then the first answer has two, found pages apart, and the next one the third: none is missed
    assert pages == [wanted[:2], wanted[2:]]
    assert all(c["statusFilter"] is None for c in sfn.called("ListExecutions"))


def test_list_audits_next_token_resumes_inside_a_page_without_skipping_or_repeating(sfn, s3, settings):
    wanted = _history(sfn, settings, 70, lambda i: "wanted" if i % 3 == 0 else "other")
    for limit in (1, 4, 7, 50):
        pages = _every_page(sfn, s3, settings, resource="wanted", limit=limit)
        assert [a for page in pages for a in page] == wanted, limit
        assert all(len(page) == limit for page in pages[:-1])


def test_list_audits_reads_a_bounded_part_of_the_history_per_request(sfn, s3, settings):
    # Given 260 audits of which only the oldest is of the bucket asked for
    _history(sfn, settings, 260, lambda i: "wanted" if i == 0 else "other")
    # When listed: the first request reads 4 pages of 50 executions, finds none, and says where to go on
    first = list_audits(ListAuditsQuery(resource="wanted"), sfn, s3, settings)
    assert first.audits == [] and first.next_token
    assert len(sfn.called("ListExecutions")) == 4
    # Then the next request goes on from there, with the filter, and finds it
    rest = list_audits(ListAuditsQuery(nextToken=first.next_token), sfn, s3, settings)
    assert [a.audit_id for a in rest.audits] == ["a0000"] and rest.next_token is None


def test_list_audits_next_token_keeps_its_filter_and_refuses_another(sfn, s3, settings):
    _history(sfn, settings, 6, lambda i: "wanted" if i % 2 else "other")
    first = list_audits(ListAuditsQuery(resource="wanted", limit=1), sfn, s3, settings)
    assert first.next_token
    # Given alone, or with the same filter, the token lists the same bucket's audits
    for params in ({}, {"resource": "wanted"}):
        query = parse_query(ListAuditsQuery, {**params, "nextToken": first.next_token}, settings)
        assert [a.audit_id for a in list_audits(query, sfn, s3, settings).audits] == ["a0003", "a0001"]
    # With another filter it is a 400 naming the token
    for params in ({"resource": "other"}, {"status": "RUNNING"}):
        with pytest.raises(BadRequest) as caught:
            parse_query(ListAuditsQuery, {**params, "nextToken": first.next_token}, settings)
        assert caught.value.field == "nextToken" and "resource=wanted" in caught.value.message


def test_list_audits_next_token_is_unmoved_by_audits_started_since(sfn, s3, settings):
    wanted = _history(sfn, settings, 10, lambda i: "wanted")
    first = list_audits(ListAuditsQuery(limit=3), sfn, s3, settings)
    assert [a.audit_id for a in first.audits] == wanted[:3]
    # Given new audits started after the first page was listed (they go first in the history)
    for i in range(10, 70):
        _audit(sfn, settings, f"a{i:04d}", "wanted", "SUCCEEDED", i)
    # Then the next page goes on where the first stopped: no audit listed twice, none skipped
    rest = list_audits(ListAuditsQuery(limit=50, nextToken=first.next_token), sfn, s3, settings)
    assert [a.audit_id for a in rest.audits] == wanted[3:]


def test_list_audits_a_resumed_audit_once_even_across_requests(sfn, s3, settings):
    # Given an old failed audit resumed last (its latest execution is the newest), and others between
    _audit(sfn, settings, "aaaa-1", "bucket-one", "FAILED", 0)
    for i in range(1, 4):
        _audit(sfn, settings, f"bbbb-{i}", "bucket-one", "SUCCEEDED", i)
    _audit(sfn, settings, "aaaa-1_r1", "bucket-one", "FAILED", 5)
    _audit(sfn, settings, "aaaa-1_r2", "bucket-one", "RUNNING", 6)
    record_resumes(s3, "aaaa-1", 2)
    # When listed one per request, FAILED ones too
    pages = _every_page(sfn, s3, settings, limit=1)
    assert [a for page in pages for a in page] == ["aaaa-1", "bbbb-3", "bbbb-2", "bbbb-1"]
    failed_only = _every_page(sfn, s3, settings, status="FAILED", limit=1)
    assert failed_only == [[]]  # its older executions failed, but the audit runs again


def _entered(name: str, kind: str, second: int) -> list[dict[str, Any]]:
    at = (T0 + timedelta(seconds=second)).isoformat()
    events = [{"type": f"{kind}StateEntered", "timestamp": at, "stateEnteredEventDetails": {"name": name}}]
    if kind == "Task":
        events.append({"type": "LambdaFunctionScheduled", "timestamp": at})
        events.append({"type": "LambdaFunctionSucceeded", "timestamp": at})
    events.append({"type": f"{kind}StateExited", "timestamp": at, "stateExitedEventDetails": {"name": name}})
    return events


def test_progress_of_a_resumed_audit_marks_reused_steps_and_pending_ones():
    # Given a first execution that ran Discover then failed in Analyze, and a resume whose Discover
    # returned its checkpoint (load-or-compute: the task runs again and succeeds at once)
    first = [
        *_entered("Discover Bucket", "Task", 0),
        {
            "type": "TaskStateEntered",
            "timestamp": T0.isoformat(),
            "stateEnteredEventDetails": {"name": "Analyze Configuration"},
        },
        {"type": "LambdaFunctionScheduled", "timestamp": T0.isoformat()},
        {
            "type": "LambdaFunctionFailed",
            "timestamp": T0.isoformat(),
            "lambdaFunctionFailedEventDetails": {"error": "X"},
        },
        {
            "type": "ExecutionFailed",
            "timestamp": T0.isoformat(),
            "executionFailedEventDetails": {"error": "X"},
        },
    ]
    second = [
        *_entered("Discover Bucket", "Task", 10),
        *_entered("Analyze Configuration", "Task", 11),
    ]
    # When the progress is built while the resume runs
    steps = {s.name: s for s in audit_progress([("a", first), ("a_r1", second)], running=True)}
    # Then Discover is reused from the first run, Analyze succeeded in the resume, the rest is pending
    assert steps["Discover Bucket"].reused and steps["Discover Bucket"].execution == "a"
    assert (
        steps["Analyze Configuration"].status == "succeeded"
        and steps["Analyze Configuration"].execution == "a_r1"
    )
    assert steps["Propose Fixes"].status == "pending"
