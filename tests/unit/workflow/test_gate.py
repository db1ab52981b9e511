"""The approval gate: Apply applies exactly what a person approved, proven from storage.

Each refusal below is one defence of secagent.workflow.gate.authorize; the records are written
as their owners write them (tests/unit/workflow/conftest.py), then one thing is forged.
"""

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from secagent.aws import ClientFactory
from secagent.checks import analyze
from secagent.discovery import discover_bucket
from secagent.models import ApiCall, ApplyResult, ApplyStatus, Plan, ResourceRef, Status
from secagent.models.errors import ApprovalInvalid
from secagent.models.records import ApplyProgress, Decision
from secagent.models.settings import TargetScope
from secagent.remediation import plan_remediations
from secagent.workflow.apply import apply_plans
from secagent.workflow.approval import plan_digest
from secagent.workflow.gate import (
    DECISION_LIFETIME,
    ROLLBACK_RISK,
    authorize,
    check_targets,
    default_remediation_ids,
    needs_naming,
    replan,
    rollback_plans,
)
from secagent.workflow.store import (
    KmsSealer,
    canonical,
    decision_key,
    read_object,
    request_key,
    write_object,
)
from tests.unit.workflow.conftest import (
    APPROVER,
    AUDIT,
    BUCKET,
    DECIDED_AT,
    REPORTS,
    REQUESTER,
    SETTINGS,
    Storage,
    hmac_key,
)

ORIGINAL = "audit-20250301-0000"  # the audit a rollback undoes
OTHER_BUCKET = "someone-elses-bucket"
APPLIED_AT = DECIDED_AT + timedelta(minutes=5)  # Apply runs soon after the decision


def _authorize(
    storage: Storage,
    audit_id: str = AUDIT,
    *,
    scope: TargetScope | None = None,
    now: datetime | None = APPLIED_AT,
):
    return authorize(audit_id, REPORTS, SETTINGS, storage.sealer, storage.clients, scope=scope, now=now)


def _refused(storage: Storage, match: str, audit_id: str = AUDIT, **kwargs: Any) -> None:
    with pytest.raises(ApprovalInvalid, match=match):
        _authorize(storage, audit_id, **kwargs)


# --- what is accepted ---------------------------------------------------------------------------


def test_authorize_accepts_exactly_the_approved_sealed_selection(storage: Storage) -> None:
    # Given an audit a person approved with a plain (default) approval, sealed by the API
    decision = storage.approved()
    # When Apply asks the gate
    authorized = _authorize(storage)
    # Then it gets exactly the approved remediations, re-planned, with the digest the person saw
    assert [p.remediation_id for p in authorized.plans] == decision.remediation_ids
    assert plan_digest(authorized.plans, authorized.proposal.snapshot) == decision.plan_digest
    assert authorized.decision == decision
    # and nothing that needs naming came with the plain approval
    assert decision.remediation_ids and not any(needs_naming(p) for p in authorized.plans)
    proposed = {p.remediation_id: p.plan_id for p in authorized.proposal.plans}
    assert {p.remediation_id: p.plan_id for p in authorized.plans}.items() <= proposed.items()


def test_authorize_ignores_plans_edited_in_the_remediation_checkpoint(storage: Storage) -> None:
    # Given an approved audit, then Propose Fixes' stored output is rewritten to act on another bucket
    storage.approved()
    honest = _authorize(storage).plans

    def evil(remediation: dict[str, Any]) -> None:
        for plan in remediation["plans"]:
            plan["apiCall"]["parameters"]["Bucket"] = OTHER_BUCKET

    storage.checkpoint(AUDIT, "remediation", {"plans": [p.to_json_dict() for p in honest]})
    storage.edit_checkpoint(AUDIT, "remediation", evil)
    # When / Then the gate re-plans from the snapshot: the stored plans are never what is applied
    assert _authorize(storage).plans == honest
    assert {p.api_call.parameters["Bucket"] for p in honest} == {BUCKET}


def test_authorize_named_selection_may_include_irreversible_and_account_wide_plans(
    storage: Storage,
) -> None:
    # Given the approver named the account-wide and the irreversible plan by id
    storage.request()
    storage.discover_and_analyze()
    named = ["s3control.put_public_access_block", "s3.enable_versioning"]
    storage.decide(remediation_ids=named)
    # When / Then exactly those are authorized
    assert sorted(p.remediation_id for p in _authorize(storage).plans) == sorted(named)


# --- what is refused ----------------------------------------------------------------------------


def test_authorize_without_a_decision_refuses(storage: Storage) -> None:
    # Given an audit that waits for a person (nobody decided yet)
    storage.request()
    storage.discover_and_analyze()
    # When / Then
    _refused(storage, "no person has decided")


def test_authorize_without_a_sealed_request_refuses(storage: Storage, clients: ClientFactory) -> None:
    # Given a request record planted without a seal (not written by the audit API)
    request = storage.request()
    write_object(REPORTS, request_key(AUDIT), {"record": request.to_json_dict()}, clients)
    storage.discover_and_analyze()
    # When / Then
    _refused(storage, "no request record sealed by the audit API")


def _planted_without_seal(storage: Storage, decision: Decision, session: boto3.Session) -> dict[str, Any]:
    return {"record": decision.to_json_dict()}


def _planted_with_a_made_up_seal(storage: Storage, decision: Decision, session: boto3.Session) -> dict:
    return {"record": decision.to_json_dict(), "seal": "bm90IGEgc2VhbCBvZiB0aGUgQVBJ"}


def _sealed_with_another_key(storage: Storage, decision: Decision, session: boto3.Session) -> dict:
    forger = KmsSealer(hmac_key(session), storage.clients)  # a key of the attacker's own
    content = decision.to_json_dict()
    return {"record": content, "seal": forger.seal(canonical(content))}


def _sealed_then_edited(storage: Storage, decision: Decision, session: boto3.Session) -> dict:
    content = decision.to_json_dict()
    seal = storage.sealer.seal(canonical(content))
    content["remediationIds"] = [*content["remediationIds"], "s3control.put_public_access_block"]
    return {"record": content, "seal": seal}


def _the_request_record_copied(storage: Storage, decision: Decision, session: boto3.Session) -> dict:
    stored = read_object(REPORTS, request_key(AUDIT), storage.clients)  # sealed, but not a Decision
    assert stored is not None
    return stored


@pytest.mark.parametrize(
    "forge",
    [
        _planted_without_seal,
        _planted_with_a_made_up_seal,
        _sealed_with_another_key,
        _sealed_then_edited,
        _the_request_record_copied,
    ],
)
def test_authorize_refuses_a_decision_the_api_did_not_seal(
    storage: Storage, session: boto3.Session, forge: Any
) -> None:
    # Given a well-formed approval planted in decisions/ (the bucket policy aside), not sealed by the API
    storage.request()
    storage.discover_and_analyze()
    decision = storage.decision()
    write_object(REPORTS, decision_key(AUDIT), forge(storage, decision, session), storage.clients)
    # When / Then
    _refused(storage, "not sealed by the audit API")


@pytest.mark.parametrize(
    "overrides",
    [
        {"audit_id": "audit-20250301-0002"},  # another audit's decision, copied here
        {"resource": ResourceRef(id=OTHER_BUCKET)},
        {"mode": "plan"},
    ],
    ids=["another-audit", "another-resource", "another-mode"],
)
def test_authorize_refuses_a_sealed_decision_about_something_else(
    storage: Storage, overrides: dict[str, Any]
) -> None:
    # Given a genuine sealed decision, but about another audit, resource or mode
    storage.request()
    storage.discover_and_analyze()
    storage.seal_decision(storage.decision().model_copy(update=overrides))
    # When / Then
    _refused(storage, "is not about audit")


def test_authorize_refuses_an_approval_of_a_plan_mode_audit(storage: Storage) -> None:
    # Given the API sealed a plan-mode request (nothing may be applied), and a person approved
    # (reachable when an execution's input routes the audit to Await Approval)
    storage.request(mode="plan")
    storage.discover_and_analyze()
    storage.decide()
    # When / Then
    _refused(storage, "plan mode")


def test_authorize_refuses_a_rejection(storage: Storage) -> None:
    storage.approved(decision="reject")
    _refused(storage, "was rejected by")


def test_authorize_refuses_a_decision_older_than_its_lifetime(storage: Storage) -> None:
    # Given an approval sealed by the API, then the audit waited (failed, resumed) for a week and more
    assert timedelta(days=7) == DECISION_LIFETIME
    storage.approved()
    # When / Then it is good up to its lifetime, and refused a second later
    assert _authorize(storage, now=DECIDED_AT + DECISION_LIFETIME).plans
    _refused(storage, "older than 7 days", now=DECIDED_AT + DECISION_LIFETIME + timedelta(seconds=1))
    # and without a time given, the gate uses the clock (this decision is from 2025-03-01)
    _refused(storage, "older than 7 days", now=None)


@pytest.mark.parametrize(
    "scope",
    [
        TargetScope(protected_buckets=frozenset({BUCKET})),  # the stack's own buckets
        TargetScope(protected_prefixes=("audited-",)),  # like CDK's staging buckets (cdk-)
    ],
    ids=["protected-bucket", "protected-prefix"],
)
def test_authorize_refuses_a_protected_bucket_whatever_was_approved(
    storage: Storage, scope: TargetScope
) -> None:
    # Given an approval sealed by the API (say the deployment's protection changed since the request)
    storage.approved()
    assert _authorize(storage, scope=TargetScope()).plans  # an unprotected bucket is authorized
    # When / Then Apply's gate refuses the bucket the deployment protects
    _refused(storage, "protected or outside this deployment's remediation scope", scope=scope)


def test_authorize_refuses_a_bucket_outside_the_remediation_scope(storage: Storage) -> None:
    # Given an approval sealed by the API, and a deployment that remediates only sandbox-* buckets
    storage.approved()
    assert _authorize(storage, scope=TargetScope(remediation_prefixes=("audited-",))).plans
    # When / Then
    _refused(
        storage,
        "protected or outside this deployment's remediation scope",
        scope=TargetScope(remediation_prefixes=("sandbox-",)),
    )


def test_authorize_refuses_when_the_snapshot_was_edited_after_the_approval(storage: Storage) -> None:
    # Given an approved audit, then the stored snapshot is edited (plans are unchanged by the edit)
    storage.approved()

    def edit(snapshot: dict[str, Any]) -> None:
        snapshot["config"]["tags"] = {"state": "ok", "value": {"edited": "yes"}, "reason": None}

    storage.edit_checkpoint(AUDIT, "discovery", edit)
    # When / Then the digest of the re-planned plans with the snapshot is not the approved one
    _refused(storage, "not the plans the person approved")


def test_authorize_refuses_when_a_rolled_back_plan_was_edited_in_storage(
    storage: Storage, clients: ClientFactory
) -> None:
    # Given a rollback approved over the plans Apply recorded for the original audit
    _applied_original(storage, clients)
    _rollback_audit(storage)
    storage.decide()
    assert _authorize(storage).plans  # the record as Apply wrote it is authorized
    # When a plan in Apply's record is edited afterwards (its rollback now opens the bucket)

    def open_bucket(progress: dict[str, Any]) -> None:
        plan = next(p for p in progress["plans"] if p["apiCall"]["operation"] == "PutBucketPolicy")
        public = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}
        plan["rollback"] = ApiCall(
            service="s3",
            operation="PutBucketPolicy",
            parameters={"Bucket": BUCKET, "Policy": json.dumps(public)},
        ).to_json_dict()

    storage.edit_checkpoint(ORIGINAL, "applied", open_bucket)
    # Then
    _refused(storage, "not the plans the person approved")


def test_authorize_refuses_a_snapshot_of_another_bucket_than_the_request_names(
    storage: Storage, session: boto3.Session
) -> None:
    # Given the request names BUCKET, the stored snapshot is of another bucket, and a decision
    # binds the plans of that snapshot (their digest matches)
    session.client("s3").create_bucket(Bucket=OTHER_BUCKET)
    storage.request(resource=BUCKET)
    snapshot = storage.discover_and_analyze(bucket=OTHER_BUCKET)
    findings = analyze(snapshot, SETTINGS).findings
    ids = default_remediation_ids(plan_remediations(snapshot, findings, SETTINGS).plans)
    plans = replan(snapshot, findings, SETTINGS, ids)
    storage.seal_decision(_decision(ids, plan_digest(plans, snapshot)))
    # When / Then
    _refused(storage, f"snapshot is of '{OTHER_BUCKET}'")


def _decision(ids: list[str], digest: str) -> Decision:
    return Decision(
        audit_id=AUDIT,
        resource=ResourceRef(id=BUCKET),
        mode="remediate",
        decision="approve",
        remediation_ids=ids,
        plan_digest=digest,
        approver=APPROVER,
        requested_by=REQUESTER,
        decided_at=DECIDED_AT,
    )


def test_authorize_refuses_an_approved_plan_that_targets_another_bucket(
    storage: Storage, clients: ClientFactory
) -> None:
    # Given Apply's record of the original audit holds a plan whose rollback writes another bucket
    # (its resourceId still says the audited one), and the API sealed an approval of that rollback
    _applied_original(storage, clients)

    def retarget(progress: dict[str, Any]) -> None:
        plan = next(p for p in progress["plans"] if p["apiCall"]["operation"] == "PutBucketPolicy")
        plan["rollback"]["parameters"]["Bucket"] = OTHER_BUCKET

    storage.edit_checkpoint(ORIGINAL, "applied", retarget)
    _rollback_audit(storage)
    storage.decide()
    # When / Then
    _refused(storage, f"targets '{OTHER_BUCKET}', not the audited '{BUCKET}'")


def test_authorize_refuses_an_approved_operation_that_no_fix_emits(
    storage: Storage, clients: ClientFactory
) -> None:
    # Given Apply's record holds a plan whose rollback is DeleteBucket, and a sealed approval of it
    _applied_original(storage, clients)

    def delete_bucket(progress: dict[str, Any]) -> None:
        plan = next(p for p in progress["plans"] if p["apiCall"]["operation"] == "PutBucketPolicy")
        plan["rollback"] = ApiCall(
            service="s3", operation="DeleteBucket", parameters={"Bucket": BUCKET}
        ).to_json_dict()

    storage.edit_checkpoint(ORIGINAL, "applied", delete_bucket)
    _rollback_audit(storage)
    storage.decide()
    # When / Then
    _refused(storage, "s3:DeleteBucket is not a fix")


@pytest.mark.parametrize("remediation_id", ["s3control.put_public_access_block", "s3.enable_versioning"])
def test_authorize_refuses_an_account_wide_or_irreversible_plan_approved_by_default(
    storage: Storage, remediation_id: str
) -> None:
    # Given a decision whose default selection (nothing named) includes a plan that must be named
    storage.request()
    storage.discover_and_analyze()
    proposal_ids = storage.decision().remediation_ids
    storage.seal_decision(
        storage.decision(remediation_ids=[*proposal_ids, remediation_id], selection="default")
    )
    # When / Then
    _refused(storage, "must be named by id")


# --- the gate's parts ---------------------------------------------------------------------------


def test_check_targets_refuses_another_bucket_another_account_and_unknown_operations(
    storage: Storage, plans: list[Plan], session: boto3.Session
) -> None:
    # Given the plans of BUCKET and its snapshot
    request = storage.request()
    snapshot = discover_bucket(BUCKET, session)
    check_targets(plans, request, snapshot)  # the honest plans pass
    bucket_plan = next(p for p in plans if p.api_call.service == "s3")
    account_plan = next(p for p in plans if p.api_call.service == "s3control")

    def edited(plan: Plan, **call: Any) -> Plan:
        return plan.model_copy(update={"api_call": plan.api_call.model_copy(update=call)})

    cases = {
        "targets 'someone-elses-bucket'": edited(
            bucket_plan, parameters={**bucket_plan.api_call.parameters, "Bucket": OTHER_BUCKET}
        ),
        "targets '999999999999'": edited(
            account_plan, parameters={**account_plan.api_call.parameters, "AccountId": "999999999999"}
        ),
        "s3:PutBucketReplication is not a fix": edited(bucket_plan, operation="PutBucketReplication"),
    }
    # When / Then each forged plan is refused
    for message, plan in cases.items():
        with pytest.raises(ApprovalInvalid, match=message):
            check_targets([plan], request, snapshot)


def test_replan_of_two_policy_edits_carries_only_their_own_statements(session: boto3.Session) -> None:
    # Given a policy that is public, grants a foreign account and does not enforce TLS:
    # three remediations edit the one policy document, each on top of the previous one
    public = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{BUCKET}/*"}  # fmt: skip
    foreign = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
               "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}  # fmt: skip
    s3 = session.client("s3")
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public, foreign]})
    )
    snapshot = discover_bucket(BUCKET, session)
    findings = analyze(snapshot, SETTINGS).findings
    full = plan_remediations(snapshot, findings, SETTINGS).plans
    policy_edits = [p.remediation_id for p in full if p.api_call.operation == "PutBucketPolicy"]
    assert policy_edits == [
        "s3.restrict_public_policy_statements",
        "s3.add_deny_insecure_transport",
        "s3.remove_untrusted_principals",
    ]
    # When only the last two are approved
    chosen = ["s3.add_deny_insecure_transport", "s3.remove_untrusted_principals"]
    subset = replan(snapshot, findings, SETTINGS, chosen)
    # Then the policy they write has their edits and not the unapproved restriction of the public grant
    assert [p.remediation_id for p in subset] == chosen
    final = json.loads(subset[-1].api_call.parameters["Policy"])
    sids = [s.get("Sid") for s in final["Statement"]]
    assert "Public" in sids and "Partner" not in sids and any("Insecure" in (s or "") for s in sids)
    assert next(s for s in final["Statement"] if s.get("Sid") == "Public") == public  # left as it was
    assert "aws:PrincipalAccount" not in json.dumps(final)
    # and the last plan of the full proposal (which carries the restriction) is not what is approved
    assert "aws:PrincipalAccount" in full_policy(full)
    # and each plan keeps the id it has in the full proposal
    ids = {p.remediation_id: p.plan_id for p in full}
    assert [p.plan_id for p in subset] == [ids[r] for r in chosen]


def full_policy(plans: list[Plan]) -> str:
    """The policy the last policy-editing plan writes."""
    return [p for p in plans if p.api_call.operation == "PutBucketPolicy"][-1].api_call.parameters["Policy"]


def _result(plan: Plan, status: ApplyStatus) -> ApplyResult:
    return ApplyResult(plan_id=plan.plan_id, remediation_id=plan.remediation_id, check_ids=plan.check_ids,
                       status=status)  # fmt: skip


def _progress(plans: list[Plan], statuses: dict[str, ApplyStatus]) -> ApplyProgress:
    results = [_result(p, statuses.get(p.remediation_id, ApplyStatus.APPLIED)) for p in plans]
    return ApplyProgress(
        audit_id=ORIGINAL, plan_digest="d", plans=plans, results=results,
        applied_count=sum(r.status is ApplyStatus.APPLIED for r in results), failed_count=0, complete=True,
    )  # fmt: skip


def test_rollback_plans_undo_what_was_applied_newest_first(plans: list[Plan], before: Any) -> None:
    # Given Apply's record (no object lock): the plans needing manual input SKIPPED, the rest APPLIED
    plans = [p for p in plans if p.remediation_id != "s3.enable_object_lock"]
    skipped = {p.remediation_id: ApplyStatus.SKIPPED for p in plans if p.manual_inputs}
    progress = _progress(plans, skipped)
    # When
    rollbacks, expected = rollback_plans(progress, before.findings)
    # Then every applied plan is undone, the newest first, by its own rollback call
    applied = [p for p in plans if p.remediation_id not in skipped]
    assert skipped and all(p.rollback for p in applied)
    assert [p.plan_id for p in rollbacks] == [f"rollback-{p.plan_id}" for p in reversed(applied)]
    assert [p.order for p in rollbacks] == list(range(1, len(rollbacks) + 1))
    for rollback, original in zip(rollbacks, reversed(applied), strict=True):
        assert (rollback.api_call, rollback.rollback) == (original.rollback, original.api_call)
        assert rollback.remediation_id == f"rollback:{original.remediation_id}"
        assert rollback.risk == ROLLBACK_RISK and rollback.check_ids == original.check_ids
    # and each rolled-back check must get its verdict from before the fix back
    verdicts = {f.check_id: f.status.value for f in before.findings}
    assert expected == {c: verdicts[c] for p in applied for c in p.check_ids}
    assert set(expected.values()) == {Status.FAIL.value}


def test_rollback_plans_keep_versioning_while_object_lock_stays(plans: list[Plan], before: Any) -> None:
    # Given every plan was applied, object lock (which has no rollback) included
    versioning = {p.remediation_id for p in plans if p.api_call.operation == "PutBucketVersioning"}
    assert versioning == {"s3.enable_versioning", "s3.enable_mfa_delete"}
    # When the rollbacks are planned with object lock staying, and without it (it had failed)
    with_lock, _ = rollback_plans(_progress(plans, {}), before.findings)
    without_lock, _ = rollback_plans(
        _progress(plans, {"s3.enable_object_lock": ApplyStatus.FAILED}), before.findings
    )

    # Then versioning is pinned while object lock stays (S3 refuses to suspend it), not otherwise
    def undone(rollbacks: list[Plan]) -> set[str]:
        return {p.remediation_id.removeprefix("rollback:") for p in rollbacks}

    assert not versioning & undone(with_lock)
    assert versioning <= undone(without_lock)
    assert undone(with_lock) == undone(without_lock) - versioning
    assert "s3.enable_object_lock" not in undone(with_lock) | undone(without_lock)


def test_default_selection_leaves_out_account_wide_and_irreversible_plans(plans: list[Plan]) -> None:
    default = default_remediation_ids(plans)
    named_only = {p.remediation_id for p in plans if needs_naming(p)}
    assert named_only == {
        "s3control.put_public_access_block",
        "s3.enable_versioning",
        "s3.enable_object_lock",
    }
    assert default == [
        p.remediation_id for p in sorted(plans, key=lambda p: p.order) if p.remediation_id not in named_only
    ]


# --- helpers: an original audit applied, and its rollback audit -----------------------------------


def _applied_original(storage: Storage, clients: ClientFactory) -> ApplyProgress:
    """The original audit, approved and applied: Apply's record of it is its checkpoint."""
    decision = storage.approved(ORIGINAL)
    authorized = _authorize(storage, ORIGINAL)
    return apply_plans(
        ORIGINAL,
        authorized.plans,
        decision.plan_digest or "",
        None,
        lambda progress: storage.checkpoint(ORIGINAL, "applied", progress.to_json_dict()),
        clients=clients,
    )


def _rollback_audit(storage: Storage) -> None:
    storage.request(AUDIT, mode="rollback", rollback_of=ORIGINAL)
    storage.discover_and_analyze(AUDIT)


def test_authorize_accepts_a_rollback_of_what_the_original_audit_applied(
    storage: Storage, clients: ClientFactory
) -> None:
    # Given the original audit applied its approved plans, and a rollback of it was approved
    progress = _applied_original(storage, clients)
    _rollback_audit(storage)
    decision = storage.decide()
    # When
    authorized = _authorize(storage)
    # Then the rollbacks of exactly the applied plans are authorized, newest first
    applied = [r.plan_id for r in progress.results if r.status is ApplyStatus.APPLIED]
    assert [p.plan_id for p in authorized.plans] == [f"rollback-{i}" for i in reversed(applied)]
    assert [p.remediation_id for p in authorized.plans] == decision.remediation_ids
    assert authorized.proposal.expected  # the verdicts the checks must have again


def test_authorize_refuses_a_rollback_of_an_audit_of_another_bucket(
    storage: Storage, clients: ClientFactory, session: boto3.Session
) -> None:
    # Given the original audit was of BUCKET, and a rollback request names another bucket
    _applied_original(storage, clients)
    session.client("s3").create_bucket(Bucket=OTHER_BUCKET)
    storage.request(AUDIT, resource=OTHER_BUCKET, mode="rollback", rollback_of=ORIGINAL)
    storage.discover_and_analyze(AUDIT, bucket=OTHER_BUCKET)
    # When / Then
    _refused(storage, f"was not an audit of '{OTHER_BUCKET}'")
