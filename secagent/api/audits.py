"""Start an audit (one execution named by the audit id) and report where it is."""

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from pydantic import ValidationError

from secagent.api import guard
from secagent.api.aws import audit_executions, error_code, read_json
from secagent.api.errors import BadRequest, Forbidden
from secagent.api.identity import Caller
from secagent.api.models import (
    AuditList,
    AuditStatus,
    AuditSummary,
    ExecutionSummary,
    Links,
    ListAuditsQuery,
    ListCursor,
    StartAuditRequest,
    StartAuditResponse,
)
from secagent.api.parsing import UNKNOWN_CALLER
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.aws import execution_history
from secagent.models.findings import Severity
from secagent.models.records import AuditRequest
from secagent.models.report import Failure, ProgressStep, Report
from secagent.models.snapshot import ResourceRef
from secagent.workflow.checkpoints import checkpoint_key
from secagent.workflow.failures import explain
from secagent.workflow.timeline import audit_progress, current_step

_FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}


def _now() -> datetime:
    return datetime.now(UTC)


def start_audit(
    request: StartAuditRequest,
    requested_by: Caller,
    sfn: Any,
    settings: ApiSettings,
    records: RecordStore,
    *,
    s3: Any = None,
    idempotency_key: str | None = None,
    audit_id: str | None = None,
    now: Callable[[], datetime] = _now,
) -> StartAuditResponse:
    """Start one execution named by the audit id; one running audit per resource (with `s3`).

    `idempotency_key` (the Idempotency-Key header) replays the first answer to the same caller for
    the same body (another body with that key is a 422); `audit_id` is set by triggers that derive
    it from their event, so a redelivery starts nothing.
    """
    check_target(request.resource.id, request.mode, settings)
    body = request.model_dump(by_alias=True)
    if s3 is not None and (first := guard.replayed(s3, settings, requested_by.arn, idempotency_key, body)):
        return StartAuditResponse.model_validate(first)
    started = start_execution_for(
        AuditRequest(
            audit_id=audit_id or str(uuid.uuid4()),
            resource=ResourceRef(id=request.resource.id),
            mode=request.mode,
            approval_timeout_seconds=request.approval_timeout_seconds,
            requested_by=requested_by.principal or UNKNOWN_CALLER,
            requested_by_arn=requested_by.arn or None,
            requested_at=now(),
        ),
        sfn=sfn,
        s3=s3,
        settings=settings,
        records=records,
    )
    if s3 is not None:
        guard.remember(s3, settings, requested_by.arn, idempotency_key, body, started.to_json_dict())
    return started


def check_target(bucket: str, mode: str, settings: ApiSettings) -> None:
    """The stack's own buckets (and CDK's) are never audited; remediation only within the scope."""
    if settings.protected(bucket):
        raise Forbidden(
            f'"{bucket}" is protected: it belongs to this stack or to the CDK bootstrap, and is never '
            "audited or changed by it.",
            field="resource.id",
        )
    if mode != "plan" and not settings.in_remediation_scope(bucket):
        raise Forbidden(
            f'"{bucket}" is outside this deployment\'s remediation scope (bucket names starting with '
            f"{', '.join(settings.scope.remediation_prefixes)}); audit it in plan mode.",
            field="resource.id",
        )


def start_execution_for(
    request: AuditRequest, *, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> StartAuditResponse:
    """Claim the resource (one running audit each, with `s3`), seal the request, start the execution.

    The execution input only routes; Discover checks it against the sealed request record.
    """
    audit_id = request.audit_id
    if s3 is not None:
        guard.take_resource(s3, sfn, settings, request.resource.type, request.resource.id, audit_id)
    records.write_request(request)
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


def pending_approval(record: dict[str, Any] | None, now: datetime) -> bool:
    """A PENDING record whose deadline has passed is not awaiting anyone: the task timed out."""
    if not record or record.get("status") != "PENDING":
        return False
    expires = _parse_time(record.get("expiresAt"))
    return expires is None or expires > now


def get_audit(
    audit_id: str, sfn: Any, s3: Any, settings: ApiSettings, *, now: Callable[[], datetime] = _now
) -> AuditStatus:
    executions = audit_executions(sfn, settings, audit_id)
    first, latest = executions[0], executions[-1]
    execution_input = _json_object(first.get("input"))
    histories = [(e["name"], execution_history(sfn, e["executionArn"])) for e in executions]
    sfn_status = latest["status"]
    running = sfn_status in {"RUNNING", "PENDING_REDRIVE"}
    started, stopped = first.get("startDate"), None if running else latest.get("stopDate")
    status = AuditStatus(
        audit_id=audit_id,
        status="RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),  # the state machine's default
        started_at=started,
        stopped_at=stopped,
        elapsed_seconds=_elapsed(started, stopped, now()),
        timeline=audit_progress(histories, running=running),
        executions=[ExecutionSummary.of(e) for e in executions],
    )
    if running:
        status.current_step = current_step(histories[-1][1])
        record = read_json(s3, settings.report_bucket, settings.approval_key(audit_id))
        if pending_approval(record, now()):
            assert record is not None
            status.status = "AWAITING_APPROVAL"
            default_ids = list(record.get("defaultRemediationIds") or [])  # in plan order
            default = set(default_ids)
            named_only = record.get("namedOnly") or {}
            severity = _plan_severities(s3, settings, audit_id)
            status.pending_plans = [
                {
                    **plan,
                    "severity": severity(plan.get("checkIds") or []),
                    "approvedByDefault": plan.get("remediationId") in default,
                    "namedOnlyReason": named_only.get(plan.get("remediationId")),
                }
                for plan in record.get("plans") or []
            ]
            status.default_remediation_ids = default_ids
            status.plan_digest = record.get("planDigest")
            status.approval_expires_at = record.get("expiresAt")
        return status
    report = _shown(read_json(s3, settings.report_bucket, settings.report_key(audit_id)))
    status.report = report
    status.outcome = (report or {}).get("outcome") or _json_object(latest.get("output")).get("outcome")
    if sfn_status in _FAILED:
        status.status = "FAILED"
        status.failure = _failure(report, status.timeline, latest, sfn_status)
    else:
        status.status = "SUCCEEDED"
    return status


def _shown(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored report as a reader may see it: read through the model (a schema 1 report kept
    raw causes, stack traces included, which the model drops); what it cannot read, without any
    `cause`."""
    if report is None:
        return None
    try:
        return Report.model_validate(report).to_json_dict()
    except ValidationError:
        return _without_causes(report)


def _without_causes(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_causes(v) for k, v in value.items() if k.lower() != "cause"}
    if isinstance(value, list):
        return [_without_causes(v) for v in value]
    return value


def _failure(
    report: dict[str, Any] | None, timeline: list[ProgressStep], latest: dict[str, Any], sfn_status: str
) -> Failure:
    """The report's failure (the step, a sentence, the correlation id); without a report (the
    failure report itself failed), the same explanation of the execution's own error. Never the
    raw cause: it holds a Lambda's stack trace."""
    stored = (report or {}).get("failure")
    if isinstance(stored, dict):
        try:
            return Failure.model_validate(stored)
        except ValidationError:
            pass  # a report of an older schema (with the raw cause): explain it afresh
    failed = next((s.name for s in reversed(timeline) if s.status == "failed"), "unknown")
    return explain(failed, latest.get("error") or sfn_status, latest.get("cause"), latest.get("name"))


def _plan_severities(s3: Any, settings: ApiSettings, audit_id: str) -> Callable[[list[str]], str | None]:
    """checkIds -> the highest severity among the failing findings a plan fixes (from Analyze's
    checkpoint); None when the analysis cannot be read."""
    analysis = read_json(s3, settings.report_bucket, checkpoint_key(audit_id, "analysis")) or {}
    worst: dict[str, Severity] = {}
    for finding in analysis.get("findings") or []:
        if finding.get("status") != "FAIL":
            continue
        try:
            level = Severity(finding.get("severity"))
        except ValueError:
            continue
        check = str(finding.get("checkId"))
        if check not in worst or level.rank < worst[check].rank:
            worst[check] = level

    def worst_of(check_ids: list[str]) -> str | None:
        found = [worst[c] for c in check_ids if c in worst]
        return min(found, key=lambda s: s.rank).value if found else None

    return worst_of


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
    if status in _FAILED or status == "FAILED":
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
        if not candidate or _resumed(execution, sfn, settings):
            return None
        summary = _summary(execution, sfn, s3, settings)
        if cursor.status is not None and summary.status != cursor.status:
            return None
        if cursor.resource is not None and (summary.resource or {}).get("id") != cursor.resource:
            return None
        return summary

    return pool.map(one, batch, candidates)


def _resumed(execution: dict[str, Any], sfn: Any, settings: ApiSettings) -> bool:
    """Whether a later execution of the audit exists (`<auditId>_r<n+1>`): then this one is not the
    audit (it was listed with that one, before or since). Only a failed audit is resumed."""
    if execution["status"] not in _FAILED:
        return False
    audit_id, _, suffix = execution["name"].partition("_")
    number = int(suffix[1:]) if suffix[:1] == "r" and suffix[1:].isdigit() else 0
    try:
        sfn.describe_execution(executionArn=settings.execution_arn(f"{audit_id}_r{number + 1}"))
    except ClientError as err:
        if error_code(err) == "ExecutionDoesNotExist":
            return False
        raise
    return True


def _summary(execution: dict[str, Any], sfn: Any, s3: Any, settings: ApiSettings) -> AuditSummary:
    audit_id = execution["name"].split("_", 1)[0]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    first = (
        described
        if audit_id == execution["name"]
        else sfn.describe_execution(executionArn=settings.execution_arn(audit_id))
    )
    execution_input = _json_object(first.get("input"))
    state = described["status"]
    summary = AuditSummary(
        audit_id=audit_id,
        status="FAILED" if state in _FAILED else "SUCCEEDED" if state == "SUCCEEDED" else "RUNNING",
        resource=execution_input.get("resource"),
        mode=execution_input.get("mode", "plan"),
        started_at=first.get("startDate"),
        stopped_at=described.get("stopDate"),
        outcome=_json_object(described.get("output")).get("outcome")
        or ("FAILED" if state in _FAILED else None),
    )
    if summary.status == "RUNNING" and pending_approval(
        read_json(s3, settings.report_bucket, settings.approval_key(audit_id)), _now()
    ):
        summary.status = "AWAITING_APPROVAL"
    return summary


def _elapsed(started: datetime | None, stopped: datetime | None, now: datetime) -> float | None:
    if started is None:
        return None
    return round(((stopped or now) - started).total_seconds(), 3)


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
