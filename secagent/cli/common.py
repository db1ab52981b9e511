"""What every command shares: exit codes, the one error type, global options, reaching the API.

Kept free of boto3 at import time so `secagent --help` and `secagent checks` start fast.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from secagent.client import ApiResponse, AuditApiClient
    from secagent.models.findings import Severity, Status

from secagent.models.outcome import DEFAULT_FAIL_ON, Outcome
from secagent.models.outcome import EXIT_FAILED as EXIT_FAILED  # the CLI's codes, defined with the outcomes
from secagent.models.outcome import EXIT_FINDINGS as EXIT_FINDINGS
from secagent.models.outcome import EXIT_OK as EXIT_OK
from secagent.models.records import AUDIT_ID
from secagent.models.snapshot import BUCKET, ResourceType
from secagent.resources import InvalidResourceId, checked_resource, shown_value

FAIL_ON_DEFAULT = DEFAULT_FAIL_ON.lower()  # --fail-on's default, as the option spells it
EXIT_USAGE = 2  # usage error: bad arguments, or input the API refused (400)
EXIT_INTERRUPTED = 130  # Ctrl-C
SEVERITIES = ("critical", "high", "medium", "low", "info")

_OUTCOMES_WRAPPED = textwrap.fill(
    "(" + ", ".join(o for o in Outcome if not o.ended_unjudged) + ")",
    width=90,
    initial_indent=" " * 7,
    subsequent_indent=" " * 8,
)
EXIT_CODES_HELP = f"""\
exit codes:
  0    an audit (audit/approve/reject/resume --wait, report): no finding at or above
       --fail-on (default {FAIL_ON_DEFAULT}) still fails; other commands: done
  1    an audit: findings at or above --fail-on still fail, whatever the outcome
{_OUTCOMES_WRAPPED}
  2    usage error (bad arguments, or a request the API refused as invalid)
  3    the audit ended FAILED, RESOURCE_NOT_FOUND or ACCESS_DENIED (nothing can be said
       about the resource), or the API could not be reached or answered an error
  130  interrupted (Ctrl-C); a started audit keeps running
"""


def audit_exit_code(report: dict[str, Any] | None, outcome: str | None, fail_on: str) -> int | None:
    """The exit code of a finished audit from its report (None: not a known outcome). The findings
    judged are Verify's when it ran (what is true now), else Analyze's."""
    from secagent.models.findings import Severity, Status

    if outcome not in set(Outcome):
        return None
    verification = (report or {}).get("verification")
    raw = verification.get("findings") if isinstance(verification, dict) else None
    if raw is None:
        raw = (report or {}).get("findings") or []
    judged = [_Judged(Status(f["status"]), Severity(f["severity"])) for f in raw]
    return Outcome(outcome).exit_code(judged, Severity(fail_on.upper()))


@dataclass(frozen=True)
class _Judged:
    status: Status
    severity: Severity


DEFAULT_STACK_NAME = "SecurityAgent"
FINISHED = frozenset({"SUCCEEDED", "FAILED"})


class CliError(Exception):
    """An expected failure: shown as one line on stderr, the process exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def audit_id_arg(value: str) -> str:
    """argparse type of an audit id: anything else is a usage error, and nothing is sent."""
    if not AUDIT_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{shown_value(value)} is not an audit id (1 to 80 letters, digits or hyphens)"
        )
    return value


def bucket_name_arg(value: str) -> str:
    """argparse type of a bucket name, checked as the API checks it (secagent.discovery.names)."""
    return _resource_id_arg(value, BUCKET)


def resource_id_arg(value: str) -> str:
    """argparse type of a resource id of either type (a bucket name, a security group id), as the
    API takes it in a filter; a security group id reads as a group, anything else as a bucket."""
    return _resource_id_arg(value, None)


def _resource_id_arg(value: str, resource_type: ResourceType | None) -> str:
    try:
        return checked_resource(value, resource_type).id
    except InvalidResourceId as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def expect(response: ApiResponse, *ok: int, what: str, audit_id: str | None = None) -> Any:
    """The body of an expected answer; any other answer becomes a CliError with the API's message."""
    if response.status in ok:
        return response.body
    body = response.body if isinstance(response.body, dict) else {}
    message = body.get("message") or body.get("Message") or _short(response.body) or "no message"
    if response.status == 400:
        field = body.get("field")
        where = f" ({field})" if field and field not in message else ""
        raise CliError(f"{what}: invalid request{where}: {message}", EXIT_USAGE)
    if response.status == 404 and audit_id is not None:
        raise CliError(f"audit {audit_id} not found")
    if response.status == 409:
        raise CliError(f"{what}: {message}")
    if response.status == 403 and message == "Missing Authentication Token":
        # API Gateway's answer for a route it does not have.
        raise CliError(f"{what}: the deployed API has no such route (is the stack older than this CLI?)")
    if response.status in (401, 403):
        raise CliError(f"{what}: the API refused the credentials ({response.status}): {message}")
    request_id = f" (request id {body['requestId']})" if body.get("requestId") else ""
    raise CliError(f"{what}: the API answered {response.status}: {message}{request_id}")


def polled(
    fetch: Callable[[], ApiResponse],
    *,
    interval: float,
    sleep: Callable[[float], None],
    max_consecutive_errors: int,
) -> Iterator[ApiResponse]:
    """Each answer of `fetch`, one every `interval`, while the caller goes on. The work runs on
    regardless of the poll, so up to `max_consecutive_errors` unreachable polls or 5xx answers in a
    row are skipped; the next one is raised (unreachable) or yielded (5xx) for the caller to judge."""
    errors = 0
    while True:
        try:
            response = fetch()
        except OSError:
            errors += 1
            if errors > max_consecutive_errors:
                raise
            sleep(interval)
            continue
        if response.status >= 500 and errors < max_consecutive_errors:
            errors += 1
            sleep(interval)
            continue
        errors = 0
        yield response
        sleep(interval)


def _short(body: Any, limit: int = 200) -> str:
    text = " ".join(str(body).split()) if body else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class Globals:
    """The global options; each falls back to the environment as the AWS CLI does."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    stack_name: str = DEFAULT_STACK_NAME
    api_url: str | None = None
    fail_on: str = FAIL_ON_DEFAULT

    @classmethod
    def from_namespace(cls, args: Any) -> Globals:
        return cls(
            endpoint_url=getattr(args, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL") or None,
            region=getattr(args, "region", None),
            profile=getattr(args, "profile", None),
            stack_name=getattr(args, "stack_name", None)
            or os.environ.get("SECAGENT_STACK_NAME")
            or DEFAULT_STACK_NAME,
            api_url=getattr(args, "api_url", None) or os.environ.get("SECAGENT_API_URL") or None,
            fail_on=getattr(args, "fail_on", None)
            or os.environ.get("SECAGENT_FAIL_ON", "").lower()
            or FAIL_ON_DEFAULT,
        )

    def export(self, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
        """Hand the options given to a forwarded command (scan, mcp) through the environment."""
        for key, value in (
            ("AWS_ENDPOINT_URL", self.endpoint_url),
            ("AWS_DEFAULT_REGION", self.region),
            ("AWS_PROFILE", self.profile),
            ("SECAGENT_STACK_NAME", self.stack_name),
            ("SECAGENT_API_URL", self.api_url),
        ):
            if value:
                environ[key] = value


def connect(options: Globals) -> AuditApiClient:
    """A signed client of the deployed API: --api-url as given, else found from the stack's outputs."""
    from secagent.aws import SetupError, checked_session, stack_api_outputs
    from secagent.client import AuditApiClient

    try:
        session = checked_session(options.profile, options.region)
        if options.api_url:
            return AuditApiClient(options.api_url, session=session)
        outputs = stack_api_outputs(session, options.stack_name, options.endpoint_url)
    except SetupError as exc:
        raise CliError(exc.message, EXIT_USAGE if exc.usage else EXIT_FAILED) from exc
    return AuditApiClient.for_stack(outputs, endpoint_url=options.endpoint_url, session=session)
