"""Rollback: the applied fixes' captured rollbacks, as a new audit through the approval gate."""

import json
from typing import Any

import pytest

from secagent.api import Conflict, rollback_audit
from secagent.api.rollback import rollback_plans
from tests.unit.api.conftest import AUDIT_ID, EXECUTION_ARN, INPUT, put_json


def _plan(order: int, check: str, reversible: bool = True) -> dict[str, Any]:
    call = {
        "service": "s3",
        "operation": "PutBucketVersioning",
        "parameters": {"Bucket": "b"},
        "region": None,
    }
    return {
        "planId": f"p{order}",
        "order": order,
        "checkIds": [check],
        "remediationId": f"fix-{order}",
        "title": f"Fix {order}",
        "resourceId": "b",
        "apiCall": call,
        "cliCommand": f"aws fix {order}",
        "risk": "r",
        "reversible": reversible,
        "rollback": {**call, "parameters": {"Bucket": "b", "Before": order}} if reversible else None,
        "rollbackCliCommand": f"aws undo {order}" if reversible else None,
    }


REPORT = {
    "auditId": AUDIT_ID,
    "outcome": "REMEDIATED",
    "resource": {"type": "AWS::S3::Bucket", "id": "b"},
    "findings": [{"checkId": "c1", "status": "FAIL"}, {"checkId": "c2", "status": "FAIL"}],
    "remediations": [
        {"plan": _plan(1, "c1"), "result": "APPLIED"},
        {"plan": _plan(2, "c2"), "result": "APPLIED"},
        {"plan": _plan(3, "c3"), "result": "NOT_APPROVED"},
    ],
}


def test_rollback_plans_undo_applied_fixes_newest_first_expecting_the_old_verdicts():
    plans, expected = rollback_plans(REPORT)
    assert [p.title for p in plans] == ["Roll back: Fix 2", "Roll back: Fix 1"]
    assert [p.order for p in plans] == [1, 2]
    assert plans[0].api_call.parameters == {"Bucket": "b", "Before": 2}
    assert plans[0].cli_command == "aws undo 2" and plans[0].rollback_cli_command == "aws fix 2"
    assert expected == {"c1": "FAIL", "c2": "FAIL"}


def test_rollback_of_a_remediated_audit_starts_a_rollback_audit(sfn, s3, settings):
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status="SUCCEEDED")
    put_json(s3, f"reports/{AUDIT_ID}.json", REPORT)
    started = rollback_audit(AUDIT_ID, "arn:aws:iam::123456789012:user/bob", sfn, s3, settings)
    [call] = sfn.called("StartExecution")
    execution_input = json.loads(call["input"])
    assert call["name"] == started.audit_id != AUDIT_ID
    assert execution_input["mode"] == "rollback" and execution_input["rollbackOf"] == AUDIT_ID
    assert len(execution_input["rollbackPlans"]) == 2
    assert execution_input["rollbackExpected"] == {"c1": "FAIL", "c2": "FAIL"}


@pytest.mark.parametrize(("status", "outcome"), [("RUNNING", None), ("SUCCEEDED", "NON_COMPLIANT")])
def test_rollback_of_an_audit_that_did_not_remediate_is_a_conflict(sfn, s3, settings, status, outcome):
    sfn.add_execution(EXECUTION_ARN, input=json.dumps(INPUT), status=status)
    if outcome:
        put_json(s3, f"reports/{AUDIT_ID}.json", {**REPORT, "outcome": outcome})
    with pytest.raises(Conflict, match="only a REMEDIATED audit"):
        rollback_audit(AUDIT_ID, "me", sfn, s3, settings)
    assert sfn.called("StartExecution") == []


def test_rollback_leaves_out_what_an_irreversible_fix_pins():
    # Given versioning and Object Lock were both applied (Object Lock has no rollback)
    lock = {
        **_plan(3, "c3", reversible=False),
        "apiCall": {**_plan(3, "c3")["apiCall"], "operation": "PutObjectLockConfiguration"},
    }
    report = {
        **REPORT,
        "remediations": [{"plan": _plan(1, "c1"), "result": "APPLIED"}, {"plan": lock, "result": "APPLIED"}],
    }
    # Then versioning cannot be suspended, so it is not offered for rollback
    plans, expected = rollback_plans(report)
    assert plans == [] and expected == {}
