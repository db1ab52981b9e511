"""Rollback: the applied fixes' captured rollbacks, as a new audit through the approval gate.

Apply's own record (checkpoints/{id}/applied.json) says what was applied; the API only checks
there is something to roll back and starts a rollback audit from a sealed request.
"""

import json
from typing import Any

import pytest

from secagent.api import ApiSettings, Conflict, Forbidden, RecordStore, rollback_audit
from secagent.models import Finding
from secagent.models.records import ApplyProgress
from secagent.models.settings import TargetScope
from secagent.workflow.checkpoints import save_checkpoint
from secagent.workflow.gate import rollback_plans
from tests.unit.api.conftest import (
    APPROVER,
    AUDIT_ID,
    EXECUTION_ARN,
    audit_request,
    execution_input,
    get_json,
)
from tests.unit.api.fakes import FakeStepFunctions

BUCKET = "customer-data"


def _plan(
    order: int, check: str, reversible: bool = True, operation: str = "PutBucketVersioning"
) -> dict[str, Any]:
    call = {"service": "s3", "operation": operation, "parameters": {"Bucket": BUCKET}, "region": None}
    return {
        "planId": f"p{order}",
        "order": order,
        "checkIds": [check],
        "remediationId": f"fix-{order}",
        "title": f"Fix {order}",
        "resourceId": BUCKET,
        "apiCall": call,
        "cliCommand": f"aws fix {order}",
        "risk": "r",
        "reversible": reversible,
        "rollback": {**call, "parameters": {"Bucket": BUCKET, "Before": order}} if reversible else None,
        "rollbackCliCommand": f"aws undo {order}" if reversible else None,
    }


def progress(*entries: tuple[dict[str, Any], str]) -> ApplyProgress:
    """Apply's record: each plan with its result (APPLIED, FAILED, SKIPPED)."""
    return ApplyProgress.model_validate(
        {
            "auditId": AUDIT_ID,
            "planDigest": "ab" * 32,
            "plans": [plan for plan, _ in entries],
            "results": [
                {
                    "planId": p["planId"],
                    "remediationId": p["remediationId"],
                    "checkIds": p["checkIds"],
                    "status": s,
                }
                for p, s in entries
            ],
            "appliedCount": sum(s == "APPLIED" for _, s in entries),
            "failedCount": sum(s == "FAILED" for _, s in entries),
            "complete": True,
        }
    )


APPLIED = progress((_plan(1, "c1"), "APPLIED"), (_plan(2, "c2"), "APPLIED"), (_plan(3, "c3"), "FAILED"))
BEFORE = [
    Finding.model_validate(
        {"checkId": c, "title": c, "severity": "HIGH", "status": "FAIL", "controls": [], "resourceId": BUCKET}
    )
    for c in ("c1", "c2")
]


def ended(
    sfn: FakeStepFunctions,
    records: RecordStore,
    status: str = "SUCCEEDED",
    applied: ApplyProgress | None = APPLIED,
    bucket: str = BUCKET,
) -> None:
    """An audit alice requested that has ended; Apply's record says what it applied."""
    request = audit_request(bucket=bucket)
    records.write_request(request)
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(execution_input(request)), status=status)
    if applied is not None:
        save_checkpoint(records.bucket, AUDIT_ID, "applied", applied.to_json_dict(), records.clients)


def test_rollback_plans_undo_applied_fixes_newest_first_expecting_the_old_verdicts() -> None:
    plans, expected = rollback_plans(APPLIED, BEFORE)
    assert [p.title for p in plans] == ["Roll back: Fix 2", "Roll back: Fix 1"]
    assert [p.order for p in plans] == [1, 2]
    assert [p.remediation_id for p in plans] == ["rollback:fix-2", "rollback:fix-1"]
    assert plans[0].api_call.parameters == {"Bucket": BUCKET, "Before": 2}
    assert plans[0].cli_command == "aws undo 2" and plans[0].rollback_cli_command == "aws fix 2"
    assert expected == {"c1": "FAIL", "c2": "FAIL"}


def test_rollback_leaves_out_what_an_irreversible_fix_pins() -> None:
    # Given versioning and Object Lock were both applied (Object Lock has no rollback)
    lock = _plan(3, "c3", reversible=False, operation="PutObjectLockConfiguration")
    applied = progress((_plan(1, "c1"), "APPLIED"), (lock, "APPLIED"))
    # Then versioning cannot be suspended, so it is not offered for rollback
    plans, expected = rollback_plans(applied, BEFORE)
    assert plans == [] and expected == {}


@pytest.mark.parametrize("status", ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"])
def test_rollback_of_an_ended_audit_with_applied_fixes_starts_a_rollback_audit(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, status: str
) -> None:
    # Given an ended audit (a partial Apply too) whose record shows applied fixes
    ended(sfn, records, status)
    # When bob asks for a rollback
    started = rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    # Then a new audit starts with routing input only, in rollback mode
    [call] = sfn.called("StartExecution")
    assert call["name"] == started.audit_id != AUDIT_ID
    assert json.loads(call["input"]) == {
        "resource": {"type": "AWS::S3::Bucket", "id": BUCKET},
        "mode": "rollback",
        "approvalTimeoutSeconds": 3600,
    }
    # And its sealed request names what it rolls back and who asked (for four-eyes on its approval)
    stored = records.request(started.audit_id)
    assert stored is not None
    assert (stored.mode, stored.rollback_of, stored.requested_by) == (
        "rollback",
        AUDIT_ID,
        APPROVER.principal,
    )
    # And it holds the bucket's lock like any audit
    assert get_json(s3, f"locks/AWS-S3-Bucket/{BUCKET}.json") == {"auditId": started.audit_id}


def test_rollback_of_a_running_audit_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    ended(sfn, records, "RUNNING")
    with pytest.raises(Conflict, match="still running"):
        rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    assert sfn.called("StartExecution") == []


@pytest.mark.parametrize(
    ("applied", "message"),
    [
        pytest.param(None, "applied no fix, so there is nothing to roll back", id="no Apply record"),
        pytest.param(
            progress((_plan(1, "c1"), "FAILED"), (_plan(2, "c2"), "SKIPPED")),
            "applied no fix that can be rolled back",
            id="nothing applied",
        ),
        pytest.param(
            progress((_plan(1, "c1", reversible=False), "APPLIED")),
            "applied no fix that can be rolled back",
            id="only irreversible fixes",
        ),
    ],
)
def test_rollback_with_nothing_to_roll_back_is_a_conflict(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    applied: ApplyProgress | None,
    message: str,
) -> None:
    ended(sfn, records, applied=applied)
    with pytest.raises(Conflict, match=message):
        rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    assert sfn.called("StartExecution") == []


def test_rollback_of_an_audit_without_a_request_record_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given an execution the API never started, with an Apply record planted next to it
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(execution_input(audit_request())), status="SUCCEEDED")
    save_checkpoint(records.bucket, AUDIT_ID, "applied", APPLIED.to_json_dict(), records.clients)
    with pytest.raises(Conflict):
        rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    assert sfn.called("StartExecution") == []


def test_rollback_outside_the_remediation_scope_is_forbidden(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    ended(sfn, records)
    scoped = settings.model_copy(update={"scope": TargetScope(remediation_prefixes=("sandbox-",))})
    with pytest.raises(Forbidden):
        rollback_audit(AUDIT_ID, APPROVER, sfn, s3, scoped, records)
    assert sfn.called("StartExecution") == []


def test_rollback_while_another_audit_runs_on_the_bucket_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    ended(sfn, records)
    first = rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    with pytest.raises(Conflict) as caught:
        rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    assert caught.value.extra == {"runningAuditId": first.audit_id}
    assert len(sfn.called("StartExecution")) == 1
