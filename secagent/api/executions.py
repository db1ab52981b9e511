"""An audit's executions: `<auditId>`, then the resumes the API started, as the API recorded them.

Only the API resumes an audit, and only a failed one. So an audit whose first execution did not
fail has that execution alone, and the resumes of one that did are listed in
`executions/{auditId}.json`, which the API writes (before each resume starts) and alone may write:
they are found with one read, never by trying names. A recorded resume whose start failed is left
out; an execution named like a resume that the API did not record is not the audit's.
"""

from typing import Any

from botocore.exceptions import ClientError

from secagent.api.aws import describe_execution, error_code, read_json, write_json
from secagent.api.settings import ApiSettings

ENDED_BADLY = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})  # what a resume may follow
MAX_RESUMES = 20  # a resume beyond it is refused: start a new audit


def resume_name(audit_id: str, number: int) -> str:
    return f"{audit_id}_r{number}"


def resume_number(execution_name: str) -> int:
    """0 for `<auditId>`, n for `<auditId>_r<n>` (and 0 for any other suffix)."""
    _, _, suffix = execution_name.partition("_")
    return int(suffix[1:]) if suffix[:1] == "r" and suffix[1:].isdigit() else 0


def recorded(s3: Any, settings: ApiSettings, audit_id: str) -> list[str]:
    """The audit's execution names as the API recorded them, oldest first (`[auditId]` without a
    record). Only the names the API gives, in its order, are taken: `<auditId>`, `_r1`, `_r2`..."""
    stored = read_json(s3, settings.report_bucket, settings.executions_key(audit_id)) or {}
    names = stored.get("executions")
    found = [audit_id]
    for name in names[1 : MAX_RESUMES + 1] if isinstance(names, list) else []:
        if name != resume_name(audit_id, len(found)):
            break
        found.append(name)
    return found


def audit_executions(sfn: Any, s3: Any, settings: ApiSettings, audit_id: str) -> list[dict[str, Any]]:
    """Every execution of the audit (DescribeExecution's answers), oldest first; NotFound for an
    audit id that names no execution. The record is read only when the first execution failed."""
    executions = [describe_execution(sfn, settings.execution_arn(audit_id), audit_id)]
    if executions[0]["status"] not in ENDED_BADLY:
        return executions
    for name in recorded(s3, settings, audit_id)[1:]:
        try:
            executions.append(sfn.describe_execution(executionArn=settings.execution_arn(name)))
        except ClientError as err:
            if error_code(err) == "ExecutionDoesNotExist":
                break  # recorded, but its start failed
            raise
        if executions[-1]["status"] not in ENDED_BADLY:
            break  # nothing follows an execution that did not fail
    return executions


def record_resume(s3: Any, settings: ApiSettings, audit_id: str, executions: list[dict[str, Any]]) -> str:
    """The name of the next resume, recorded after the executions that exist (before it starts)."""
    name = resume_name(audit_id, len(executions))
    names = [e["name"] for e in executions] + [name]
    write_json(
        s3,
        settings.report_bucket,
        settings.executions_key(audit_id),
        {"auditId": audit_id, "executions": names},
    )
    return name


def resumed_since(execution: dict[str, Any], sfn: Any, s3: Any, settings: ApiSettings) -> bool:
    """Whether a later execution of the audit exists (the API resumed this failed one)."""
    if execution["status"] not in ENDED_BADLY:
        return False
    name = execution["name"]
    audit_id = name.partition("_")[0]
    names = recorded(s3, settings, audit_id)
    number = resume_number(name)
    if number + 1 >= len(names):
        return False
    try:
        sfn.describe_execution(executionArn=settings.execution_arn(names[number + 1]))
    except ClientError as err:
        if error_code(err) == "ExecutionDoesNotExist":
            return False  # recorded, but its start failed
        raise
    return True
