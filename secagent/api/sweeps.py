"""The sweep routes: start a sweep, follow it, read its posture report and findings, and start a
remediate audit of a resource it found (through the approval gate, as any audit)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from pydantic.alias_generators import to_camel

from secagent.api.audits import start_audit
from secagent.api.aws import error_code, read_document, read_json
from secagent.api.errors import BadRequest, Conflict, Forbidden, NotFound, UpstreamError
from secagent.api.identity import Caller
from secagent.api.models import RequestModel, ResourceInput, StartAuditRequest, StartAuditResponse
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.records import RecordStore
from secagent.api.settings import DEFAULT_APPROVAL_TIMEOUT_SECONDS, ApiSettings
from secagent.models.base import CamelModel
from secagent.models.posture import PostureReport
from secagent.models.snapshot import ResourceType
from secagent.models.sweep import (
    MAX_ACCOUNTS,
    SWEEP_ID,
    AccountListing,
    ResourceResult,
    SweepProgress,
    SweepRequest,
    SweepSummary,
    accounts_key,
    findings_index_key,
    markdown_key,
    page_key,
    report_key,
    request_key,
    resource_key,
    resources_prefix,
    summary_key,
    sweep_execution_arn,
    sweep_types,
)
from secagent.workflow.store import SealBroken, read_sealed, write_sealed

SweepState = Literal["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
# GET /sweeps/{id}/report: a posture report larger than this is answered shortened (a Lambda
# answer holds at most 6 MB), with the worst of each list and a link to the whole report.
REPORT_INLINE_BYTES = 4_000_000
SHORTENED_RESOURCES = 200
SHORTENED_PER_CONTROL = 20
FULL_REPORT_LINK_SECONDS = 300
FindingsFormat = Literal["ocsf", "asff"]


class StartSweepRequest(RequestModel):
    accounts: list[str] | None = PydanticField(default=None, min_length=1, max_length=MAX_ACCOUNTS)
    resource_types: list[ResourceType] | None = PydanticField(default=None, min_length=1, max_length=2)
    mode: Literal["plan"] = "plan"

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> StartSweepRequest:
        if data.get("mode") == "remediate":
            raise BadRequest(
                "A sweep changes nothing (mode plan only). Remediate a resource it found with "
                "POST /sweeps/{sweepId}/audits: that audit waits for a person's approval.",
                field="mode",
            )
        return cls.model_validate(data)


class StartSweepAuditRequest(RequestModel):
    resource: ResourceInput
    account_id: str | None = PydanticField(default=None, pattern=r"^\d{12}$")
    mode: Literal["plan", "remediate"] = "remediate"
    approval_timeout_seconds: int = DEFAULT_APPROVAL_TIMEOUT_SECONDS

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> StartSweepAuditRequest:
        data = {"approvalTimeoutSeconds": settings.default_approval_timeout_seconds, **data}
        return cls.model_validate(data)


class ListSweepsQuery(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid")

    limit: int = PydanticField(default=20, ge=1, le=50)
    next_token: str | None = PydanticField(default=None, max_length=2048)

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> ListSweepsQuery:
        return cls.model_validate(data)


class FindingsQuery(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid")

    format: FindingsFormat = "ocsf"
    page: int = PydanticField(default=0, ge=0, le=100_000)

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> FindingsQuery:
        return cls.model_validate(data)


class ReportQuery(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=False, extra="forbid")

    format: Literal["json", "markdown"] = "json"

    @classmethod
    def parse(cls, data: dict[str, Any], settings: ApiSettings) -> ReportQuery:
        return cls.model_validate(data)


class SweepLinks(CamelModel):
    self: str
    report: str
    findings: str


class StartSweepResponse(CamelModel):
    sweep_id: str
    status: Literal["RUNNING"] = "RUNNING"
    links: SweepLinks


class SweepStatus(CamelModel):
    sweep_id: str
    status: SweepState
    # Only its resources can be remediated from the sweep (POST /sweeps/{id}/audits); a member
    # account is swept read-only.
    deployment_account_id: str
    accounts: list[str]
    resource_types: list[ResourceType]
    requested_by: str
    requested_at: datetime
    finished_at: datetime | None = None
    progress: SweepProgress
    listing: list[AccountListing] = PydanticField(default_factory=list)
    summary: SweepSummary | None = None
    links: SweepLinks


class SweepEntry(CamelModel):
    sweep_id: str
    status: SweepState
    requested_at: datetime | None = None
    requested_by: str | None = None
    accounts: list[str] = PydanticField(default_factory=list)


class SweepList(CamelModel):
    sweeps: list[SweepEntry]
    next_token: str | None = None


class SweepAuditResponse(StartAuditResponse):
    sweep_id: str


def links(sweep_id: str) -> SweepLinks:
    return SweepLinks(
        self=f"/sweeps/{sweep_id}",
        report=f"/sweeps/{sweep_id}/report",
        findings=f"/sweeps/{sweep_id}/findings",
    )


def _execution_arn(settings: ApiSettings, sweep_id: str) -> str:
    return sweep_execution_arn(settings.sweep_state_machine_arn, sweep_id)


def _now() -> datetime:
    return datetime.now(UTC)


def start_sweep(
    body: StartSweepRequest,
    requested_by: Caller | Callable[[], Caller],
    sfn: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    now: Callable[[], datetime] = _now,
) -> StartSweepResponse:
    """Seal the request (who, which accounts and types), then start the sweep named by its id."""
    caller = requested_by() if callable(requested_by) else requested_by
    running = sfn.list_executions(
        stateMachineArn=settings.sweep_state_machine_arn, statusFilter="RUNNING", maxResults=1
    ).get("executions", [])
    if running:  # a sweep reads every resource of every account: one at a time bounds the cost
        raise Conflict(f'Sweep "{running[0]["name"]}" is running: start the next one when it ends.')
    sweepable = settings.sweepable_accounts
    accounts = body.accounts or sorted(sweepable, key=lambda a: (a != settings.account, a))
    for account in accounts:
        if account not in sweepable:
            raise Forbidden(
                f"{json.dumps(account[:40])} is neither this deployment's account nor one of its member "
                "accounts (deploy setting memberAccounts, and the member stack in that account).",
                field="accounts",
            )
    if len(set(accounts)) != len(accounts):
        raise BadRequest("An account is named twice.", field="accounts")
    types = sweep_types(body.resource_types)
    request = SweepRequest(
        sweep_id=str(uuid.uuid4()),
        accounts=accounts,
        resource_types=types,
        requested_by=caller.principal or UNKNOWN_CALLER,
        requested_by_arn=caller.arn or None,
        requested_at=now(),
    )
    write_sealed(
        records.bucket, request_key(request.sweep_id), request, records.sealer, records.clients, once=True
    )
    sfn.start_execution(
        stateMachineArn=settings.sweep_state_machine_arn,
        name=request.sweep_id,
        input=json.dumps({"sweepId": request.sweep_id}),
    )
    return StartSweepResponse(sweep_id=request.sweep_id, links=links(request.sweep_id))


def _well_formed(sweep_id: str) -> None:
    """NotFound for an id no sweep can have, before anything is asked of AWS with it."""
    if not SWEEP_ID.fullmatch(sweep_id):
        raise NotFound(f"There is no sweep with id {json.dumps(sweep_id[:100])}.")


def sweep_request(sweep_id: str, records: RecordStore) -> SweepRequest:
    """The sealed request of the sweep; NotFound for an id no sweep has."""
    _well_formed(sweep_id)
    try:
        request = read_sealed(
            records.bucket, request_key(sweep_id), SweepRequest, records.sealer, records.clients
        )
    except SealBroken:
        request = None
    if request is None:
        raise NotFound(f'There is no sweep with id "{sweep_id}".')
    return request


def _describe(sfn: Any, settings: ApiSettings, sweep_id: str) -> dict[str, Any]:
    try:
        described: dict[str, Any] = sfn.describe_execution(executionArn=_execution_arn(settings, sweep_id))
    except ClientError as err:
        if error_code(err) in {"ExecutionDoesNotExist", "InvalidArn"}:
            raise NotFound(f'Sweep "{sweep_id}" has no execution.') from None
        raise UpstreamError(f"Step Functions DescribeExecution failed: {error_code(err)}") from None
    return described


def _count_results(s3: Any, settings: ApiSettings, sweep_id: str) -> int:
    count, token = 0, None
    while True:
        params: dict[str, Any] = {"Bucket": settings.report_bucket, "Prefix": resources_prefix(sweep_id)}
        if token:
            params["ContinuationToken"] = token
        page = s3.list_objects_v2(**params)
        count += int(page.get("KeyCount", len(page.get("Contents", []))))
        token = page.get("NextContinuationToken")
        if not token:
            return count


def _map_run_counts(sfn: Any, settings: ApiSettings, sweep_id: str) -> dict[str, int] | None:
    """The Map run's item counts (Step Functions' own progress), None before the run starts."""
    try:
        runs = sfn.list_map_runs(executionArn=_execution_arn(settings, sweep_id)).get("mapRuns", [])
        if not runs:
            return None
        counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"]).get("itemCounts", {})
    except ClientError:
        return None  # progress is best effort; the posture report names every failed item
    return {k: int(v) for k, v in counts.items() if isinstance(v, int)}


def get_sweep(sweep_id: str, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore) -> SweepStatus:
    _well_formed(sweep_id)
    with ThreadPoolExecutor(max_workers=4) as pool:  # a poll: every read side by side
        sealed = pool.submit(sweep_request, sweep_id, records)
        described = pool.submit(_describe, sfn, settings, sweep_id)
        listed = pool.submit(_read_list, s3, settings.report_bucket, accounts_key(sweep_id))
        run = pool.submit(_map_run_counts, sfn, settings, sweep_id)
        request = sealed.result()  # first: an id no sweep has is a 404, whatever else answered
        execution = described.result()
        listing = [AccountListing.model_validate(a) for a in (listed.result() or [])]
        status: SweepState = execution["status"]
        summary = (
            read_json(s3, settings.report_bucket, summary_key(sweep_id)) if status != "RUNNING" else None
        )
        counts = run.result()
    total = sum(a.resources for a in listing) if listed.result() is not None else None
    if counts is not None:
        judged = counts.get("succeeded", 0)
        failures = sum(counts.get(k, 0) for k in ("failed", "timedOut", "aborted"))
    else:  # no Map run (yet, or none: nothing was listed): count the results stored
        judged, failures = _count_results(s3, settings, sweep_id) if total else 0, 0
    return SweepStatus(
        sweep_id=sweep_id,
        status=status,
        deployment_account_id=settings.account,
        accounts=request.accounts,
        resource_types=request.resource_types,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        finished_at=execution.get("stopDate"),
        progress=SweepProgress(
            total=total,
            done=judged,
            failed=failures,
            remaining=None if total is None else max(0, total - judged - failures),
        ),
        listing=listing,
        summary=SweepSummary.model_validate(summary) if summary else None,
        links=links(sweep_id),
    )


def _read_list(s3: Any, bucket: str, key: str) -> list[Any] | None:
    data = read_document(s3, bucket, key)
    return data if isinstance(data, list) else None


def list_sweeps(query: ListSweepsQuery, sfn: Any, settings: ApiSettings, records: RecordStore) -> SweepList:
    params: dict[str, Any] = {"stateMachineArn": settings.sweep_state_machine_arn, "maxResults": query.limit}
    if query.next_token:
        params["nextToken"] = query.next_token
    try:
        page = sfn.list_executions(**params)
    except ClientError as err:
        if error_code(err) == "InvalidToken":
            raise BadRequest("nextToken is not one this API gave.", field="nextToken") from None
        raise UpstreamError(f"Step Functions ListExecutions failed: {error_code(err)}") from None

    def entry(execution: dict[str, Any]) -> SweepEntry:
        name = execution["name"]
        try:
            request: SweepRequest | None = sweep_request(name, records)
        except NotFound:
            request = None
        return SweepEntry(
            sweep_id=name,
            status=execution["status"],
            requested_at=request.requested_at if request else execution.get("startDate"),
            requested_by=request.requested_by if request else None,
            accounts=request.accounts if request else [],
        )

    executions = page.get("executions", [])
    with ThreadPoolExecutor(max_workers=8) as pool:
        sweeps = list(pool.map(entry, executions))
    return SweepList(sweeps=sweeps, next_token=page.get("nextToken"))


def _finished(sfn: Any, settings: ApiSettings, sweep_id: str) -> None:
    if _describe(sfn, settings, sweep_id)["status"] == "RUNNING":
        raise Conflict(f'Sweep "{sweep_id}" is still running: its report is written when it ends.')


def sweep_report(
    sweep_id: str, fmt: str, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> dict[str, Any]:
    sweep_request(sweep_id, records)
    _finished(sfn, settings, sweep_id)
    if fmt == "markdown":
        try:
            body = s3.get_object(Bucket=settings.report_bucket, Key=markdown_key(sweep_id))["Body"]
        except ClientError as err:
            if error_code(err) in {"NoSuchKey", "404"}:
                raise NotFound(f'Sweep "{sweep_id}" ended without a posture report.') from None
            raise UpstreamError(f"S3 GetObject failed: {error_code(err)}") from None
        return {"format": "markdown", "body": body.read().decode()}
    key = report_key(sweep_id)
    try:
        body = s3.get_object(Bucket=settings.report_bucket, Key=key)["Body"].read()
    except ClientError as err:
        if error_code(err) in {"NoSuchKey", "404"}:
            raise NotFound(f'Sweep "{sweep_id}" ended without a posture report.') from None
        raise UpstreamError(f"S3 GetObject failed: {error_code(err)}") from None
    if len(body) <= REPORT_INLINE_BYTES:
        posture: dict[str, Any] = json.loads(body)
        return posture
    # A Lambda answer holds at most 6 MB: the worst of each list, and a link to the whole report.
    url = s3.generate_presigned_url(
        "get_object",
        Params={"Bucket": settings.report_bucket, "Key": key},
        ExpiresIn=FULL_REPORT_LINK_SECONDS,
    )
    shortened = PostureReport.model_validate_json(body).shortened_to(
        SHORTENED_RESOURCES, SHORTENED_PER_CONTROL, url
    )
    return shortened.to_json_dict()


def sweep_findings(
    sweep_id: str, query: FindingsQuery, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> dict[str, Any]:
    sweep_request(sweep_id, records)
    _finished(sfn, settings, sweep_id)
    index = read_json(s3, settings.report_bucket, findings_index_key(sweep_id))
    if index is None:
        raise NotFound(f'Sweep "{sweep_id}" ended without findings.')
    pages = int((index.get(query.format) or {}).get("pages", 0))
    if pages == 0 and query.page == 0:
        return {"format": query.format, "page": 0, "pages": 0, "findings": [], "nextPage": None}
    if query.page >= pages:
        raise NotFound(f"Page {query.page} is past the last page ({pages - 1}).")
    found = _read_list(s3, settings.report_bucket, page_key(sweep_id, query.format, query.page))
    return {
        "format": query.format,
        "page": query.page,
        "pages": pages,
        "findings": found or [],
        "nextPage": query.page + 1 if query.page + 1 < pages else None,
    }


def start_sweep_audit(
    sweep_id: str,
    body: StartSweepAuditRequest,
    requested_by: Callable[[], Caller],
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    confirm: Callable[[], None] | None = None,
) -> SweepAuditResponse:
    """A remediate (or plan) audit of a resource the sweep judged, in this deployment's account:
    the same start as POST /audits (the gate, the lock, the preflight, four-eyes). The caller is
    proven first: nobody unproven learns whether a sweep judged a resource."""
    caller = requested_by()
    request = sweep_request(sweep_id, records)
    _finished(sfn, settings, sweep_id)
    account = body.account_id or settings.account
    resource = body.resource.ref()
    if account != settings.account:
        raise BadRequest(
            f"{account} is a member account, swept read-only: deploy the agent in that account to "
            "remediate there.",
            field="accountId",
        )
    stored = read_json(s3, settings.report_bucket, resource_key(sweep_id, account, resource))
    if stored is None or account not in request.accounts:
        raise NotFound(f'Sweep "{sweep_id}" judged no {resource.type} "{resource.id}" in {account}.')
    result = ResourceResult.model_validate(stored)
    if result.resource != resource or result.account_id != account:
        raise NotFound(f'Sweep "{sweep_id}" judged no {resource.type} "{resource.id}" in {account}.')
    started = start_audit(
        StartAuditRequest.model_validate(
            {
                "resource": body.resource.model_dump(by_alias=True),
                "mode": body.mode,
                "approvalTimeoutSeconds": body.approval_timeout_seconds,
            },
            context={"settings": settings},
        ),
        caller,
        sfn,
        settings,
        records,
        s3=s3,
        confirm=confirm,
    )
    return SweepAuditResponse(sweep_id=sweep_id, **started.model_dump())
