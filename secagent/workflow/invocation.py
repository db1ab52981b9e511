"""Only the audit's own running execution, in the tool's own state, may invoke a tool.

A tool function can be invoked directly (lambda:InvokeFunction) with any event, and a Lambda
cannot see who invoked it. So each tool receives the execution that scheduled it
(`$$.Execution.Id`, which the execution input cannot set) and checks, before it acts, that

- the execution belongs to the audit: named `<auditId>`, or `<auditId>_r<n>` (a resume), and a
  resume only follows executions of the audit that all failed (so no replay runs under a made-up
  name, nor after a failed resume of a finished audit);
- the execution is RUNNING and the state it entered last is this tool's state.

A direct invocation outside that window is refused (NotInvokedByWorkflow) before anything is read
or written; inside it, it could only do what the running execution is doing anyway.
"""

from __future__ import annotations

import re
from datetime import datetime

from botocore.exceptions import ClientError

from secagent.aws import ClientFactory
from secagent.models.errors import NotInvokedByWorkflow

_ENDED_BADLY = {"FAILED", "TIMED_OUT", "ABORTED"}


def _refuse(why: str) -> NotInvokedByWorkflow:
    return NotInvokedByWorkflow(f"refused: {why}; tools run only as steps of their audit's execution")


def confirm_invocation(
    execution_arn: str, audit_id: str, states: tuple[str, ...], clients: ClientFactory
) -> datetime | None:
    """NotInvokedByWorkflow unless `execution_arn` is the audit's running execution, in one of
    `states`. Returns when the execution started (Step Functions' own time)."""
    base, _, name = execution_arn.rpartition(":")
    resume = re.fullmatch(rf"{re.escape(audit_id)}_r(?P<n>[1-9][0-9]?)", name)
    if name != audit_id and resume is None:
        raise _refuse(f"execution {name!r} is not one of audit {audit_id}")
    sfn = clients("stepfunctions", None)
    try:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            raise _refuse(f"execution {name} is not running")
        if resume is not None:
            # Every earlier execution of the audit failed: one that succeeded (or runs) ends the
            # chain, or a failed `_r1` of a finished audit would let `_r2` replay it.
            for earlier in [audit_id, *(f"{audit_id}_r{k}" for k in range(1, int(resume["n"])))]:
                if sfn.describe_execution(executionArn=f"{base}:{earlier}")["status"] not in _ENDED_BADLY:
                    raise _refuse(f"{name} resumes {audit_id}, whose execution {earlier} did not fail")
        page = sfn.get_execution_history(
            executionArn=execution_arn, reverseOrder=True, maxResults=25, includeExecutionData=False
        )
    except ClientError as err:
        raise _refuse(
            f"execution {name} cannot be read ({err.response.get('Error', {}).get('Code')})"
        ) from None
    entered = next(
        (
            e["stateEnteredEventDetails"]["name"]
            for e in page.get("events", [])
            if "stateEnteredEventDetails" in e
        ),
        None,
    )
    if entered not in states:
        raise _refuse(f"execution {name} is in {entered!r}, not in {' or '.join(states)}")
    started = described.get("startDate")
    return started if isinstance(started, datetime) else None
