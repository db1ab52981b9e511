"""A failed step as a person reads it: a sentence, whether a resume can help, and an id for the logs.

Step Functions hands a caught error over as ``{Error, Cause}``; a Lambda's Cause is its error
payload (``errorMessage``, ``errorType``, ``requestId``, ``stackTrace``): file paths and code
lines that must not reach a user. Only the error's name and, for the agent's own typed errors
(secagent.models.errors, whose messages the agent writes), their message are kept; the rest
stays in the logs, found by the correlation id (the Lambda request id, or the execution and step).
"""

import json
import re
from typing import Any

from secagent.models.report import Failure, StepError

MAX_MESSAGE = 300

# The agent's own errors: their messages are sentences it wrote (no trace, no path).
_OWN_ERRORS = {
    "ResourceNotFound",
    "AccessDenied",
    "TransientError",
    "StoreUnavailable",
    "InvalidInput",
    "ApprovalInvalid",
    "AuditNotRequested",
    "NotInvokedByWorkflow",
}
# Resuming re-runs the failed step on the same request: useless when the request itself is the
# problem (no bucket, access denied, not requested by the API, approval not valid). The state
# machine ends the first two in outcomes of their own (RESOURCE_NOT_FOUND, ACCESS_DENIED).
_NOT_RESUMABLE = {
    "ResourceNotFound",
    "AccessDenied",
    "InvalidInput",
    "ApprovalInvalid",
    "AuditNotRequested",
    "NotInvokedByWorkflow",
}
_TIMEOUTS = {"States.Timeout", "Sandbox.Timedout", "States.HeartbeatTimeout"}
_TRACE = re.compile(r'Traceback|File "|\.py\b|^\s*at |/var/task|/opt/', re.MULTILINE)


def _payload(cause: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(cause or "")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _clean(text: Any) -> str | None:
    """The first line of a message the agent wrote, or None when it looks like anything else."""
    if not isinstance(text, str) or not text.strip():
        return None
    line = text.strip().splitlines()[0].strip()
    if _TRACE.search(line):
        return None
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _sentence(step: str, error: str | None, own: str | None) -> str:
    said = f": {own.rstrip('.')}" if own else ""
    match error:
        case "ResourceNotFound":
            return (
                f"{step} found nothing to audit{said}. It was deleted, or never existed; nothing more was "
                "changed. Start a new audit if it is created again."
            )
        case "AccessDenied":
            return (
                f"{step} was refused access{said}. Give the stack's role that access (docs/iam.md) "
                "or lift the deny (a bucket policy, an SCP), then start a new audit."
            )
        case "StoreUnavailable":
            return (
                f"{step} could not use the agent's report bucket{said}. Check the stack's bucket "
                "policy and key (docs/iam.md), then resume the audit."
            )
        case "TransientError":
            return f"{step} kept meeting a temporary AWS error after its retries{said}. Resume the audit."
        case e if e in _TIMEOUTS:
            return f"{step} did not finish within its time limit. Resume the audit to try the step again."
        case e if e and e.startswith("Lambda."):
            return f"{step} could not run: AWS Lambda answered {e}. Resume the audit to try again."
        case e if e in _OWN_ERRORS:
            return f"{step} stopped{said}."
        case _:
            return (
                f"{step} failed unexpectedly ({error or 'no error name'}). Resume the audit; if it fails "
                "again, give the correlation id to whoever runs the stack."
            )


def explain(step: str, error: str | None, cause: str | None, execution: str | None = None) -> Failure:
    """The failure of ``step`` as a user may see it; ``execution`` names it when no request id does."""
    payload = _payload(cause)
    name = error or payload.get("errorType")
    # Only a message the agent's own code raised: the Lambda payload of an error of that very name
    # (a plain-text cause could come from anyone holding a task token, via SendTaskFailure).
    ours = name in _OWN_ERRORS and payload.get("errorType") == name
    own = _clean(payload.get("errorMessage")) if ours else None
    request_id = payload.get("requestId")
    correlation = request_id if isinstance(request_id, str) and request_id else None
    if correlation is None and execution:
        correlation = f"{execution}/{step}"
    return Failure(
        step=step,
        error=name,
        message=_sentence(step, name, own),
        correlation_id=correlation,
        resumable=name not in _NOT_RESUMABLE,
    )


def step_error(step: str, error: str | None, cause: str | None) -> StepError:
    """A step's failed attempt, for the timeline: its error's name and the same sentence."""
    return StepError(error=error, message=explain(step, error, cause).message)
