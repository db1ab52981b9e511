"""REST API Lambda (proxy): POST/GET /audits, GET /audits/{auditId}, approval, resume, rollback,
and the exemptions one person requests and another approves (POST/GET /exemptions,
POST /exemptions/{id}/approve|revoke)."""

import json
import os
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from lambdas.observability import logger, metrics, tracer
from secagent import api
from secagent.api import sweeps
from secagent.api.identity import Caller
from secagent.api.records import RecordStore
from secagent.aws import client_factory
from secagent.checks.registry import list_checks

app = APIGatewayRestResolver()


@cache
def deps() -> api.Deps:
    """Settings and clients, built on the first request (not at import: tests set the env first).
    Each client is made once and shared (they are thread-safe): the records' reads and seals too."""
    make = cache(client_factory())
    settings = api.ApiSettings.from_env(os.environ)
    records = RecordStore.deployed(settings, make)
    identity = api.StsIdentity(
        os.environ.get("AWS_REGION", "us-east-1"),
        os.environ.get("AWS_ENDPOINT_URL") or None,
        account=settings.account,
    )
    return api.Deps(
        settings, make("stepfunctions", None), make("s3", None), records, identity, ec2=make("ec2", None)
    )


def _body[M](model: api.Parsable[M]) -> M:
    return api.parse_body(model, app.current_event.decoded_body, deps().settings)


def _caller() -> Caller:
    """Who sends this state-changing request: proven by STS, not taken from the request context
    (the function may be invoked directly, with any context; secagent.proof)."""
    return _proof()()


def _proof() -> Callable[[], Caller]:
    """The check of this request's identity proof, to run when (and where) the caller is needed."""
    event = app.current_event
    body = event.decoded_body
    return partial(
        deps().identity.caller,
        event.raw_event.get("requestContext"),
        dict(event.headers or {}),
        event.http_method,
        event.path,
        body.encode() if isinstance(body, str) else (body or b""),
    )


@app.post("/audits")
def start_audit() -> tuple[dict[str, Any], int]:
    request = _body(api.StartAuditRequest)
    headers = {k.lower(): v for k, v in (app.current_event.headers or {}).items()}
    d = deps()
    started = api.start_audit(
        request,
        _proof(),  # checked beside the read-only preflight; nobody unproven learns anything about a bucket
        d.sfn,
        d.settings,
        d.records,
        s3=d.s3,
        idempotency_key=(headers.get("idempotency-key") or "")[:256] or None,
        confirm=partial(api.confirm_resource, request.resource.ref(), d.s3, d.ec2, d.settings),
    )
    logger.info(
        "audit started",
        extra={"auditId": started.audit_id, "resource": request.resource.id, "mode": request.mode},
    )
    metrics.add_metric(name="AuditsStarted", unit=MetricUnit.Count, value=1)
    return started.to_json_dict(), 202


@app.get("/audits")
def list_audits() -> dict[str, Any]:
    query = api.parse_query(api.ListAuditsQuery, app.current_event.query_string_parameters, deps().settings)
    return api.list_audits(query, deps().sfn, deps().s3, deps().settings).to_json_dict()


@app.post("/audits/<auditId>/resume")
def resume(auditId: str) -> tuple[dict[str, Any], int]:
    resumed_by = _caller()
    resumed = api.resume_audit(auditId, deps().sfn, deps().s3, deps().settings)
    logger.info(
        "audit resumed",
        extra={
            "auditId": auditId,
            "execution": resumed.execution,
            "reusedSteps": resumed.reused_steps,
            "resumedBy": resumed_by.arn,
        },
    )
    metrics.add_metric(name="AuditsResumed", unit=MetricUnit.Count, value=1)
    return resumed.to_json_dict(), 202


@app.post("/audits/<auditId>/rollback")
def rollback(auditId: str) -> tuple[dict[str, Any], int]:
    d = deps()
    started = api.rollback_audit(auditId, _caller(), d.sfn, d.s3, d.settings, d.records)
    logger.info("rollback started", extra={"auditId": auditId, "rollbackAuditId": started.audit_id})
    metrics.add_metric(name="RollbacksStarted", unit=MetricUnit.Count, value=1)
    return started.to_json_dict(), 202


@app.get("/audits/<auditId>")
def get_audit(auditId: str) -> dict[str, Any]:
    d = deps()
    return api.get_audit(auditId, d.sfn, d.s3, d.settings, known=d.known).to_json_dict()


@app.get("/audits/<auditId>/approval")
def preview_approval(auditId: str) -> dict[str, Any]:
    """What approving a selection would apply: ?remediationIds=a,b (none: the default selection)."""
    raw = (app.current_event.query_string_parameters or {}).get("remediationIds")
    ids = [i for i in raw.split(",") if i] if raw is not None else None
    d = deps()
    return api.preview_approval(auditId, ids, d.sfn, d.s3, d.settings, d.records).to_json_dict()


@app.post("/audits/<auditId>/approval")
def decide(auditId: str) -> dict[str, Any]:
    d = deps()
    result = api.decide_approval(
        auditId, _body(api.ApprovalRequest), _caller(), d.sfn, d.s3, d.settings, d.records
    )
    if result.record_error:  # decision taken; only the pending record's status was not rewritten
        logger.error(
            "approval record not rewritten", extra={"auditId": auditId, "errorCode": result.record_error}
        )
    logger.info("approval decided", extra={"auditId": auditId, "decision": result.decision})
    metrics.add_metric(name="ApprovalsDecided", unit=MetricUnit.Count, value=1)
    return result.to_json_dict()


@app.post("/exemptions")
def request_exemption() -> tuple[dict[str, Any], int]:
    d = deps()
    granted = api.request_exemption(
        _body(api.ExemptionRequest), _caller(), list_checks(), d.settings, d.records
    )
    logger.info(
        "exemption requested",
        extra={
            "exemptionId": granted.exemption_id,
            "checkIds": granted.check_ids,
            "until": str(granted.until),
            "requestedBy": granted.requested_by,
        },
    )
    metrics.add_metric(name="ExemptionsRequested", unit=MetricUnit.Count, value=1)
    return granted.to_json_dict(), 201


@app.get("/exemptions")
def list_exemptions() -> dict[str, Any]:
    d = deps()
    query = api.parse_query(api.ExemptionsQuery, app.current_event.query_string_parameters, d.settings)
    return api.list_exemptions(query.bucket, d.records).to_json_dict()


@app.post("/exemptions/<exemptionId>/approve")
def approve_exemption(exemptionId: str) -> dict[str, Any]:
    d = deps()
    approved = api.approve_exemption(exemptionId, _caller(), d.settings, d.records)
    logger.info("exemption approved", extra={"exemptionId": exemptionId, "approvedBy": approved.approved_by})
    metrics.add_metric(name="ExemptionsApproved", unit=MetricUnit.Count, value=1)
    return approved.to_json_dict()


@app.post("/exemptions/<exemptionId>/revoke")
def revoke_exemption(exemptionId: str) -> dict[str, Any]:
    revoked = api.revoke_exemption(exemptionId, _caller(), deps().records)
    logger.info("exemption revoked", extra={"exemptionId": exemptionId, "revokedBy": revoked.revoked_by})
    return revoked.to_json_dict()


@app.post("/sweeps")
def start_sweep() -> tuple[dict[str, Any], int]:
    d = deps()
    started = sweeps.start_sweep(_body(sweeps.StartSweepRequest), _proof(), d.sfn, d.settings, d.records)
    logger.info("sweep started", extra={"sweepId": started.sweep_id})
    metrics.add_metric(name="SweepsStarted", unit=MetricUnit.Count, value=1)
    return started.to_json_dict(), 202


@app.get("/sweeps")
def list_sweeps() -> dict[str, Any]:
    d = deps()
    query = api.parse_query(sweeps.ListSweepsQuery, app.current_event.query_string_parameters, d.settings)
    return sweeps.list_sweeps(query, d.sfn, d.settings, d.records).to_json_dict()


@app.get("/sweeps/<sweepId>")
def get_sweep(sweepId: str) -> dict[str, Any]:
    d = deps()
    return sweeps.get_sweep(sweepId, d.sfn, d.s3, d.settings, d.records).to_json_dict()


@app.get("/sweeps/<sweepId>/report")
def sweep_report(sweepId: str) -> dict[str, Any]:
    d = deps()
    query = api.parse_query(sweeps.ReportQuery, app.current_event.query_string_parameters, d.settings)
    return sweeps.sweep_report(sweepId, query.format, d.sfn, d.s3, d.settings, d.records)


@app.get("/sweeps/<sweepId>/findings")
def sweep_findings(sweepId: str) -> dict[str, Any]:
    d = deps()
    query = api.parse_query(sweeps.FindingsQuery, app.current_event.query_string_parameters, d.settings)
    return sweeps.sweep_findings(sweepId, query, d.sfn, d.s3, d.settings, d.records)


@app.post("/sweeps/<sweepId>/audits")
def start_sweep_audit(sweepId: str) -> tuple[dict[str, Any], int]:
    d = deps()
    body = _body(sweeps.StartSweepAuditRequest)
    started = sweeps.start_sweep_audit(
        sweepId,
        body,
        _proof(),
        d.sfn,
        d.s3,
        d.settings,
        d.records,
        confirm=partial(api.confirm_resource, body.resource.ref(), d.s3, d.ec2, d.settings),
    )
    logger.info("audit started from a sweep", extra={"sweepId": sweepId, "auditId": started.audit_id})
    metrics.add_metric(name="AuditsStarted", unit=MetricUnit.Count, value=1)
    return started.to_json_dict(), 202


def on_error(exc: Exception) -> Response[str]:
    if isinstance(exc, NotFoundError):  # no such route or method
        exc = api.NotFound(f"There is no route {app.current_event.http_method} {app.current_event.path}.")
    status, body = api.error_response(exc, app.current_event.request_context.request_id)
    metrics.add_metric(
        name="ServerErrors" if status >= 500 else "ClientErrors", unit=MetricUnit.Count, value=1
    )
    if status >= 500:
        logger.exception("request failed")
    else:
        logger.info(
            "request refused", extra={"status": status, "error": body["error"], "field": body.get("field")}
        )
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


app.exception_handler(Exception)(on_error)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
