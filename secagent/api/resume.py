"""Resume a failed audit: a new execution of the same audit that reuses every checkpointed step."""

import json
from typing import Any

from secagent.api.aws import _MAX_RESUMES, audit_executions, execution_history
from secagent.api.errors import Conflict
from secagent.api.models import ResumeResponse
from secagent.api.settings import ApiSettings
from secagent.workflow.checkpoints import STEPS, load_checkpoints
from secagent.workflow.timeline import build_timeline

_RESUMABLE = {"FAILED", "TIMED_OUT", "ABORTED"}
# Step Functions refuses an execution input over 256 KiB; keep a margin.
_MAX_INPUT_BYTES = 240 * 1024


def resume_audit(audit_id: str, sfn: Any, s3: Any, settings: ApiSettings) -> ResumeResponse:
    executions = audit_executions(sfn, settings, audit_id)
    latest = executions[-1]
    if latest["status"] not in _RESUMABLE:
        state = "RUNNING" if latest["status"] == "RUNNING" else latest["status"]
        raise Conflict(f'Audit "{audit_id}" is {state}; only a FAILED audit can be resumed.')
    if len(executions) > _MAX_RESUMES:
        raise Conflict(f'Audit "{audit_id}" was resumed {_MAX_RESUMES} times already; start a new audit.')
    checkpoints = load_checkpoints(s3, settings.report_bucket, audit_id)
    original = json.loads(executions[0].get("input") or "{}")
    execution_input = {
        # The person's request as it was; test-only faults are not carried over (the fault is lifted).
        **{k: v for k, v in original.items() if k not in {"faults", "resume", "id"}},
        "resume": {"checkpoints": checkpoints, "previousExecutions": [e["name"] for e in executions]},
    }
    body = json.dumps(execution_input)
    if len(body.encode()) > _MAX_INPUT_BYTES:
        raise Conflict(f'Audit "{audit_id}" has checkpoints too large to resume from; start a new audit.')
    name = f"{audit_id}_r{len(executions)}"
    sfn.start_execution(stateMachineArn=settings.state_machine_arn, name=name, input=body)
    return ResumeResponse(
        audit_id=audit_id,
        execution=name,
        resume_from=_failed_step(sfn, latest["executionArn"]),
        reused_steps=[STEPS[step] for step in checkpoints],
    )


def _failed_step(sfn: Any, execution_arn: str) -> str | None:
    failed = [
        step.name for step in build_timeline(execution_history(sfn, execution_arn)) if step.status == "failed"
    ]
    return failed[0] if failed else None
