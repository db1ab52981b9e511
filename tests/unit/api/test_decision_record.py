"""The sealed records an approval rests on: the decision (sealed, written once) and the request.

Apply applies what the sealed decision binds, for an audit the sealed request asked for; the
task token only wakes the execution. So a forged or second decision must never be written or
sent, and an execution nobody requested through the API must never be approved.
"""

from typing import Any

import pytest

from secagent.api import (
    ApiSettings,
    ApprovalRequest,
    Conflict,
    RecordStore,
    decide_approval,
    preview_approval,
)
from secagent.models import Snapshot
from secagent.models.errors import ApprovalInvalid
from secagent.models.records import Decision
from secagent.workflow.gate import authorize
from secagent.workflow.store import SealBroken, decision_key, read_sealed, request_key
from tests.unit.api.conftest import (
    APPROVER,
    AUDIT_ID,
    REQUESTER,
    Seeded,
    audit_request,
    caller,
    get_json,
    put_json,
    seed_audit,
)
from tests.unit.api.fakes import FakeStepFunctions

CAROL = caller("arn:aws:sts::123456789012:assumed-role/Operator/carol")
KEY = decision_key(AUDIT_ID)


@pytest.fixture
def seeded(sfn: FakeStepFunctions, records: RecordStore, public_snapshot: Snapshot) -> Seeded:
    return seed_audit(sfn, records, public_snapshot)


def approve(
    seeded: Seeded, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore, **body: Any
) -> None:
    request = ApprovalRequest.model_validate(
        {"decision": "approve", "planDigest": seeded.default_digest, **body}
    )
    decide_approval(AUDIT_ID, request, APPROVER, sfn, s3, settings, records)


def stored_decision(records: RecordStore) -> Decision | None:
    return read_sealed(records.bucket, KEY, Decision, records.sealer, records.clients)


def forged_decision(seeded: Seeded) -> dict[str, Any]:
    """An approval of every plan, as someone with write access to the bucket would plant it."""
    return Decision.model_validate(
        {
            "auditId": AUDIT_ID,
            "resource": {"id": seeded.snapshot.bucket},
            "mode": "remediate",
            "decision": "approve",
            "remediationIds": seeded.all_ids,
            "selection": "named",
            "planDigest": "ab" * 32,
            "approver": "arn:aws:iam::123456789012:role/Attacker",
            "requestedBy": REQUESTER.principal,
            "decidedAt": "2025-03-01T12:00:00Z",
        }
    ).to_json_dict()


# -- the decision: sealed, and written once ------------------------------------------------------


def test_the_decision_is_sealed_and_a_changed_decision_is_not_trusted(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded, clients: Any
) -> None:
    # Given a decision the API wrote
    approve(seeded, sfn, s3, settings, records)
    stored = get_json(s3, KEY)
    assert set(stored) == {"record", "seal"}
    decision = stored_decision(records)
    assert decision is not None and decision.approver == APPROVER.principal
    # When someone widens it in the bucket to every plan (irreversible ones included)
    stored["record"]["remediationIds"] = seeded.all_ids
    put_json(s3, KEY, stored)
    # Then its seal no longer holds, and the gate Apply runs refuses it
    with pytest.raises(SealBroken):
        stored_decision(records)
    with pytest.raises(ApprovalInvalid, match="not sealed by the audit API"):
        authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)


def test_a_second_decision_racing_the_first_is_refused_by_the_write_once_record(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    # Given bob's approval is on record, while carol's request still saw the approval PENDING (a race)
    approve(seeded, sfn, s3, settings, records)
    put_json(s3, f"approvals/{AUDIT_ID}.json", seeded.record.to_json_dict())
    sfn.open_task(seeded.token, next(iter(sfn.executions)))
    # When carol rejects
    with pytest.raises(Conflict) as caught:
        decide_approval(AUDIT_ID, ApprovalRequest(decision="reject"), CAROL, sfn, s3, settings, records)
    # Then 409: the decision record exists already (S3 If-None-Match); nothing more is sent
    assert caught.value.message == f'Audit "{AUDIT_ID}" was already decided.'
    assert len(sfn.called("SendTaskSuccess")) == 1
    # And bob's decision is the one on record
    decision = stored_decision(records)
    assert decision is not None and (decision.decision, decision.approver) == ("approve", APPROVER.principal)


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(lambda s: {"record": forged_decision(s), "seal": "Zm9yZ2VkLXNlYWw="}, id="forged seal"),
        pytest.param(lambda s: {"record": forged_decision(s)}, id="no seal"),
        pytest.param(forged_decision, id="a bare decision"),
    ],
)
def test_a_planted_decision_file_is_never_overwritten_or_acted_on(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    clients: Any,
    planted: Any,
) -> None:
    # Given a decisions/{id}.json file the API did not write
    put_json(s3, KEY, planted(seeded))
    # When a person approves
    with pytest.raises(Conflict) as caught:
        approve(seeded, sfn, s3, settings, records)
    # Then 409 "already decided" (the write is If-None-Match), and the execution is not woken
    assert caught.value.status == 409 and "already decided" in caught.value.message
    assert sfn.called("SendTaskSuccess") == []
    assert get_json(s3, f"approvals/{AUDIT_ID}.json")["status"] == "PENDING"
    # And the planted file authorizes nothing
    with pytest.raises(ApprovalInvalid):
        authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)


# -- the request: an audit the API started -------------------------------------------------------


def test_an_execution_started_without_a_request_record_cannot_be_approved(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, public_snapshot: Snapshot
) -> None:
    # Given an execution started directly (StartExecution, not POST /audits): no request record,
    # yet a pending approval and a token are in the bucket
    seeded = seed_audit(sfn, records, public_snapshot, sealed=False)
    assert records.request(AUDIT_ID) is None
    # When a person approves it (or asks what approving would do)
    with pytest.raises(Conflict) as caught:
        approve(seeded, sfn, s3, settings, records)
    # Then 409 names the missing request, and nothing is decided or sent
    assert "no request record sealed by the audit API" in caught.value.message
    assert "Nothing was applied" in caught.value.message
    assert sfn.called("SendTaskSuccess") == [] and stored_decision(records) is None
    with pytest.raises(Conflict):
        preview_approval(AUDIT_ID, None, sfn, s3, settings, records)


@pytest.mark.parametrize("how", ["unsealed", "another audit's sealed request"])
def test_a_planted_request_record_does_not_stand_in_for_the_apis(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    public_snapshot: Snapshot,
    how: str,
) -> None:
    # Given an execution without a request record, and a request planted in its place (one that
    # names whoever the planter likes as the requester, to get past four-eyes)
    seeded = seed_audit(sfn, records, public_snapshot, sealed=False)
    other = audit_request(requested_by=caller("arn:aws:iam::123456789012:user/nobody"))
    if how == "unsealed":
        put_json(s3, request_key(AUDIT_ID), {"record": other.to_json_dict(), "seal": "Zm9yZ2Vk"})
    else:
        records.write_request(other.model_copy(update={"audit_id": "another-audit"}))
        put_json(s3, request_key(AUDIT_ID), get_json(s3, request_key("another-audit")))
    # When the planter approves
    with pytest.raises(Conflict) as caught:
        approve(seeded, sfn, s3, settings, records)
    # Then it is refused as having no request record; nothing is sent
    assert "no request record sealed by the audit API" in caught.value.message
    assert sfn.called("SendTaskSuccess") == [] and stored_decision(records) is None
    assert get_json(s3, f"approvals/{AUDIT_ID}.json")["status"] == "PENDING"
