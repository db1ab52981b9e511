"""Resume a failed audit: a new execution of the same audit; each step reuses its own checkpoint.

The new execution (`<auditId>_r<n>`) gets the original input and nothing else: every tool looks
up its own checkpoint in storage (load-or-compute), so no checkpoint travels in the input. It
takes the resource's lock like a new audit: a resume never runs beside another audit. It is
recorded (secagent.api.executions) before it starts: that record is how the audit's executions
are found.
"""

import json
from typing import Any

from botocore.exceptions import ClientError

from secagent.api import guard
from secagent.api.aws import error_code, read_json
from secagent.api.errors import Conflict
from secagent.api.executions import ENDED_BADLY, MAX_RESUMES, audit_executions, record_resume
from secagent.api.models import ResumeResponse
from secagent.api.settings import ApiSettings
from secagent.aws import execution_history
from secagent.workflow.checkpoints import STEPS, load_checkpoints
from secagent.workflow.timeline import build_timeline


def resume_audit(audit_id: str, sfn: Any, s3: Any, settings: ApiSettings) -> ResumeResponse:
    executions = audit_executions(sfn, s3, settings, audit_id)
    latest = executions[-1]
    if latest["status"] not in ENDED_BADLY:
        state = "RUNNING" if latest["status"] == "RUNNING" else latest["status"]
        raise Conflict(f'Audit "{audit_id}" is {state}; only a FAILED audit can be resumed.')
    failure = (read_json(s3, settings.report_bucket, settings.report_key(audit_id)) or {}).get("failure")
    if isinstance(failure, dict) and failure.get("resumable") is False:
        # Resuming re-runs the step on the same request: it cannot help a missing bucket or a request
        # the API never made. Say so instead of starting an execution that fails the same way.
        raise Conflict(f'Audit "{audit_id}" cannot be resumed: {failure.get("message")}')
    if len(executions) > MAX_RESUMES:
        raise Conflict(f'Audit "{audit_id}" was resumed {MAX_RESUMES} times already; start a new audit.')
    original = json.loads(executions[0].get("input") or "{}")
    resource = original.get("resource") or {}
    guard.take_resource(
        s3, sfn, settings, resource.get("type", "AWS::S3::Bucket"), resource.get("id", ""), audit_id
    )
    # The person's request as it was; test-only faults are not carried over (the fault is lifted).
    execution_input = {
        k: v for k, v in original.items() if k in {"resource", "mode", "approvalTimeoutSeconds"}
    }
    checkpoints = load_checkpoints(s3, settings.report_bucket, audit_id)
    name = record_resume(s3, settings, audit_id, executions)  # recorded first: GET finds it by the record
    try:
        sfn.start_execution(
            stateMachineArn=settings.state_machine_arn, name=name, input=json.dumps(execution_input)
        )
    except ClientError as err:
        if error_code(err) == "ExecutionAlreadyExists":  # a concurrent resume of the same audit won
            raise Conflict(f'Audit "{audit_id}" is being resumed already ({name}).') from None
        raise
    return ResumeResponse(
        audit_id=audit_id,
        execution=name,
        resume_from=_failed_step(sfn, latest["executionArn"]),
        reused_steps=[STEPS[step] for step in checkpoints if step in STEPS],  # not Recheck's record
    )


def _failed_step(sfn: Any, execution_arn: str) -> str | None:
    failed = [
        step.name for step in build_timeline(execution_history(sfn, execution_arn)) if step.status == "failed"
    ]
    return failed[0] if failed else None
