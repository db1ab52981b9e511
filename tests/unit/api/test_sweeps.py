"""The sweep routes (secagent/api/sweeps.py): a sweep starts only from a sealed request naming
sweepable accounts, is followed by its progress, answers its report and findings once it ended,
and hands a resource it found to an ordinary remediate audit (approval gate, proven requester)
only in the deployment's own account."""

import dataclasses
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lambdas import api as api_handler
from secagent.api import ApiSettings, BadRequest, Conflict, Deps, Forbidden, NotFound, RecordStore, sweeps
from secagent.api.identity import Caller
from secagent.api.parsing import parse_body
from secagent.aws import client_factory
from secagent.models import AgentSettings
from secagent.models.outcome import Outcome
from secagent.models.posture import PostureReport
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef
from secagent.models.sweep import (
    SWEEP_ID,
    AccountListing,
    ResourceResult,
    SweepRequest,
    accounts_key,
    findings_index_key,
    markdown_key,
    page_key,
    report_key,
    request_key,
    resource_key,
    summary_key,
)
from secagent.sweep.posture import posture_of
from secagent.workflow.store import KmsSealer, read_sealed
from tests.unit.api.conftest import (
    REPORT_BUCKET,
    REQUESTER,
    REQUESTER_ARN,
    STATE_MACHINE_ARN,
    exists,
    get_json,
    put_json,
    seal_key,
)
from tests.unit.api.fakes import FakeStepFunctions
from tests.unit.lambdas.test_api_handler import ContextIdentity, call, event

OWN = "123456789012"  # the state machine's account: the deployment's
MEMBER_B = "222222222222"
MEMBER_C = "333333333333"
OUTSIDER = "444444444444"
SWEEP_MACHINE = f"arn:aws:states:us-east-1:{OWN}:stateMachine:SecAgentSweep"
BUCKET_REF = ResourceRef(type=BUCKET, id="customer-data")


class SweepStepFunctions(FakeStepFunctions):
    """The fake, with the Map run calls GET /sweeps/{id} makes (the shared fake has none): one
    Map run per execution, with the item counts a test sets."""

    def __init__(self) -> None:
        super().__init__()
        self.item_counts: dict[str, dict[str, int]] = {}  # execution ARN -> its Map run's itemCounts

    def list_map_runs(self, *, executionArn: str) -> dict[str, Any]:
        self.calls.append(("ListMapRuns", {"executionArn": executionArn}))
        self._execution("ListMapRuns", executionArn)
        if "ListMapRuns" in self.failures:
            raise self.failures["ListMapRuns"]
        if executionArn not in self.item_counts:
            return {"mapRuns": []}
        run = executionArn.replace(":execution:", ":mapRun:") + "/Scan Resources:1"
        return {"mapRuns": [{"executionArn": executionArn, "mapRunArn": run}]}

    def describe_map_run(self, *, mapRunArn: str) -> dict[str, Any]:
        self.calls.append(("DescribeMapRun", {"mapRunArn": mapRunArn}))
        execution = mapRunArn.replace(":mapRun:", ":execution:").rsplit("/", 1)[0]
        return {"mapRunArn": mapRunArn, "itemCounts": self.item_counts[execution]}


@pytest.fixture
def sfn() -> SweepStepFunctions:
    return SweepStepFunctions()


@pytest.fixture
def settings() -> ApiSettings:
    return ApiSettings(
        state_machine_arn=STATE_MACHINE_ARN,
        report_bucket=REPORT_BUCKET,
        sweep_state_machine_arn=SWEEP_MACHINE,
        member_accounts=frozenset({MEMBER_C, MEMBER_B}),
    )


def unproven() -> Caller:
    raise Forbidden("prove who you are")


def start(
    sfn: SweepStepFunctions,
    settings: ApiSettings,
    records: RecordStore,
    *,
    status: str = "RUNNING",
    by: Caller | Callable[[], Caller] = REQUESTER,
    **body: Any,
) -> str:
    started = sweeps.start_sweep(sweeps.StartSweepRequest.model_validate(body), by, sfn, settings, records)
    sfn.executions[execution_of(started.sweep_id)].status = status
    return started.sweep_id


def execution_of(sweep_id: str) -> str:
    return SWEEP_MACHINE.replace(":stateMachine:", ":execution:") + f":{sweep_id}"


def all_keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=REPORT_BUCKET).get("Contents", [])]


def store_result(s3: Any, sweep_id: str, account: str, resource: ResourceRef = BUCKET_REF) -> ResourceResult:
    result = ResourceResult(
        sweep_id=sweep_id,
        account_id=account,
        region="us-east-1",
        resource=resource,
        resource_arn=f"arn:aws:s3:::{resource.id}",
        observed_at="2025-03-01T12:00:00Z",  # type: ignore[arg-type]
        outcome=Outcome.NON_COMPLIANT,
    )
    put_json(s3, resource_key(sweep_id, account, resource), result.to_json_dict())
    return result


# -- POST /sweeps -----------------------------------------------------------------------------------


def test_start_sweep_with_a_non_member_account_is_forbidden_and_starts_nothing(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    with pytest.raises(Forbidden) as refused:
        start(sfn, settings, records, accounts=[OWN, OUTSIDER])
    assert refused.value.field == "accounts" and OUTSIDER in refused.value.message
    assert sfn.called("StartExecution") == [] and all_keys(s3) == []


def test_start_sweep_in_remediate_mode_is_a_bad_request(settings: ApiSettings) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_body(sweeps.StartSweepRequest, json.dumps({"mode": "remediate"}), settings)
    assert refused.value.field == "mode" and "POST /sweeps/{sweepId}/audits" in refused.value.message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"mode": "apply"}, id="unknown mode"),
        pytest.param({"accounts": []}, id="no account"),
        pytest.param({"resourceTypes": ["AWS::IAM::Role"]}, id="unknown type"),
        pytest.param({"accounts": [OWN], "region": "eu-west-1"}, id="unknown field"),
    ],
)
def test_start_sweep_malformed_body_is_a_bad_request(settings: ApiSettings, body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parse_body(sweeps.StartSweepRequest, json.dumps(body), settings)


def test_start_sweep_naming_an_account_twice_is_a_bad_request(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    with pytest.raises(BadRequest) as refused:
        start(sfn, settings, records, accounts=[MEMBER_B, OWN, MEMBER_B])
    assert refused.value.field == "accounts"
    assert sfn.called("StartExecution") == [] and all_keys(s3) == []


def test_start_sweep_by_an_unproven_caller_is_forbidden_and_writes_nothing(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    with pytest.raises(Forbidden):
        start(sfn, settings, records, by=unproven)
    assert sfn.called("StartExecution") == [] and all_keys(s3) == []


def test_start_sweep_defaults_to_the_own_account_then_the_members_and_every_type(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore
) -> None:
    sweep_id = start(sfn, settings, records)
    request = sweeps.sweep_request(sweep_id, records)
    assert request.accounts == [OWN, MEMBER_B, MEMBER_C]
    assert request.resource_types == [BUCKET, SECURITY_GROUP]
    assert request.mode == "plan"


def test_start_sweep_seals_the_request_once_and_names_the_execution_by_its_id(
    sfn: SweepStepFunctions,
    settings: ApiSettings,
    records: RecordStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the API's writes of sealed records are watched
    writes: list[dict[str, Any]] = []
    real = sweeps.write_sealed

    def watched(bucket: str, key: str, record: Any, *args: Any, **kwargs: Any) -> None:
        writes.append({"key": key, **kwargs})
        real(bucket, key, record, *args, **kwargs)

    monkeypatch.setattr(sweeps, "write_sealed", watched)
    # When a proven caller starts a sweep of B's security groups
    started = sweeps.start_sweep(
        sweeps.StartSweepRequest.model_validate({"accounts": [MEMBER_B], "resourceTypes": [SECURITY_GROUP]}),
        lambda: REQUESTER,
        sfn,
        settings,
        records,
    )
    sweep_id = started.sweep_id
    # Then the answer is RUNNING with the sweep's links
    assert SWEEP_ID.fullmatch(sweep_id)
    assert started.to_json_dict() == {
        "sweepId": sweep_id,
        "status": "RUNNING",
        "links": {
            "self": f"/sweeps/{sweep_id}",
            "report": f"/sweeps/{sweep_id}/report",
            "findings": f"/sweeps/{sweep_id}/findings",
        },
    }
    # And the request was sealed and written once (a conditional write), naming the proven caller
    assert writes == [{"key": request_key(sweep_id), "once": True}]
    request = read_sealed(REPORT_BUCKET, request_key(sweep_id), SweepRequest, records.sealer, records.clients)
    assert request is not None
    assert (request.sweep_id, request.accounts, request.resource_types) == (
        sweep_id,
        [MEMBER_B],
        [SECURITY_GROUP],
    )
    assert (request.requested_by, request.requested_by_arn) == (REQUESTER.principal, REQUESTER_ARN)
    # And one execution of the sweep machine is named by the id; its input only routes
    [execution] = sfn.called("StartExecution")
    assert (execution["stateMachineArn"], execution["name"]) == (SWEEP_MACHINE, sweep_id)
    assert json.loads(execution["input"]) == {"sweepId": sweep_id}


def test_start_sweep_never_adopts_a_record_planted_under_its_id(
    sfn: SweepStepFunctions,
    settings: ApiSettings,
    records: RecordStore,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defence: the request is written once; a record already under the new id is not overwritten
    and no execution starts (so nobody's planted accounts are swept under the API's name)."""
    planted_id = "9e1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
    monkeypatch.setattr(sweeps.uuid, "uuid4", lambda: planted_id)
    put_json(s3, request_key(planted_id), {"record": {"sweepId": planted_id}, "seal": "Zm9v"})
    with pytest.raises(ClientError, match="PreconditionFailed"):
        start(sfn, settings, records)
    assert sfn.called("StartExecution") == []
    assert get_json(s3, request_key(planted_id)) == {"record": {"sweepId": planted_id}, "seal": "Zm9v"}


# -- GET /sweeps/{id} ---------------------------------------------------------------------------


@pytest.mark.parametrize("sweep_id", ["../requests/x", "a" * 81, "with space", "sweep/one"])
def test_get_sweep_with_a_malformed_id_is_not_found(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, sweep_id: str
) -> None:
    with pytest.raises(NotFound):
        sweeps.get_sweep(sweep_id, sfn, s3, settings, records)
    assert sfn.calls == []


def test_get_sweep_of_an_unknown_id_is_not_found(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    with pytest.raises(NotFound):
        sweeps.get_sweep("5a0c1e2d-0000-4a5b-8c6d-7e8f9a0b1c2d", sfn, s3, settings, records)


@pytest.mark.parametrize(
    "seal", [pytest.param("Zm9yZ2Vk", id="made-up seal"), pytest.param(None, id="no seal")]
)
def test_attack_planted_sweep_request_is_refused_by_the_api(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, seal: str | None
) -> None:
    """A request record planted in the bucket (not sealed by the API), with an execution of that name
    started directly: the API knows no such sweep, shows nothing of it, and starts no audit from it."""
    sweep_id = "planted-sweep-0001"
    request = SweepRequest(
        sweep_id=sweep_id,
        accounts=[OWN],
        resource_types=[BUCKET],
        requested_by="mallory",
        requested_at="2025-03-01T12:00:00Z",  # type: ignore[arg-type]
    )
    put_json(
        s3, request_key(sweep_id), {"record": request.to_json_dict(), **({"seal": seal} if seal else {})}
    )
    sfn.add_execution(execution_of(sweep_id), status="SUCCEEDED", input=json.dumps({"sweepId": sweep_id}))
    store_result(s3, sweep_id, OWN)
    put_json(s3, report_key(sweep_id), {"totals": {"resources": 1}, "complete": True})
    audit = sweeps.StartSweepAuditRequest.parse({"resource": BUCKET_REF.to_json_dict()}, settings)
    calls: list[Callable[[], Any]] = [
        lambda: sweeps.get_sweep(sweep_id, sfn, s3, settings, records),
        lambda: sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records),
        lambda: sweeps.sweep_findings(sweep_id, sweeps.FindingsQuery(), sfn, s3, settings, records),
        lambda: sweeps.start_sweep_audit(sweep_id, audit, lambda: REQUESTER, sfn, s3, settings, records),
    ]
    for attempt in calls:
        with pytest.raises(NotFound):
            attempt()
    assert sfn.called("StartExecution") == [] and not exists(s3, "requests/")
    # And the list names the execution, but nothing the planted record claims
    [entry] = sweeps.list_sweeps(sweeps.ListSweepsQuery(), sfn, settings, records).sweeps
    assert (entry.sweep_id, entry.requested_by, entry.accounts) == (sweep_id, None, [])


def test_get_sweep_progress_counts_listed_done_failed_and_remaining(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    # Given a running sweep: not listed yet
    sweep_id = start(sfn, settings, records, accounts=[OWN, MEMBER_B])
    early = sweeps.get_sweep(sweep_id, sfn, s3, settings, records)
    assert early.progress.to_json_dict() == {"total": None, "done": 0, "failed": 0, "remaining": None}
    # When the accounts are listed (8 resources), 3 are judged and the Map run counts 2 failed
    listing = [
        AccountListing(account_id=OWN, status="LISTED", resources=5),
        AccountListing(account_id=MEMBER_B, status="LISTED", resources=3),
    ]
    put_json_list(s3, accounts_key(sweep_id), [a.to_json_dict() for a in listing])
    for name in ("one", "two", "three"):
        store_result(s3, sweep_id, OWN, ResourceRef(id=f"bucket-{name}"))
    sfn.item_counts[execution_of(sweep_id)] = {"failed": 1, "timedOut": 1, "aborted": 0, "succeeded": 3}
    status = sweeps.get_sweep(sweep_id, sfn, s3, settings, records)
    # Then the progress says so, with the listing, the request's details and no summary yet
    assert status.status == "RUNNING" and status.summary is None
    assert status.progress.to_json_dict() == {"total": 8, "done": 3, "failed": 2, "remaining": 3}
    assert status.listing == listing
    assert (status.accounts, status.deployment_account_id) == ([OWN, MEMBER_B], OWN)
    assert status.requested_by == REQUESTER.principal


def test_get_sweep_progress_is_best_effort_when_map_runs_cannot_be_read(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    sweep_id = start(sfn, settings, records, accounts=[OWN])
    sfn.fail("ListMapRuns", "AccessDeniedException", "no")
    assert sweeps.get_sweep(sweep_id, sfn, s3, settings, records).progress.failed == 0


def test_get_sweep_ended_has_the_posture_summary(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    sweep_id = start(sfn, settings, records, status="SUCCEEDED", accounts=[OWN])
    # Write Posture Report's few hundred bytes: GET never reads the posture report itself (megabytes)
    put_json(
        s3,
        summary_key(sweep_id),
        {
            "resources": 4,
            "compliant": 1,
            "nonCompliant": 2,
            "unjudged": 1,
            "complete": False,
            "failingBySeverity": {"HIGH": 3},
        },
    )
    put_json(s3, report_key(sweep_id), {"not": "read by GET /sweeps/{id}"})
    summary = sweeps.get_sweep(sweep_id, sfn, s3, settings, records).summary
    assert summary is not None and summary.to_json_dict() == {
        "resources": 4,
        "compliant": 1,
        "nonCompliant": 2,
        "unjudged": 1,
        "complete": False,
        "failingBySeverity": {"HIGH": 3},
    }


def put_json_list(s3: Any, key: str, data: list[Any]) -> None:
    s3.put_object(Bucket=REPORT_BUCKET, Key=key, Body=json.dumps(data).encode())


# -- report and findings ------------------------------------------------------------------------


def test_a_report_too_large_for_one_answer_is_shortened_with_a_link_to_the_whole(
    sfn: SweepStepFunctions,
    settings: ApiSettings,
    records: RecordStore,
    s3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Lambda answer holds at most 6 MB; a sweep of thousands of failing resources writes more."""
    from tests.unit.sweep.test_posture import FAILED_ITEMS, FINISHED, LISTINGS, fixture_results
    from tests.unit.sweep.test_posture import request as posture_request

    sweep_id = start(sfn, settings, records, status="SUCCEEDED", accounts=[OWN])
    whole = posture_of(
        posture_request(), LISTINGS, fixture_results(), failed_items=FAILED_ITEMS, finished_at=FINISHED
    )
    put_json(s3, report_key(sweep_id), whole.to_json_dict())
    monkeypatch.setattr(sweeps, "REPORT_INLINE_BYTES", 1000)  # this report counts as too large
    monkeypatch.setattr(sweeps, "SHORTENED_RESOURCES", 1)
    answer = PostureReport.model_validate(sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records))
    assert answer.failing_resources == whole.failing_resources[:1]
    assert answer.totals == whole.totals
    assert answer.shortened is not None
    assert answer.shortened.failing_resources == len(whole.failing_resources) > 1
    url = answer.shortened.full_report_url or ""
    assert report_key(sweep_id) in url and "Expires=" in url  # a short-lived link to the whole
    monkeypatch.setattr(sweeps, "REPORT_INLINE_BYTES", 10_000_000)
    assert sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records) == whole.to_json_dict()


def test_report_and_findings_of_a_running_sweep_are_a_conflict(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    sweep_id = start(sfn, settings, records, accounts=[OWN])
    with pytest.raises(Conflict):
        sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records)
    with pytest.raises(Conflict):
        sweeps.sweep_findings(sweep_id, sweeps.FindingsQuery(), sfn, s3, settings, records)


def test_report_of_an_ended_sweep_in_json_and_markdown(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    sweep_id = start(sfn, settings, records, status="FAILED", accounts=[OWN])
    with pytest.raises(NotFound):  # ended without a report
        sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records)
    put_json(s3, report_key(sweep_id), {"sweepId": sweep_id, "complete": False})
    s3.put_object(Bucket=REPORT_BUCKET, Key=markdown_key(sweep_id), Body=b"# Posture\n")
    assert sweeps.sweep_report(sweep_id, "json", sfn, s3, settings, records) == {
        "sweepId": sweep_id,
        "complete": False,
    }
    assert sweeps.sweep_report(sweep_id, "markdown", sfn, s3, settings, records) == {
        "format": "markdown",
        "body": "# Posture\n",
    }


def test_findings_are_paged_and_a_page_past_the_end_is_not_found(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    # Given an ended sweep whose report wrote 150 OCSF findings in 2 pages
    sweep_id = start(sfn, settings, records, status="SUCCEEDED", accounts=[OWN])
    put_json(
        s3,
        findings_index_key(sweep_id),
        {"ocsf": {"findings": 150, "pages": 2}, "asff": {"findings": 0, "pages": 0}},
    )
    put_json_list(s3, page_key(sweep_id, "ocsf", 0), [{"n": n} for n in range(100)])
    put_json_list(s3, page_key(sweep_id, "ocsf", 1), [{"n": n} for n in range(100, 150)])

    def page(n: int, fmt: str = "ocsf") -> dict[str, Any]:
        query = sweeps.FindingsQuery.parse({"page": str(n), "format": fmt}, settings)
        return sweeps.sweep_findings(sweep_id, query, sfn, s3, settings, records)

    # Then page 0 points to page 1, which is the last
    first, last = page(0), page(1)
    assert (first["page"], first["pages"], first["nextPage"], len(first["findings"])) == (0, 2, 1, 100)
    assert (last["page"], last["nextPage"], last["findings"][-1]) == (1, None, {"n": 149})
    # And a page past the end is NotFound
    with pytest.raises(NotFound):
        page(2)
    # And a format without findings has one empty page 0, and nothing past it
    assert page(0, "asff") == {"format": "asff", "page": 0, "pages": 0, "findings": [], "nextPage": None}
    with pytest.raises(NotFound):
        page(1, "asff")


# -- POST /sweeps/{id}/audits ------------------------------------------------------------------


@pytest.fixture
def found(sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any) -> str:
    """An ended sweep of the own account and B that judged "customer-data" in both."""
    sweep_id = start(sfn, settings, records, status="SUCCEEDED", accounts=[OWN, MEMBER_B])
    store_result(s3, sweep_id, OWN)
    store_result(s3, sweep_id, MEMBER_B)
    return sweep_id


def audit_body(settings: ApiSettings, **body: Any) -> sweeps.StartSweepAuditRequest:
    return sweeps.StartSweepAuditRequest.parse({"resource": BUCKET_REF.to_json_dict(), **body}, settings)


def test_sweep_audit_of_an_own_resource_starts_a_remediate_audit_through_the_gate(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, found: str
) -> None:
    confirmed: list[bool] = []
    # When a proven caller asks for an audit of the own account's bucket the sweep found
    started = sweeps.start_sweep_audit(
        found,
        audit_body(settings),
        lambda: REQUESTER,
        sfn,
        s3,
        settings,
        records,
        confirm=lambda: confirmed.append(True),
    )
    # Then an audit started, with the sweep named in the answer
    assert started.sweep_id == found and confirmed == [True]
    audit_id = started.audit_id
    # And its sealed request is a remediate audit of that bucket, requested by the proven caller
    request = records.request(audit_id)
    assert request is not None
    assert (request.resource, request.mode) == (BUCKET_REF, "remediate")
    assert (request.requested_by, request.requested_by_arn) == (REQUESTER.principal, REQUESTER_ARN)
    # And the audit machine (not the sweep's) runs it; it waits at the approval gate like any audit
    [execution] = [c for c in sfn.called("StartExecution") if c["name"] == audit_id]
    assert execution["stateMachineArn"] == STATE_MACHINE_ARN
    assert json.loads(execution["input"])["mode"] == "remediate"


def test_sweep_audit_of_a_member_account_resource_is_a_bad_request_and_starts_nothing(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, found: str
) -> None:
    before = all_keys(s3)
    with pytest.raises(BadRequest) as refused:
        sweeps.start_sweep_audit(
            found, audit_body(settings, accountId=MEMBER_B), lambda: REQUESTER, sfn, s3, settings, records
        )
    assert refused.value.field == "accountId" and "read-only" in refused.value.message
    assert [c["name"] for c in sfn.called("StartExecution")] == [found]
    assert all_keys(s3) == before


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param({"type": BUCKET, "id": "never-swept"}, id="bucket not judged"),
        pytest.param({"type": SECURITY_GROUP, "id": "sg-0123456789abcdef0"}, id="group not judged"),
    ],
)
def test_sweep_audit_of_a_resource_not_among_the_results_is_not_found_and_starts_nothing(
    sfn: SweepStepFunctions,
    settings: ApiSettings,
    records: RecordStore,
    s3: Any,
    found: str,
    resource: dict[str, str],
) -> None:
    before = all_keys(s3)
    body = sweeps.StartSweepAuditRequest.parse({"resource": resource}, settings)
    with pytest.raises(NotFound):
        sweeps.start_sweep_audit(found, body, lambda: REQUESTER, sfn, s3, settings, records)
    assert [c["name"] for c in sfn.called("StartExecution")] == [found]
    assert all_keys(s3) == before


def test_sweep_audit_of_a_result_stored_under_another_resources_key_is_not_found(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, found: str
) -> None:
    # Given a result of "other-bucket" copied under the key of "never-swept"
    other = store_result(s3, found, OWN, ResourceRef(id="other-bucket"))
    put_json(s3, resource_key(found, OWN, ResourceRef(id="never-swept")), other.to_json_dict())
    body = sweeps.StartSweepAuditRequest.parse({"resource": {"type": BUCKET, "id": "never-swept"}}, settings)
    with pytest.raises(NotFound):
        sweeps.start_sweep_audit(found, body, lambda: REQUESTER, sfn, s3, settings, records)
    assert not exists(s3, "requests/")


def test_sweep_audit_of_a_running_sweep_is_a_conflict(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, found: str
) -> None:
    sfn.executions[execution_of(found)].status = "RUNNING"
    with pytest.raises(Conflict):
        sweeps.start_sweep_audit(found, audit_body(settings), lambda: REQUESTER, sfn, s3, settings, records)
    assert not exists(s3, "requests/")


def test_sweep_audit_by_an_unproven_caller_is_forbidden_and_writes_nothing(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any, found: str
) -> None:
    before = all_keys(s3)
    with pytest.raises(Forbidden):
        sweeps.start_sweep_audit(found, audit_body(settings), unproven, sfn, s3, settings, records)
    assert [c["name"] for c in sfn.called("StartExecution")] == [found]
    assert all_keys(s3) == before


def test_sweep_audit_proves_the_caller_before_reading_anything_of_the_sweep(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    """An unproven caller learns nothing: not even whether such a sweep or resource exists (a
    NotFound would tell); the proof fails first, before any read."""
    reads_before = len(sfn.calls)
    with pytest.raises(Forbidden):
        sweeps.start_sweep_audit(
            "0" * 8 + "-0000-4000-8000-" + "0" * 12,
            audit_body(settings),
            unproven,
            sfn,
            s3,
            settings,
            records,
        )
    assert len(sfn.calls) == reads_before  # no DescribeExecution: the proof came first


def test_a_second_sweep_while_one_runs_is_a_conflict_and_starts_nothing(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore, s3: Any
) -> None:
    running = start(sfn, settings, records, accounts=[OWN])
    before = all_keys(s3)
    with pytest.raises(Conflict, match=running):
        start(sfn, settings, records, accounts=[MEMBER_B])
    assert [c["name"] for c in sfn.called("StartExecution")] == [running]
    assert all_keys(s3) == before
    sfn.executions[execution_of(running)].status = "SUCCEEDED"
    assert start(sfn, settings, records, accounts=[MEMBER_B]) != running  # once it ended


# -- GET /sweeps --------------------------------------------------------------------------------


def test_list_sweeps_names_each_sweeps_request(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore
) -> None:
    sweep_id = start(sfn, settings, records, accounts=[MEMBER_B])
    [entry] = sweeps.list_sweeps(sweeps.ListSweepsQuery(), sfn, settings, records).sweeps
    assert (entry.sweep_id, entry.status, entry.requested_by, entry.accounts) == (
        sweep_id,
        "RUNNING",
        REQUESTER.principal,
        [MEMBER_B],
    )


def test_list_sweeps_with_a_token_it_did_not_give_is_a_bad_request(
    sfn: SweepStepFunctions, settings: ApiSettings, records: RecordStore
) -> None:
    with pytest.raises(BadRequest) as refused:
        sweeps.list_sweeps(sweeps.ListSweepsQuery(nextToken="forged"), sfn, settings, records)
    assert refused.value.field == "nextToken"


# -- through the API handler --------------------------------------------------------------------


@pytest.fixture
def handler_deps(
    sfn: SweepStepFunctions, settings: ApiSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deps]:
    """The API handler wired to moto S3 and KMS, the fake Step Functions and the sweep settings;
    the caller is whoever the request context names (tests/unit/lambdas/test_api_handler.py)."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORT_BUCKET)
        make = functools.cache(client_factory())
        records = RecordStore(REPORT_BUCKET, make, KmsSealer(seal_key(make), make), AgentSettings())
        wired = Deps(settings, sfn, client, records, ContextIdentity())  # type: ignore[arg-type]
        monkeypatch.setattr(api_handler, "deps", lambda: wired)
        yield wired


def sweep_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    return event(
        "start_audit",
        json.dumps(body) if body is not None else None,
        httpMethod=method,
        path=path,
        resource=path,
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "answer"),
    [
        pytest.param(
            "POST",
            "/sweeps",
            {"mode": "remediate"},
            400,
            {"error": "InvalidRequest", "field": "mode"},
            id="remediate sweep",
        ),
        pytest.param(
            "POST",
            "/sweeps",
            {"accounts": [OUTSIDER]},
            403,
            {"error": "Forbidden", "field": "accounts"},
            id="outsider account",
        ),
        pytest.param("GET", "/sweeps/not..an..id", None, 404, {"error": "NotFound"}, id="malformed id"),
        pytest.param(
            "GET",
            "/sweeps/5a0c1e2d-3b4f-4a5b-8c6d-7e8f9a0b1c2d/report",
            None,
            404,
            {"error": "NotFound"},
            id="unknown sweep's report",
        ),
        pytest.param(
            "GET",
            "/sweeps/any/findings",
            {"x": 1},
            404,
            {"error": "NotFound"},
            id="findings of no sweep",
        ),
    ],
)
def test_handler_answers_sweep_refusals_as_json_errors(
    handler_deps: Deps,
    sfn: SweepStepFunctions,
    method: str,
    path: str,
    body: Any,
    status: int,
    answer: dict[str, str],
) -> None:
    got_status, got = call(sweep_event(method, path, body))
    assert got_status == status
    assert {k: got[k] for k in answer} == answer
    assert isinstance(got["message"], str) and got["message"]
    assert set(got) <= {"error", "message", "field"}
    assert sfn.called("StartExecution") == []


def test_handler_starts_a_sweep_for_the_caller_in_the_request_context(
    handler_deps: Deps, sfn: SweepStepFunctions
) -> None:
    status, body = call(sweep_event("POST", "/sweeps", {"accounts": [OWN], "resourceTypes": [BUCKET]}))
    assert status == 202 and body["status"] == "RUNNING"
    request = sweeps.sweep_request(body["sweepId"], handler_deps.records)
    assert request.accounts == [OWN] and request.requested_by_arn == "arn:aws:iam::123456789012:user/alice"
    # And it can be followed through GET /sweeps/{id}
    status, followed = call(sweep_event("GET", f"/sweeps/{body['sweepId']}"))
    assert (status, followed["status"], followed["progress"]["total"]) == (200, "RUNNING", None)


def test_handler_refuses_an_unproven_caller_before_starting_a_sweep(
    handler_deps: Deps, sfn: SweepStepFunctions, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Unproven:
        def caller(self, *args: Any) -> Caller:
            raise Forbidden("prove who you are")

    monkeypatch.setattr(api_handler, "deps", lambda: dataclasses.replace(handler_deps, identity=Unproven()))
    assert call(sweep_event("POST", "/sweeps", {})) == (
        403,
        {"error": "Forbidden", "message": "prove who you are"},
    )
    assert sfn.called("StartExecution") == []
