"""`secagent mcp`: the agent as an MCP server (official `mcp` SDK, stdio or streamable HTTP on 127.0.0.1).

Tools, generated from the same check registry the workflow runs, for S3 buckets and EC2 security
groups (`resourceId`, and `resourceType` when the id alone does not say which):

- `list_checks`, `discover_resource`, `analyze_resource`, `propose_remediation` run the domain layer
  directly against the account, read-only;
- `start_audit`, `get_audit`, `decide_approval` go through the deployed audit API, so the
  approval gate and the durable workflow are never bypassed;
- `get_sweep`, `list_sweeps` read the sweeps (every account's resources judged, read-only)
  through the API; no tool starts a sweep or its fixes: a person does (CLI, console).

No tool applies a change: fixes are applied only by an audit whose plans a human approved. An
approval is never the model's: `decide_approval` asks the person through MCP elicitation (the
SDK's `Resolve`/`Elicit`, which uses `InputRequiredResult` on 2026-07-28 connections and an
`elicitation/create` request before) and approves only what they were shown and accepted.
Reports are resources, `audit://{auditId}/report`. Logs go to stderr (stdout is the transport).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from mcp.server.mcpserver import (
    AcceptedElicitation,
    Context,
    Elicit,
    ElicitationResult,
    MCPServer,
    Resolve,
)
from mcp.server.mcpserver.exceptions import (
    ResourceError,
    ResourceNotFoundError,
    ToolError,
    UnexpectedToolError,
)
from mcp.shared.exceptions import MCPError, NoBackChannelError
from mcp_types import (
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
    CallToolResult,
    InputRequiredResult,
    ToolAnnotations,
)
from pydantic import BaseModel, Field, ValidationError

from secagent.checks.registry import Check, analyze, checks_for, registry
from secagent.mcp.backend import DEFAULT_STACK_NAME, AwsBackend, Backend, ServerSettings
from secagent.mcp.errors import ApiRefused, as_tool_error, check_api, describe_validation_error, message_for
from secagent.mcp.inputs import (
    AUDIT_ID_PATTERN,
    ApprovalDecision,
    ApprovalTimeoutSeconds,
    AuditId,
    AuditMode,
    Comment,
    ListLimit,
    NextToken,
    RemediationIds,
    ResourceId,
    ResourceTypeArg,
    SeverityFilter,
    SweepId,
)
from secagent.models.outcome import Outcome
from secagent.models.report import REPORT_SCHEMA_VERSION
from secagent.models.snapshot import SNAPSHOT_TYPES, ResourceType
from secagent.remediation import plan_remediations
from secagent.resources import KINDS, InvalidResourceId, checked_resource, shown_resource

log = logging.getLogger("secagent.mcp")

SERVER_NAME = "secagent"
REPORT_URI = "audit://{auditId}/report"
DEFAULT_HTTP_PORT = 8765
TOP_FAILING = 10  # get_sweep: the failing resources shown, worst first (the report has them all)

INSTRUCTIONS = """\
Infrastructure Security Agent: audits AWS S3 buckets and EC2 security groups against AWS \
Foundational Security Best Practices and CIS, proposes exact fixes, and applies them only after a \
human approves. A resource is named by resourceId (a bucket name, or a security group id such as \
sg-0123abcd); resourceType says which when the id alone does not.

- To look: list_checks, discover_resource, analyze_resource, propose_remediation. They only read.
- To fix: start_audit with mode=remediate, poll get_audit until AWAITING_APPROVAL, show the \
pendingPlans to the user, and call decide_approval only with the user's explicit decision. An \
approval is confirmed by the user themselves in a form the client shows (MCP elicitation); a \
client that cannot show one cannot approve (the user approves with `secagent approve` or the web \
console). Nothing else changes a resource.
- The finished report is the resource audit://{auditId}/report.
- Across accounts: get_sweep and list_sweeps read sweeps (every bucket and security group of \
several accounts judged, read-only): progress, summary and the worst failing resources. A person \
starts sweeps, and audits of what they found, from the CLI or the web console."""


class SecAgentMCPServer(MCPServer[Any]):
    """MCPServer whose argument errors read as one plain sentence instead of pydantic's dump."""

    backend: Backend  # what the tools and the approval resolvers use (set by build_server)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        try:
            return await super().call_tool(name, arguments, context)
        except MCPError as exc:
            # Only the elicitation raises one in decide_approval: the person could not be asked,
            # so nothing was approved. A tool error the model can relay, not a protocol error.
            if name != "decide_approval":
                raise
            if isinstance(exc, NoBackChannelError) or exc.error.code in _NO_ELICITATION:
                raise ToolError(_person_only(arguments.get("auditId"))) from exc
            raise ToolError(
                f"The person could not be asked to confirm the approval ({exc.error.message}); "
                "nothing was approved."
            ) from exc
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, InvalidResourceId):  # the tool's check of resourceId against its type
                raise ToolError(f"Invalid arguments for {name}: resourceId: {cause.message}.") from None
            if isinstance(cause, ValidationError) and not isinstance(exc, UnexpectedToolError):
                # Keep the ValidationError as the cause: the SDK then logs field names, not values.
                raise ToolError(
                    f"Invalid arguments for {name}: {describe_validation_error(cause)}."
                ) from cause
            raise


_NO_ELICITATION = frozenset({MISSING_REQUIRED_CLIENT_CAPABILITY, METHOD_NOT_FOUND})


def _person_only(audit_id: object) -> str:
    shown = audit_id if isinstance(audit_id, str) and re.fullmatch(AUDIT_ID_PATTERN, audit_id) else "ID"
    return (
        "Approvals must be made by a person: this MCP client cannot ask its user to confirm (it does "
        "not support MCP form elicitation), and the assistant cannot approve on their behalf. Nothing "
        f"was approved. Approve in a terminal with `secagent approve {shown}`, or in the web console "
        "(`secagent ui`). Rejecting works from here."
    )


class ApprovalConfirmation(BaseModel):
    """The person's one answer in the elicitation form."""

    approve: bool = Field(
        title="Approve these changes",
        description="true: apply exactly the changes listed, now. false: do not approve.",
    )


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    """The client declared form elicitation (a bare `elicitation: {}` predates modes and means form)."""
    capabilities = ctx.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _approval_preview(
    ctx: Context[Any, Any], auditId: str, decision: str, remediationIds: list[str] | None
) -> dict[str, Any] | None:
    """Resolver: what approving the selection would apply (GET .../approval), fetched by the server,
    with the audited resource (GET /audits/{id}: the preview names ids only, not their type).

    None for a rejection. The SDK may run it once per round of the elicitation; the answer counts
    only for the exact question asked, so a preview that changed between rounds is asked again.
    """
    if decision != "approve":
        return None
    if not _can_elicit(ctx):
        raise ToolError(_person_only(auditId))
    server = ctx.mcp_server
    assert isinstance(server, SecAgentMCPServer), "decide_approval runs on the server build_server made"
    with _mapped():
        preview = check_api(server.backend.api().preview_approval(auditId, remediationIds))
        audited = check_api(server.backend.api().get_audit(auditId)).get("resource")
    if not preview.get("planDigest") or not preview.get("plans"):
        raise ToolError(
            f"The audit API previewed nothing to approve for audit {auditId}; nothing was approved."
        )
    return {**preview, "resource": audited}


PreviewArg = Annotated[dict[str, Any] | None, Resolve(_approval_preview)]


async def _ask_the_person(preview: PreviewArg, comment: str | None) -> Elicit[ApprovalConfirmation] | None:
    """Resolver: the elicitation the person answers (None for a rejection: nothing to confirm)."""
    if preview is None:
        return None
    return Elicit(confirmation_message(preview, comment), ApprovalConfirmation)


PersonsAnswer = Annotated[ElicitationResult[ApprovalConfirmation], Resolve(_ask_the_person)]


def confirmation_message(preview: dict[str, Any], comment: str | None) -> str:
    """What the person reads before answering: the resource (`resource`, the audit's), each plan,
    what is left out, the digest."""
    plans = sorted(preview.get("plans") or [], key=lambda p: p.get("order") or 0)
    lines = [
        f"Approve changes to {shown_resource(preview.get('resource'))}? (audit {preview.get('auditId')})",
        "",
        f"Approving applies these {len(plans)} change(s):",
    ]
    for number, plan in enumerate(plans, start=1):
        reversible = "reversible" if plan.get("reversible") else "NOT reversible"
        lines.append(
            f"{number}. {plan.get('title')} [{plan.get('remediationId')}]: risk: {plan.get('risk')} "
            f"({reversible})"
        )
    left_out = preview.get("leftOut") or []
    if left_out:
        lines += ["", "Left out (not applied):"]
        lines += [f"- {item.get('remediationId')}: {item.get('reason')}" for item in left_out]
    if comment:
        lines += ["", f"Comment the assistant wrote, recorded with your decision: {json.dumps(comment)}"]
    lines += [
        "",
        f"planDigest: {preview.get('planDigest')}",
        "",
        "Answer approve = true only if you approve exactly these changes. The assistant cannot "
        "approve for you.",
    ]
    return "\n".join(lines)


def _not_approved(audit_id: str, answer: ElicitationResult[ApprovalConfirmation]) -> dict[str, Any]:
    outcome = "cancelled" if answer.action == "cancel" else "declined"
    return {
        "auditId": audit_id,
        "approved": False,
        "personAnswer": outcome,
        "message": f"The person {outcome} the approval: nothing was sent, nothing will be changed by "
        "it; the audit still awaits a decision until its approval expires.",
    }


@contextmanager
def _mapped() -> Iterator[None]:
    """Anticipated failures -> ToolError (an isError result with that sentence); bugs pass through."""
    try:
        yield
    except ToolError:
        raise
    except Exception as exc:
        mapped = as_tool_error(exc)
        if mapped is None:
            raise
        raise mapped from exc


def _check_line(check: Check) -> str:
    meta = check.meta
    return f"{meta.id} ({meta.severity}; {', '.join(meta.controls)})"


def _controls(checks: dict[str, Check]) -> list[str]:
    return sorted({control for check in checks.values() for control in check.meta.controls})


def _config_fields(resource_type: ResourceType) -> str:
    """The fields of a resource type's snapshot `config`, as the JSON names them."""
    config = SNAPSHOT_TYPES[resource_type].model_fields["config"].annotation
    assert isinstance(config, type) and issubclass(config, BaseModel)
    return ", ".join(field.alias or name for name, field in config.model_fields.items())


def _per_type(describe: Callable[[ResourceType], str]) -> str:
    """One sentence per resource type: "S3 bucket: ... EC2 security group: ..."."""
    return " ".join(f"{kind.label}: {describe(kind.type)}." for kind in KINDS.values())


def _descriptions(settings: ServerSettings) -> dict[str, str]:
    """Tool descriptions written from the registry, so a new check shows up without editing them."""
    checks = registry()
    enabled = {k: v for k, v in checks.items() if k not in settings.agent.disabled_checks}
    controls = ", ".join(_controls(enabled))

    def enabled_checks(resource_type: ResourceType) -> str:
        """The enabled checks of one type: "3 checks: a (HIGH; FSBP:S3.2); ..."."""
        of_type = [c for check_id, c in checks_for(resource_type).items() if check_id in enabled]
        return f"{len(of_type)} checks: {'; '.join(_check_line(c) for c in of_type)}"

    remediations = ", ".join(sorted({c.meta.remediation_id for c in enabled.values() if c.remediate}))
    kinds = " or ".join(kind.label for kind in KINDS.values())
    disabled = (
        f" Disabled in this deployment: {', '.join(sorted(settings.agent.disabled_checks))}."
        if settings.agent.disabled_checks
        else ""
    )
    return {
        "list_checks": (
            f"List the {len(checks)} security checks this agent runs on S3 buckets and EC2 security "
            "groups (the registry the audit workflow uses): id, the resource type it judges, title, "
            "severity, rationale, the compliance controls each maps to (FSBP = AWS Foundational "
            "Security Best Practices, CIS = CIS AWS Foundations v3.0.0), the remediation that fixes "
            "it, whether it can be fixed automatically, and whether it is enabled. Read-only, no AWS "
            f"calls.{disabled}"
        ),
        "discover_resource": (
            f"Read one {kinds}'s security-relevant configuration into a snapshot. Its config fields, "
            f"per type: {_per_type(_config_fields)} Each field is known (with its value or null = not "
            "configured) or unknown (with the reason, e.g. access denied). Read-only: S3 Get*/Head*, "
            "EC2 Describe* and GetManagedPrefixListEntries, STS GetCallerIdentity."
        ),
        "analyze_resource": (
            f"Audit one {kinds} now against its type's checks and return the findings "
            "(PASS / FAIL / UNKNOWN, severity, controls, evidence) and a summary, worst first. "
            f"Read-only: nothing is changed. Controls covered: {controls}. Checks, per type: "
            + _per_type(enabled_checks)
        ),
        "propose_remediation": (
            f"Propose the fixes for one {kinds}'s failing checks, without applying anything: ordered "
            "plans, each with the exact AWS CLI command, the equivalent API call, risk, whether it is "
            "reversible and how to roll it back; plus the failing checks no plan covers. Read-only. "
            "To apply fixes, start_audit with mode=remediate: they are applied only after a human "
            f"approves them. Remediations available: {remediations}."
        ),
        "start_audit": (
            f"Start a durable audit of one {kinds} through the deployed audit API (a Step Functions "
            "workflow: discover, analyze, propose, [approval, apply, verify], report). mode=plan "
            "(default) only reports. mode=remediate waits for a human decision (decide_approval) "
            "before changing anything. Returns the auditId; follow it with get_audit."
        ),
        "get_audit": (
            "Status of an audit: RUNNING (currentStep), AWAITING_APPROVAL (with pendingPlans to show "
            "the user and approvalExpiresAt), SUCCEEDED or FAILED (with outcome: "
            + "; ".join(f"{o.value} = {o.wording}" for o in Outcome)
            + "). A FAILED audit has failure: {step, message, correlationId, resumable}; tell the user "
            "the message and the correlationId, and offer a resume only when resumable is true. "
            "The full report is the resource audit://{auditId}/report."
        ),
        "decide_approval": (
            "Decide on an audit that is AWAITING_APPROVAL. Call it only with the user's explicit "
            "decision, after they have seen the pendingPlans from get_audit. reject: recorded at once, "
            "changes nothing. approve: the server fetches what approving would apply (remediationIds "
            "to name plans; default: the reversible plans scoped to the resource, irreversible and "
            "account-wide plans are applied only when named) and asks the user in a form the client "
            "shows (MCP elicitation): the resource, each plan's title, risk, reversibility and "
            "remediationId, what is left out, the plan digest. Only if the user answers approve=true "
            "is the approval sent, with the digest they were shown; the assistant cannot approve by "
            "itself. Declined or cancelled: nothing is sent. A client without elicitation cannot "
            "approve (an error says to use `secagent approve` or the web console). Fails if the "
            "audit is not awaiting approval or was already decided."
        ),
        "get_sweep": (
            "Status of a sweep (every bucket and security group of several accounts discovered and "
            "judged, read-only; it changes nothing): status RUNNING, SUCCEEDED, FAILED, TIMED_OUT or "
            "ABORTED; progress {total, done, failed, remaining}; listing: each account, LISTED or "
            "FAILED with the error (an account that could not be listed: nothing is known of its "
            "resources, say so); summary once ended (resources, compliant, nonCompliant, unjudged, "
            "failingBySeverity). Once ended, also from its posture report: complete, "
            "incompleteReasons, failingResourceCount and topFailingResources (the "
            f"{TOP_FAILING} worst: account, resource, worst severity, failing checks). To fix one "
            "of the deployment's own account, a person starts an audit of it (`secagent sweep "
            "remediate SWEEP RESOURCE` or the web console's sweep page), which waits for their "
            "approval; no tool here starts it."
        ),
        "list_sweeps": (
            "List sweeps, newest first: sweepId, status, requestedAt, requestedBy, accounts; "
            "nextToken for the next page. Read-only."
        ),
    }


def _read_only(title: str) -> ToolAnnotations:
    return ToolAnnotations(title=title, read_only_hint=True, destructive_hint=False, idempotent_hint=True)


def build_server(
    settings: ServerSettings | None = None, *, backend: Backend | None = None, approvals: bool = True
) -> MCPServer[Any]:
    """The MCP server, its tools bound to `backend` (default: the AWS account and stack of `settings`).

    `approvals=False` (the HTTP transport): any local process can connect to 127.0.0.1 and answer
    the person's confirmation itself, so approving is refused there; stdio reaches one client only.
    """
    settings = settings or (backend.settings if backend else ServerSettings())
    backend = backend or AwsBackend(settings)
    agent = settings.agent
    descriptions = _descriptions(settings)
    server = SecAgentMCPServer(
        SERVER_NAME,
        title="Infrastructure Security Agent",
        instructions=INSTRUCTIONS,
        version=_version(),
        log_level="INFO",
    )
    server.backend = backend

    @server.tool(description=descriptions["list_checks"], annotations=_read_only("List security checks"))
    def list_checks(severity: SeverityFilter = None) -> dict[str, Any]:
        checks = [
            {
                **check.meta.to_json_dict(),
                "resourceType": check.resource_type,
                "autoRemediation": check.remediate is not None,
                "enabled": check_id not in agent.disabled_checks,
            }
            for check_id, check in registry().items()
            if severity is None or check.meta.severity is severity
        ]
        return {"count": len(checks), "checks": checks}

    @server.tool(description=descriptions["discover_resource"], annotations=_read_only("Discover a resource"))
    def discover_resource(resourceId: ResourceId, resourceType: ResourceTypeArg = None) -> dict[str, Any]:
        resource = checked_resource(resourceId, resourceType)  # InvalidResourceId: see call_tool
        with _mapped():
            return backend.snapshot(resource).to_json_dict()

    @server.tool(description=descriptions["analyze_resource"], annotations=_read_only("Analyze a resource"))
    def analyze_resource(resourceId: ResourceId, resourceType: ResourceTypeArg = None) -> dict[str, Any]:
        resource = checked_resource(resourceId, resourceType)  # InvalidResourceId: see call_tool
        with _mapped():
            return analyze(backend.snapshot(resource), agent).to_json_dict()

    @server.tool(description=descriptions["propose_remediation"], annotations=_read_only("Propose fixes"))
    def propose_remediation(resourceId: ResourceId, resourceType: ResourceTypeArg = None) -> dict[str, Any]:
        resource = checked_resource(resourceId, resourceType)  # InvalidResourceId: see call_tool
        with _mapped():
            snapshot = backend.snapshot(resource)
            analysis = analyze(snapshot, agent)
            plans = plan_remediations(snapshot, analysis, agent).to_json_dict()
        return {
            **plans,
            "summary": analysis.summary.to_json_dict(),
            "applied": False,
            "howToApply": "start_audit with mode=remediate, then a human approves with decide_approval.",
        }

    @server.tool(
        description=descriptions["start_audit"],
        annotations=ToolAnnotations(
            title="Start an audit", read_only_hint=False, destructive_hint=False, idempotent_hint=False
        ),
    )
    def start_audit(
        resourceId: ResourceId,
        mode: AuditMode = "plan",
        approvalTimeoutSeconds: ApprovalTimeoutSeconds = None,
        resourceType: ResourceTypeArg = None,
    ) -> dict[str, Any]:
        resource = checked_resource(resourceId, resourceType)  # InvalidResourceId: see call_tool
        with _mapped():
            api = backend.api()
            body = check_api(
                api.start_audit(resource.id, mode, approvalTimeoutSeconds, resource_type=resource.type)
            )
        body["reportResource"] = REPORT_URI.format(auditId=body.get("auditId", ""))
        return body

    @server.tool(description=descriptions["get_audit"], annotations=_read_only("Audit status"))
    def get_audit(auditId: AuditId) -> dict[str, Any]:
        with _mapped():
            body = check_api(backend.api().get_audit(auditId))
        # The report can be large: it is the resource, not part of the status.
        if body.pop("report", None) is not None:
            body["reportResource"] = REPORT_URI.format(auditId=auditId)
        return body

    @server.tool(description=descriptions["get_sweep"], annotations=_read_only("Sweep status and posture"))
    def get_sweep(sweepId: SweepId) -> dict[str, Any]:
        with _mapped():
            api = backend.api()
            body = check_api(api.get_sweep(sweepId))
            if body.get("status") != "RUNNING":
                body.update(_posture_summary(api.sweep_report(sweepId)))
        return body

    @server.tool(description=descriptions["list_sweeps"], annotations=_read_only("List sweeps"))
    def list_sweeps(limit: ListLimit = None, nextToken: NextToken = None) -> dict[str, Any]:
        with _mapped():
            return check_api(backend.api().list_sweeps(limit, nextToken))

    @server.tool(
        description=descriptions["decide_approval"],
        annotations=ToolAnnotations(
            title="Approve or reject fixes",
            read_only_hint=False,
            destructive_hint=True,
            idempotent_hint=False,
        ),
    )
    def decide_approval(
        auditId: AuditId,
        decision: ApprovalDecision,
        comment: Comment = None,
        remediationIds: RemediationIds = None,
        *,
        preview: PreviewArg,  # resolved by the server, never an argument the model gives
        answer: PersonsAnswer,  # the person's, through elicitation
    ) -> dict[str, Any]:
        if decision == "reject":
            with _mapped():
                return check_api(backend.api().decide(auditId, "reject", comment))
        if not approvals:
            raise ToolError(
                "Approving is refused over the HTTP transport: any local process could connect and "
                "answer the confirmation meant for a person. Approve with `secagent approve "
                f"{auditId}`, in the web console, or through an MCP client over stdio."
            )
        approved = (
            isinstance(answer, AcceptedElicitation)
            and isinstance(answer.data, ApprovalConfirmation)
            and answer.data.approve is True
        )
        if preview is None or not approved:
            return _not_approved(auditId, answer)
        with _mapped():
            return check_api(
                backend.api().decide(
                    auditId,
                    "approve",
                    comment,
                    plan_digest=preview["planDigest"],  # exactly what the person was shown
                    remediation_ids=remediationIds,
                )
            )

    @server.resource(
        REPORT_URI,
        name="audit-report",
        title="Audit report",
        description=(
            f"The report of a finished audit (JSON, schemaVersion {REPORT_SCHEMA_VERSION}): outcome, "
            "findings, remediations with their approval and result, verification, steps. Read through "
            "GET /audits/{auditId}."
        ),
        mime_type="application/json",
    )
    def audit_report(auditId: str) -> str:
        return _read_report(backend, auditId)

    return server


def _posture_summary(response: Any) -> dict[str, Any]:
    """What get_sweep adds from an ended sweep's posture report: whether it is complete, why not,
    and the worst failing resources; the API's refusal as `reportError` (the status still stands)."""
    try:
        report = check_api(response)
    except ApiRefused as exc:
        return {"reportError": str(exc)}
    failing = [r for r in report.get("failingResources") or [] if isinstance(r, dict)]
    return {
        "complete": report.get("complete"),
        "incompleteReasons": report.get("incompleteReasons") or [],
        "failingResourceCount": len(failing),
        "topFailingResources": [
            {
                key: resource.get(key)
                for key in ("accountId", "region", "resource", "resourceArn", "worst", "failing", "checks")
            }
            for resource in failing[:TOP_FAILING]  # the report lists them worst first
        ],
    }


def _read_report(backend: Backend, audit_id: str) -> str:
    if not re.fullmatch(AUDIT_ID_PATTERN, audit_id):
        raise ResourceNotFoundError(f"{json.dumps(audit_id[:100])} is not an audit id.")
    try:
        body = check_api(backend.api().get_audit(audit_id))
    except ApiRefused as exc:
        if exc.status == 404:
            raise ResourceNotFoundError(f"There is no audit with id {audit_id}.") from exc
        raise ResourceError(str(exc)) from exc
    except Exception as exc:
        message = message_for(exc)
        if message is None:
            raise
        raise ResourceError(message) from exc
    report = body.get("report")
    if not isinstance(report, dict):
        where = f" (step: {body['currentStep']})" if body.get("currentStep") else ""
        raise ResourceError(
            f"Audit {audit_id} has no report yet: it is {body.get('status', 'unknown')}{where}. "
            "Poll get_audit until SUCCEEDED or FAILED."
        )
    return json.dumps(report, indent=2)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("secagent")
    except PackageNotFoundError:
        return "0"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secagent mcp",
        description="Run the Infrastructure Security Agent as an MCP server (logs on stderr).",
    )
    parser.add_argument(
        "--transport",
        choices=("stdio", "http"),
        default="stdio",
        help="stdio, or streamable HTTP on 127.0.0.1",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_HTTP_PORT,
        help=f"HTTP port (default {DEFAULT_HTTP_PORT}), path /mcp",
    )
    parser.add_argument(
        "--endpoint-url", help="custom AWS endpoint, e.g. LocalStack's (default: AWS_ENDPOINT_URL)"
    )
    parser.add_argument("--stack-name", help=f"the deployed stack (default: {DEFAULT_STACK_NAME})")
    parser.add_argument("--api-url", help="the audit API's base URL (default: from the stack's outputs)")
    parser.add_argument(
        "--region", help="AWS region (default: the profile's or AWS_DEFAULT_REGION, else us-east-1)"
    )
    parser.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Before the SDK configures logging: everything to stderr, stdout belongs to the stdio transport.
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not 0 < args.port < 65536:
        print(f"secagent mcp: --port {args.port} is not a TCP port", file=sys.stderr)
        return 2
    try:
        settings = ServerSettings.from_env(
            endpoint_url=args.endpoint_url,
            stack_name=args.stack_name,
            api_url=args.api_url,
            region=args.region,
            profile=args.profile,
        )
    except ValidationError as exc:
        print(f"secagent mcp: invalid SECAGENT_* settings: {describe_validation_error(exc)}", file=sys.stderr)
        return 2
    server = build_server(settings, approvals=args.transport != "http")
    where = settings.endpoint_url or "AWS"
    try:
        if args.transport == "http":
            log.info("MCP server on http://127.0.0.1:%d/mcp (AWS: %s)", args.port, where)
            server.run("streamable-http", host="127.0.0.1", port=args.port)
        else:
            log.info("MCP server on stdio (AWS: %s)", where)
            server.run("stdio")
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
