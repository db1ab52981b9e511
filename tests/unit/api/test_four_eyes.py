"""Four-eyes: the principal that requested an audit (or a rollback) never approves it.

Principals, not sessions, are compared: whoever may assume a role names the session freely, so
``assumed-role/Admin/ops-1`` and ``assumed-role/Admin/ops-2`` are the same principal.
"""

from datetime import UTC, datetime
from typing import Any

import pytest

from secagent.api import ApiSettings, ApprovalRequest, Forbidden, RecordStore, decide_approval, rollback_audit
from secagent.api.identity import Caller, caller_of
from secagent.discovery import discover_bucket
from secagent.models import Snapshot
from secagent.models.records import Decision
from secagent.workflow.apply import apply_plans
from secagent.workflow.checkpoints import save_checkpoint
from secagent.workflow.gate import authorize
from secagent.workflow.store import decision_key, read_sealed
from tests.unit.api.conftest import (
    APPROVER,
    AUDIT_ID,
    AUDITED_BUCKET,
    EXECUTION_ARN,
    REQUESTER,
    TOKEN,
    Seeded,
    caller,
    reach_approval,
    seed_audit,
)
from tests.unit.api.fakes import FakeStepFunctions

OPS_1 = "arn:aws:sts::123456789012:assumed-role/Admin/ops-1"
OPS_2 = "arn:aws:sts::123456789012:assumed-role/Admin/ops-2"
ALICE = "arn:aws:iam::123456789012:user/alice"
CAROL = "arn:aws:sts::123456789012:assumed-role/Operator/carol"
BOB_AGAIN = "arn:aws:sts::123456789012:assumed-role/SecurityApprover/bob-again"


def approve(
    seeded: Seeded, approver: Caller, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    request = ApprovalRequest.model_validate({"decision": "approve", "planDigest": seeded.default_digest})
    decide_approval(seeded.audit_id, request, approver, sfn, s3, settings, records)


def nothing_decided(sfn: FakeStepFunctions, records: RecordStore, audit_id: str = AUDIT_ID) -> bool:
    stored = read_sealed(records.bucket, decision_key(audit_id), Decision, records.sealer, records.clients)
    return sfn.called("SendTaskSuccess") == [] and stored is None


@pytest.mark.parametrize(
    ("requester", "approver"),
    [
        pytest.param(OPS_1, OPS_2, id="same role, another session name"),
        pytest.param(OPS_1, OPS_1, id="same session"),
        pytest.param(ALICE, ALICE, id="same IAM user"),
    ],
)
def test_the_requesters_principal_may_not_approve(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    public_snapshot: Snapshot,
    requester: str,
    approver: str,
) -> None:
    # Given an audit requested by one principal
    seeded = seed_audit(sfn, records, public_snapshot, requested_by=caller(requester))
    # When that principal approves it, under whatever session name
    with pytest.raises(Forbidden) as caught:
        approve(seeded, caller(approver), sfn, s3, settings, records)
    # Then 403 naming the requester's principal, and nothing is decided or sent
    assert caught.value.status == 403
    assert caller(requester).principal in caught.value.message and "four-eyes" in caught.value.message
    assert nothing_decided(sfn, records)


def test_another_role_approves(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Given an audit requested under the role Admin
    seeded = seed_audit(sfn, records, public_snapshot, requested_by=caller(OPS_1))
    # When someone in another role approves
    approve(seeded, caller(CAROL), sfn, s3, settings, records)
    # Then the approval is recorded with both principals, and the task is woken
    stored = read_sealed(records.bucket, decision_key(AUDIT_ID), Decision, records.sealer, records.clients)
    assert stored is not None
    assert (stored.approver, stored.approver_arn, stored.requested_by) == (
        "arn:aws:iam::123456789012:role/Operator",
        CAROL,
        "arn:aws:iam::123456789012:role/Admin",
    )
    assert len(sfn.called("SendTaskSuccess")) == 1


@pytest.mark.parametrize(
    "context",
    [{"identity": {"userArn": None}}, {"identity": None}, None],
    ids=["null", "no identity", "none"],
)
def test_a_caller_without_an_iam_identity_may_not_approve(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    public_snapshot: Snapshot,
    context: dict[str, Any] | None,
) -> None:
    # Given an audit awaiting approval, and a request context without an IAM identity (LocalStack)
    seeded = seed_audit(sfn, records, public_snapshot)
    unknown = caller_of(context)
    assert not unknown.known
    # When that caller approves
    with pytest.raises(Forbidden) as caught:
        approve(seeded, unknown, sfn, s3, settings, records)
    # Then 403: a person authenticated by IAM decides
    assert "without an IAM identity" in caught.value.message
    assert nothing_decided(sfn, records)


def test_a_caller_without_an_iam_identity_may_not_reject_either(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    seed_audit(sfn, records, public_snapshot)
    with pytest.raises(Forbidden):
        decide_approval(
            AUDIT_ID, ApprovalRequest(decision="reject"), Caller("", ""), sfn, s3, settings, records
        )
    assert nothing_decided(sfn, records)


def test_the_requester_may_reject_their_own_audit(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Withdrawing one's own request changes nothing: four-eyes guards approvals only
    seed_audit(sfn, records, public_snapshot, requested_by=caller(OPS_1))
    decide_approval(AUDIT_ID, ApprovalRequest(decision="reject"), caller(OPS_2), sfn, s3, settings, records)
    assert len(sfn.called("SendTaskSuccess")) == 1


def test_allow_self_approval_lets_the_requester_approve(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Given a single-person lab deployment (allowSelfApproval)
    lab = settings.model_copy(update={"allow_self_approval": True})
    seeded = seed_audit(sfn, records, public_snapshot, requested_by=caller(OPS_1))
    # When the requester approves under another session
    approve(seeded, caller(OPS_2), sfn, s3, lab, records)
    # Then it is approved
    assert len(sfn.called("SendTaskSuccess")) == 1
    # And with the default settings the same approval would have been refused
    assert settings.allow_self_approval is False


def test_a_rollbacks_requester_may_not_approve_the_rollback(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    public_snapshot: Snapshot,
    clients: Any,
) -> None:
    # Given an audit that alice requested, bob approved, and Apply carried out
    seeded = seed_audit(sfn, records, public_snapshot)
    approve(seeded, APPROVER, sfn, s3, settings, records)
    authorized = authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)
    apply_plans(
        AUDIT_ID,
        authorized.plans,
        authorized.decision.plan_digest or "",
        None,
        lambda p: save_checkpoint(records.bucket, AUDIT_ID, "applied", p.to_json_dict(), clients),
        clients=clients,
    )
    sfn.executions[EXECUTION_ARN].status = "SUCCEEDED"
    # And bob asks to roll it back; the rollback audit reaches its approval
    started = rollback_audit(AUDIT_ID, APPROVER, sfn, s3, settings, records)
    record = reach_approval(
        sfn,
        records,
        started.audit_id,
        discover_bucket(AUDITED_BUCKET, clients=clients),
        token="rollback-token",
        now=datetime.now(UTC),
    )
    assert record.plans and all(p.remediation_id.startswith("rollback:") for p in record.plans)
    rollback = ApprovalRequest.model_validate({"decision": "approve", "planDigest": record.plan_digest})
    # When bob approves his own rollback, under another session name
    with pytest.raises(Forbidden):
        decide_approval(started.audit_id, rollback, caller(BOB_AGAIN), sfn, s3, settings, records)
    # Then it is refused: only the original approval was ever sent
    assert [s["taskToken"] for s in sfn.called("SendTaskSuccess")] == [TOKEN]
    # And alice, who requested the original audit but not the rollback, may approve it
    decide_approval(started.audit_id, rollback, REQUESTER, sfn, s3, settings, records)
    assert sfn.called("SendTaskSuccess")[-1]["taskToken"] == "rollback-token"
