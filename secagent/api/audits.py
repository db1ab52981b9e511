"""Start an audit (one execution named by the audit id), and list audits."""

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from secagent.api import guard
from secagent.api.aws import error_code, read_json
from secagent.api.errors import BadRequest, Forbidden
from secagent.api.executions import ENDED_BADLY, resumed_since
from secagent.api.identity import Caller
from secagent.api.models import (
    AuditList,
    AuditSummary,
    Links,
    ListAuditsQuery,
    ListCursor,
    StartAuditRequest,
    StartAuditResponse,
)
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.progress import json_object, pending_approval
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.models.records import AuditRequest
from secagent.models.snapshot import ResourceRef


def _now() -> datetime:
    return datetime.now(UTC)


def start_audit(
    request: StartAuditRequest,
    requested_by: Caller | Callable[[], Caller],
    sfn: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    s3: Any = None,
    idempotency_key: str | None = None,
    audit_id: str | None = None,
    now: Callable[[], datetime] = _now,
    confirm: Callable[[], None] | None = None,
) -> StartAuditResponse:
    """Start one execution named by the audit id; one running audit per resource (with `s3`).

    `requested_by` is who asks, or the proof of it to check (a callable raising Forbidden).
    `confirm` asks S3 whether the bucket is there and the deployment's to read (preflight). The
    proof, `confirm` and the read of the resource's lock run side by side, all read-only; what
    `confirm` and the lock find is answered only once the proof holds, and nothing is written
    before. `idempotency_key` (the Idempotency-Key header) replays the first answer to the same
    caller for the same body (another body with that key is a 422); `audit_id` is set by triggers
    that derive it from their event, so a redelivery starts nothing.
    """
    resource = request.resource.ref()
    try:
        check_target(resource, request.mode, settings)
        refused: Forbidden | None = None
    except Forbidden as err:
        refused = err  # answered once the caller is proven; nothing is asked of AWS meanwhile
    with ThreadPoolExecutor(max_workers=3) as pool:
        proving = pool.submit(requested_by) if callable(requested_by) else None
        confirming = pool.submit(confirm) if confirm is not None and refused is None else None
        locking = (
            pool.submit(guard.read_lock, s3, sfn, settings, resource.type, resource.id)
            if s3 is not None and refused is None
            else None
        )
        # The proof first: an unproven caller learns nothing of the bucket, not even that it is protected.
        caller = proving.result() if proving is not None else requested_by
        assert isinstance(caller, Caller)
        if refused is not None:
            raise refused
        if confirming is not None:
            confirming.result()
        body = request.model_dump(by_alias=True)
        if s3 is not None and (first := guard.replayed(s3, settings, caller.arn, idempotency_key, body)):
            return StartAuditResponse.model_validate(first)
        started = start_execution_for(
            AuditRequest(
                audit_id=audit_id or str(uuid.uuid4()),
                resource=resource,
                mode=request.mode,
                approval_timeout_seconds=request.approval_timeout_seconds,
                requested_by=caller.principal or UNKNOWN_CALLER,
                requested_by_arn=caller.arn or None,
                requested_at=now(),
            ),
            sfn=sfn,
            s3=s3,
            settings=settings,
            records=records,
            lock=locking.result() if locking is not None else None,
        )
    if s3 is not None:
        guard.remember(s3, settings, caller.arn, idempotency_key, body, started.to_json_dict())
    return started


def check_target(resource: ResourceRef, mode: str, settings: ApiSettings) -> None:
    """The stack's own buckets (and CDK's) are never audited; remediation only within the scope."""
    if settings.protected(resource):
        raise Forbidden(
            f'"{resource.id}" is protected: it belongs to this stack or to the CDK bootstrap, and is never '
            "audited or changed by it.",
            field="resource.id",
        )
    if mode != "plan" and not settings.in_remediation_scope(resource):
        scope = f"bucket names starting with {', '.join(settings.scope.remediation_prefixes)}"
        raise Forbidden(
            f'"{resource.id}" is outside this deployment\'s remediation scope ({scope}; no security '
            "group); audit it in plan mode.",
            field="resource.id",
        )


def start_execution_for(
    request: AuditRequest,
    *,
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    lock: guard.Lock | None = None,
) -> StartAuditResponse:
    """Claim the resource (one running audit each, with `s3`; over `lock` when it was read already),
    seal the request, start the execution. The seal is made while the claim is written; the sealed
    record is written once the claim holds, and the execution started once it is written.

    The execution input only routes; Discover checks it against the sealed request record.
    """
    audit_id = request.audit_id
    if s3 is None:
        records.write_request(request)
    else:
        with ThreadPoolExecutor(max_workers=1) as pool:
            sealing = pool.submit(records.seal_request, request)
            if lock is None:
                lock = guard.read_lock(s3, sfn, settings, request.resource.type, request.resource.id)
            guard.claim(s3, settings, lock, audit_id)
            sealed = sealing.result()
        records.put_request(sealed)
    execution_input = {
        "resource": request.resource.to_json_dict(),
        "mode": request.mode,
        "approvalTimeoutSeconds": request.approval_timeout_seconds,
    }
    sfn.start_execution(
        stateMachineArn=settings.state_machine_arn, name=audit_id, input=json.dumps(execution_input)
    )
    return StartAuditResponse(
        audit_id=audit_id, links=Links(self=f"/audits/{audit_id}", approval=f"/audits/{audit_id}/approval")
    )


# ListExecutions is read in pages of this size (at least the largest `limit`), at most this many
# pages per request: 200 executions, described at most twice each, within DescribeExecution's
# burst quota; 4 ListExecutions calls, within its smaller one.
_LIST_PAGE_SIZE = 50
_LIST_MAX_PAGES = 4
_LIST_BATCH = 8  # executions summarized at once, in parallel (at least, when a filter must describe them)


def list_audits(query: ListAuditsQuery, sfn: Any, s3: Any, settings: ApiSettings) -> AuditList:
    """Audits newest first (a resumed audit once, with its latest execution) that match the filter.

    The filter applies to the whole list: ListExecutions is read page after page until `limit`
    audits match or the list ends, at most `_LIST_MAX_PAGES` pages per request. The nextToken
    resumes right after the last execution read, with the same filter, so no audit is skipped or
    listed twice; a page may hold fewer than `limit` audits (even none) and still have one.
    """
    cursor = query.cursor()
    kwargs: dict[str, Any] = {"stateMachineArn": settings.state_machine_arn, "maxResults": _LIST_PAGE_SIZE}
    if cursor.status is not None and _coarse(cursor.status) != "FAILED":  # 3 statuses: not one filter
        kwargs["statusFilter"] = _coarse(cursor.status)
    # Whether the list tells which executions match (else each needs describing): then read no more
    listed_tells = cursor.resource is None and cursor.status != "AWAITING_APPROVAL"
    audits: list[AuditSummary] = []
    seen: set[str] = set()  # audits met in this request: their older executions are not listed
    page = cursor.page
    resume_from: ListCursor | None = cursor  # where the last request stopped
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(_LIST_MAX_PAGES):
            executions, next_page = _list_page(sfn, kwargs, page)
            read, found = _resume_at(executions, resume_from)
            if found or read < len(executions):
                resume_from = None  # else every execution of the page was read before: on to the next
            while read < len(executions) and len(audits) < query.limit:
                wanted = query.limit - len(audits)
                batch = executions[read : read + (wanted if listed_tells else max(wanted, _LIST_BATCH))]
                for summary in _matching(pool, batch, cursor, seen, sfn, s3, settings):
                    read += 1
                    if summary is not None:
                        audits.append(summary)
                        if len(audits) == query.limit:
                            break
            if read < len(executions):  # the limit was reached inside this page
                last = executions[read - 1]
                resume = {"page": page, "after": last["name"], "after_start": last["startDate"]}
                return AuditList(audits=audits, next_token=cursor.model_copy(update=resume).token())
            if next_page is None:
                return AuditList(audits=audits)
            page = next_page
            if len(audits) == query.limit:
                break
    resume = {"page": page, "after": None, "after_start": None}
    if resume_from is not None:  # the pages read were all read before: go on looking for the place
        resume |= {"after": resume_from.after, "after_start": resume_from.after_start}
    return AuditList(audits=audits, next_token=cursor.model_copy(update=resume).token())


def _coarse(status: str) -> str:
    """An audit state or a Step Functions execution status as one of RUNNING, SUCCEEDED, FAILED."""
    if status in ENDED_BADLY or status == "FAILED":
        return "FAILED"
    return "SUCCEEDED" if status == "SUCCEEDED" else "RUNNING"


def _list_page(sfn: Any, kwargs: dict[str, Any], page: str | None) -> tuple[list[dict[str, Any]], str | None]:
    try:
        answer = sfn.list_executions(**kwargs, **({"nextToken": page} if page else {}))
    except ClientError as err:
        if error_code(err) == "InvalidToken":
            raise BadRequest(
                "nextToken: is not a token this API gave out (or it has expired)", field="nextToken"
            ) from None
        raise
    return answer.get("executions", []), answer.get("nextToken")


def _resume_at(executions: list[dict[str, Any]], cursor: ListCursor | None) -> tuple[int, bool]:
    """Where the unread executions of a page (newest first) start, and whether the one read last
    is on it. When it is not (the list moved, or it expired): after every execution that started
    at or after it."""
    if cursor is None or cursor.after is None or cursor.after_start is None:
        return 0, True
    names = [e["name"] for e in executions]
    if cursor.after in names:
        return names.index(cursor.after) + 1, True
    older = (i for i, e in enumerate(executions) if e["startDate"] < cursor.after_start)
    return next(older, len(executions)), False


def _matching(
    pool: ThreadPoolExecutor,
    batch: list[dict[str, Any]],
    cursor: ListCursor,
    seen: set[str],
    sfn: Any,
    s3: Any,
    settings: ApiSettings,
) -> Iterator[AuditSummary | None]:
    """Per execution of the batch, in order: its audit, when the execution is the audit's latest
    and the audit matches the filter; else None."""
    candidates = []
    for execution in batch:  # in list order: an audit's newest execution comes first
        audit_id = execution["name"].partition("_")[0]
        wanted = cursor.status is None or _coarse(execution["status"]) == _coarse(cursor.status)
        candidates.append(audit_id not in seen and wanted)
        seen.add(audit_id)

    def one(execution: dict[str, Any], candidate: bool) -> AuditSummary | None:
        if not candidate or resumed_since(execution, sfn, s3, settings):
            return None
        summary = _summary(execution, sfn, s3, settings)
        if cursor.status is not None and summary.status != cursor.status:
            return None
        if cursor.resource is not None and (summary.resource or {}).get("id") != cursor.resource:
            return None
        return summary

    return pool.map(one, batch, candidates)


def _summary(execution: dict[str, Any], sfn: Any, s3: Any, settings: ApiSettings) -> AuditSummary:
    audit_id = execution["name"].split("_", 1)[0]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    first = (
        described
        if audit_id == execution["name"]
        else sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
    )
    execution_input = json_object(first.get("input"))
    state = described["status"]
    summary = AuditSummary(
        audit_id=audit_id,
        status="FAILED" if state in ENDED_BADLY else "SUCCEEDED" if state == "SUCCEEDED" else "RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),
        started_at=first.get("startDate"),
        stopped_at=described.get("stopDate"),
        outcome=json_object(described.get("output")).get("outcome")
        or ("FAILED" if state in ENDED_BADLY else None),
    )
    if summary.status == "RUNNING" and pending_approval(
        read_json(s3, settings.report_bucket, settings.approval_key(audit_id)), _now()
    ):
        summary.status = "AWAITING_APPROVAL"
    return summary
