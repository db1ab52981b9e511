"""Roll back a REMEDIATED audit: a new audit whose plans restore what the applied fixes replaced.

Every applied plan captured the configuration it replaced (its `rollback` call). The rollback is
an audit of its own (mode `rollback`, `rollbackOf` the original) through the same gate: a person
approves its plans, they are rechecked against the current configuration, applied in reverse
order, and verified: each rolled-back check must show its verdict from before the fix again.
"""

import json
from typing import Any

from secagent.api.audits import start_execution_for
from secagent.api.aws import audit_executions, read_json
from secagent.api.errors import Conflict
from secagent.api.models import StartAuditResponse
from secagent.api.settings import ApiSettings
from secagent.models.plans import Plan

ROLLBACK_RISK = "Restores the configuration from before the fix: the finding it fixed comes back."
# A fix that cannot be undone while another applied fix stays: S3 refuses to suspend versioning
# once Object Lock is on (and Object Lock itself cannot be turned off).
_BLOCKED_BY = {("s3", "PutBucketVersioning"): ("s3", "PutObjectLockConfiguration")}


def rollback_plans(report: dict[str, Any]) -> tuple[list[Plan], dict[str, str]]:
    """The applied plans' rollbacks, newest first, and the verdicts their checks had before the fix."""
    applied = [
        Plan.model_validate(r["plan"]) for r in report.get("remediations", []) if r.get("result") == "APPLIED"
    ]
    staying = {(p.api_call.service, p.api_call.operation) for p in applied if not p.rollback}
    reversible = [
        p
        for p in applied
        if p.rollback and _BLOCKED_BY.get((p.api_call.service, p.api_call.operation)) not in staying
    ]
    before = {f["checkId"]: f["status"] for f in report.get("findings", [])}
    plans = []
    for order, plan in enumerate(sorted(reversible, key=lambda p: p.order, reverse=True), start=1):
        assert plan.rollback is not None
        plans.append(
            Plan(
                plan_id=f"rollback-{plan.plan_id}",
                order=order,
                check_ids=plan.check_ids,
                remediation_id=f"rollback:{plan.remediation_id}",
                title=f"Roll back: {plan.title}",
                resource_id=plan.resource_id,
                api_call=plan.rollback,
                cli_command=plan.rollback_cli_command or "",
                risk=ROLLBACK_RISK,
                reversible=True,
                rollback=plan.api_call,  # re-applying the fix undoes the rollback
                rollback_cli_command=plan.cli_command,
            )
        )
    expected = {check: before[check] for plan in plans for check in plan.check_ids if check in before}
    return plans, expected


def rollback_audit(
    audit_id: str, requested_by: str, sfn: Any, s3: Any, settings: ApiSettings
) -> StartAuditResponse:
    latest = audit_executions(sfn, settings, audit_id)[-1]
    report = read_json(s3, settings.report_bucket, settings.report_key(audit_id)) or {}
    if latest["status"] != "SUCCEEDED" or report.get("outcome") != "REMEDIATED":
        state = report.get("outcome") or latest["status"]
        raise Conflict(f'Audit "{audit_id}" is {state}; only a REMEDIATED audit can be rolled back.')
    plans, expected = rollback_plans(report)
    if not plans:
        raise Conflict(f'Audit "{audit_id}" applied no fix that can be rolled back.')
    original = json.loads(audit_executions(sfn, settings, audit_id)[0].get("input") or "{}")
    return start_execution_for(
        resource_type=report["resource"]["type"],
        resource_id=report["resource"]["id"],
        execution_input={
            "resource": report["resource"],
            "mode": "rollback",
            "rollbackOf": audit_id,
            "rollbackPlans": [p.to_json_dict() for p in plans],
            "rollbackExpected": expected,
            "approvalTimeoutSeconds": original.get(
                "approvalTimeoutSeconds", settings.default_approval_timeout_seconds
            ),
            "requestedBy": requested_by,
        },
        sfn=sfn,
        s3=s3,
        settings=settings,
    )
