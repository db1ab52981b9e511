"""What an approval approves: the default selection, named plans, and subsets re-planned alone.

The audit is of a public moto bucket (tests.unit.api.conftest.public_snapshot): its proposal has
reversible bucket fixes, two edits of the one bucket policy, two irreversible plans and an
account-wide one.
"""

import json
from typing import Any

import pytest

from secagent.api import (
    ApiSettings,
    ApprovalRequest,
    BadRequest,
    Conflict,
    RecordStore,
    decide_approval,
    get_audit,
    preview_approval,
)
from secagent.api.models import ApprovalPreview
from secagent.models import ObjectLock, Plan, Probe, Snapshot
from secagent.models.records import Decision
from secagent.workflow.approval import plan_digest
from secagent.workflow.gate import authorize
from secagent.workflow.store import decision_key, read_sealed
from tests.unit.api.conftest import APPROVER, AUDIT_ID, Seeded, seed_audit
from tests.unit.api.fakes import FakeStepFunctions
from tests.unit.checks.snapshots import snapshot as fixture_snapshot

VERSIONING = "s3.enable_versioning"
OBJECT_LOCK = "s3.enable_object_lock"
ACCOUNT_PAB = "s3control.put_public_access_block"
NAMED_ONLY = {VERSIONING, OBJECT_LOCK, ACCOUNT_PAB}
RESTRICT = "s3.restrict_public_policy_statements"
TLS = "s3.add_deny_insecure_transport"


@pytest.fixture
def seeded(sfn: FakeStepFunctions, records: RecordStore, public_snapshot: Snapshot) -> Seeded:
    return seed_audit(sfn, records, public_snapshot)


def preview(
    ids: list[str] | None, sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore
) -> ApprovalPreview:
    return preview_approval(AUDIT_ID, ids, sfn, s3, settings, records)


def approve(
    sfn: Any, s3: Any, settings: ApiSettings, records: RecordStore, digest: str, ids: list[str] | None = None
) -> None:
    body: dict[str, Any] = {"decision": "approve", "planDigest": digest}
    if ids is not None:
        body["remediationIds"] = ids
    decide_approval(AUDIT_ID, ApprovalRequest.model_validate(body), APPROVER, sfn, s3, settings, records)


def sealed_decision(records: RecordStore) -> Decision:
    stored = read_sealed(records.bucket, decision_key(AUDIT_ID), Decision, records.sealer, records.clients)
    assert stored is not None
    return stored


def policy_of(plan: Plan | dict[str, Any]) -> dict[str, Any]:
    call = plan.api_call.to_json_dict() if isinstance(plan, Plan) else plan["apiCall"]
    assert call["operation"] == "PutBucketPolicy"
    return json.loads(call["parameters"]["Policy"])


def sids(policy: dict[str, Any]) -> list[str | None]:
    return [s.get("Sid") for s in policy["Statement"]]


def pinned(policy: dict[str, Any]) -> bool:
    """Is the public-read statement pinned to the owner account (s3.restrict_public_policy_statements)?"""
    [public_read] = [s for s in policy["Statement"] if s.get("Sid") == "PublicRead"]
    return "aws:PrincipalAccount" in json.dumps(public_read.get("Condition", {}))


# -- the default selection -----------------------------------------------------------------------


def test_the_proposal_has_every_kind_of_plan(seeded: Seeded) -> None:
    # The premise of this module: irreversible, account-wide, and two policy edits are proposed
    assert NAMED_ONLY | {RESTRICT, TLS} <= set(seeded.all_ids)
    assert not seeded.plan(VERSIONING).reversible and not seeded.plan(OBJECT_LOCK).reversible
    assert seeded.plan(ACCOUNT_PAB).api_call.service == "s3control"


def test_a_plain_approval_leaves_out_irreversible_and_account_wide_plans(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    clients: Any,
) -> None:
    # Given an audit awaiting approval
    # When a person approves without naming plans, quoting the default digest
    approve(sfn, s3, settings, records, seeded.default_digest)
    # Then the decision approves every reversible, bucket-scoped plan, and none of the others
    decision = sealed_decision(records)
    assert decision.selection == "default"
    assert decision.remediation_ids == [i for i in seeded.all_ids if i not in NAMED_ONLY]
    assert not NAMED_ONLY & set(decision.remediation_ids)
    # And the gate Apply runs agrees: exactly those plans are authorized
    authorized = authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)
    assert [p.remediation_id for p in authorized.plans] == decision.remediation_ids


def test_get_audit_says_which_plans_a_plain_approval_covers_and_why_not(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, seeded: Seeded
) -> None:
    body = get_audit(AUDIT_ID, sfn, s3, settings).to_json_dict()
    assert body["status"] == "AWAITING_APPROVAL"
    flags = {p["remediationId"]: (p["approvedByDefault"], p["namedOnlyReason"]) for p in body["pendingPlans"]}
    assert {i for i, (by_default, _) in flags.items() if not by_default} == NAMED_ONLY
    assert flags[OBJECT_LOCK][1].startswith("irreversible") and flags[VERSIONING][1].startswith(
        "irreversible"
    )
    assert flags[ACCOUNT_PAB][1].startswith("account-wide")
    assert flags[TLS] == (True, None)
    assert (
        body["defaultRemediationIds"] == seeded.default_ids
    )  # in plan order, as the preview and the decision list them
    assert body["planDigest"] == seeded.default_digest


def test_preview_of_the_default_selection_lists_what_it_leaves_out_and_why(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    shown = preview(None, sfn, s3, settings, records)
    assert (shown.selection, shown.remediation_ids) == ("default", seeded.default_ids)
    assert shown.plan_digest == seeded.default_digest
    assert {o["remediationId"]: o["reason"].split(":")[0] for o in shown.left_out} == {
        VERSIONING: "irreversible",
        OBJECT_LOCK: "irreversible",
        ACCOUNT_PAB: "account-wide",
    }


def test_irreversible_and_account_wide_plans_are_approved_when_named(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    clients: Any,
) -> None:
    # Given the preview of a selection that names them
    named = [ACCOUNT_PAB, VERSIONING, OBJECT_LOCK]
    shown = preview(named, sfn, s3, settings, records)
    assert shown.selection == "named" and set(shown.remediation_ids) == set(named)
    # When a person approves that selection with its digest
    approve(sfn, s3, settings, records, shown.plan_digest, named)
    # Then they are approved, by name, and the gate authorizes them
    decision = sealed_decision(records)
    assert (set(decision.remediation_ids), decision.selection) == (set(named), "named")
    authorized = authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)
    assert {p.remediation_id for p in authorized.plans} == set(named)


def test_naming_plans_while_quoting_the_default_digest_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    with pytest.raises(Conflict) as caught:
        approve(sfn, s3, settings, records, seeded.default_digest, [*seeded.default_ids, OBJECT_LOCK])
    assert caught.value.field == "planDigest" and OBJECT_LOCK in caught.value.extra["remediationIds"]
    assert sfn.called("SendTaskSuccess") == []


def test_a_plain_approval_of_a_proposal_with_only_named_only_plans_is_a_bad_request(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore
) -> None:
    # Given a proposal whose only plan is irreversible (Object Lock)
    only_lock = fixture_snapshot(object_lock=Probe(value=ObjectLock(enabled=False)))
    seeded = seed_audit(sfn, records, only_lock)
    assert seeded.all_ids == [OBJECT_LOCK] and seeded.default_ids == []
    # When a person approves without naming it
    with pytest.raises(BadRequest) as caught:
        approve(sfn, s3, settings, records, "ab" * 32)
    # Then 400 says to name it; naming it approves it
    assert caught.value.field == "remediationIds" and "Name the ones you approve" in caught.value.message
    shown = preview([OBJECT_LOCK], sfn, s3, settings, records)
    approve(sfn, s3, settings, records, shown.plan_digest, [OBJECT_LOCK])
    assert sealed_decision(records).remediation_ids == [OBJECT_LOCK]


# -- subsets are re-planned alone ----------------------------------------------------------------


def test_the_full_proposal_chains_the_two_policy_edits(seeded: Seeded) -> None:
    # The TLS plan edits the policy the restrict plan already edited: it carries its content
    full_tls = policy_of(seeded.plan(TLS))
    assert pinned(full_tls) and "DenyInsecureTransport" in sids(full_tls)


@pytest.mark.parametrize(
    ("chosen", "other_is_absent"),
    [
        pytest.param(TLS, lambda policy: not pinned(policy), id="TLS alone keeps the public statement as is"),
        pytest.param(
            RESTRICT, lambda policy: "DenyInsecureTransport" not in sids(policy), id="restrict alone"
        ),
    ],
)
def test_a_subset_approval_applies_a_policy_without_the_other_plans_statement(
    sfn: FakeStepFunctions,
    s3: Any,
    settings: ApiSettings,
    records: RecordStore,
    seeded: Seeded,
    clients: Any,
    chosen: str,
    other_is_absent: Any,
) -> None:
    # Given the preview of approving one of the two policy edits
    shown = preview([chosen], sfn, s3, settings, records)
    [plan] = shown.plans
    # Then its policy document does not carry the other edit's statement
    assert plan["remediationId"] == chosen and other_is_absent(policy_of(plan))
    # And its digest is neither the full proposal's nor the default selection's
    full_digest = plan_digest(seeded.plans, seeded.snapshot)
    assert shown.plan_digest not in {full_digest, seeded.default_digest}
    # When a person approves it with that digest
    approve(sfn, s3, settings, records, shown.plan_digest, [chosen])
    # Then Apply is authorized to put exactly that document
    authorized = authorize(AUDIT_ID, records.bucket, records.analysis, records.sealer, clients)
    [applied] = authorized.plans
    assert policy_of(applied) == policy_of(plan) and other_is_absent(policy_of(applied))
    # And it keeps the plan id the person was shown in the full proposal
    assert applied.plan_id == seeded.plan(chosen).plan_id


@pytest.mark.parametrize("which", ["full proposal", "default selection"])
def test_a_subset_approval_quoting_an_older_digest_is_a_conflict(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded, which: str
) -> None:
    # Given a client that quotes the digest it read before choosing a subset
    digest = plan_digest(seeded.plans, seeded.snapshot) if which == "full proposal" else seeded.default_digest
    # When it approves only the TLS plan with it
    with pytest.raises(Conflict) as caught:
        approve(sfn, s3, settings, records, digest, [TLS])
    # Then 409 says which selection it would have approved; nothing was sent or recorded
    assert caught.value.field == "planDigest" and caught.value.extra == {"remediationIds": [TLS]}
    assert sfn.called("SendTaskSuccess") == []
    stored = read_sealed(records.bucket, decision_key(AUDIT_ID), Decision, records.sealer, records.clients)
    assert stored is None


def test_preview_of_an_unknown_remediation_is_a_bad_request(
    sfn: FakeStepFunctions, s3: Any, settings: ApiSettings, records: RecordStore, seeded: Seeded
) -> None:
    with pytest.raises(BadRequest) as caught:
        preview(["s3.no_such_fix"], sfn, s3, settings, records)
    assert caught.value.field == "remediationIds"
