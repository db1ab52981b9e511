"""Workflow tool handlers (await approval, recheck, apply, verify, report) on moto.

They take ids from the execution and everything that decides a change from storage: the request
and decision the API sealed, the checkpoints of the steps before them.
"""

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdas import apply, await_approval, deps, recheck, report, verify
from lambdas.observability import logger
from secagent.aws import ClientFactory
from secagent.models import InvalidInput, ResourceRef, TransientError
from secagent.models.errors import ApprovalInvalid, AuditNotRequested, StoreUnavailable
from secagent.workflow.approval import approval_key
from secagent.workflow.gate import DECISION_LIFETIME, default_remediation_ids, load_proposal, needs_naming
from secagent.workflow.settings import WorkflowSettings
from secagent.workflow.store import decision_key, token_key, write_object
from tests.unit.awsfakes import failing_clients
from tests.unit.lambdas.conftest import Tools, clear_deps, inject_faults
from tests.unit.lambdas.fakes import FakeLambdaContext
from tests.unit.lambdas.test_handlers import event, execution_arn
from tests.unit.workflow.conftest import (
    APPROVER,
    AUDIT,
    BUCKET,
    REPORTS,
    REQUESTER,
    SETTINGS,
    record_calls,
    record_events,
)

TOKEN = event("await_approval")["taskToken"]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Everything the Powertools logger writes during the test (its stream is bound at import)."""
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]


def _object(tools: Tools, key: str) -> dict[str, Any] | None:
    s3 = tools.session.client("s3")
    if "Contents" not in s3.list_objects_v2(Bucket=REPORTS, Prefix=key):
        return None
    return json.loads(s3.get_object(Bucket=REPORTS, Key=key)["Body"].read())


def _stored(tools: Tools, name: str) -> dict[str, Any]:
    """The full output a step stored (its state gets a summary)."""
    stored = tools.storage.load(AUDIT, name)
    assert stored is not None, f"{name} was not stored"
    return stored


def _proposed(tools: Tools, timeout: int = 3600) -> None:
    """An audit the API started, discovered and analyzed: it waits for a person."""
    tools.storage.request(AUDIT, timeout=timeout)
    tools.storage.discover_and_analyze(AUDIT)


def _use(monkeypatch: pytest.MonkeyPatch, clients: ClientFactory) -> None:
    """The handlers' clients from now on (a new warm environment)."""
    monkeypatch.setattr(deps, "client_factory", lambda *_, **__: clients)
    clear_deps()


# --- Await Approval --------------------------------------------------------------------------------


def test_await_approval_handler_stores_token_apart_and_never_logs_or_returns_it(
    tools: Tools, logs: io.StringIO
) -> None:
    # Given a proposed audit
    _proposed(tools)
    sent = record_events(tools.session)
    # When
    out = await_approval.handler(event("await_approval"), FakeLambdaContext())
    # Then the token is in tokens/ alone
    assert out == {"auditId": AUDIT, "status": "PENDING", "expiresAt": out["expiresAt"]}
    assert _object(tools, token_key(AUDIT, AUDIT)) == {
        "auditId": AUDIT,
        "execution": AUDIT,
        "taskToken": TOKEN,
    }
    record = _object(tools, approval_key(AUDIT))
    assert record is not None and TOKEN not in json.dumps(record)
    logged = logs.getvalue()
    assert "approval requested" in logged and AUDIT in logged
    assert TOKEN not in logged + json.dumps(out) + json.dumps(sent)
    assert [e["DetailType"] for e in sent] == ["Approval Requested"]
    # and the pending record shows the proposal from storage, as the API will check it
    proposal = load_proposal(AUDIT, REPORTS, SETTINGS, tools.storage.sealer, tools.clients)
    default = default_remediation_ids(proposal.plans)
    assert [p["planId"] for p in record["plans"]] == [p.plan_id for p in proposal.plans]
    assert record["defaultRemediationIds"] == default
    assert record["planDigest"] == tools.storage.decision().plan_digest  # what a plain approval quotes
    assert record["namedOnly"] == {
        p.remediation_id: needs_naming(p) for p in proposal.plans if needs_naming(p)
    }
    assert set(record["namedOnly"]) == {
        "s3control.put_public_access_block",
        "s3.enable_versioning",
        "s3.enable_object_lock",
    }
    assert record["requestedBy"] == REQUESTER and record["status"] == "PENDING"
    assert tools.sfn.successes == []


def test_await_approval_handler_deadline_comes_from_the_sealed_request(tools: Tools) -> None:
    # Given the API sealed a 10-minute approval window; the input claims a week
    _proposed(tools, timeout=600)
    # When
    await_approval.handler({**event("await_approval"), "timeoutSeconds": 604800}, FakeLambdaContext())
    # Then
    record = _object(tools, approval_key(AUDIT))
    assert record is not None
    requested, expires = (datetime.fromisoformat(record[k]) for k in ("requestedAt", "expiresAt"))
    assert expires - requested == timedelta(seconds=600)


def test_await_approval_handler_without_a_sealed_request_stores_no_token(tools: Tools) -> None:
    with pytest.raises(ApprovalInvalid):
        await_approval.handler(event("await_approval"), FakeLambdaContext())
    assert _object(tools, token_key(AUDIT, AUDIT)) is None and _object(tools, approval_key(AUDIT)) is None


def test_await_approval_handler_bad_event_raises_invalid_input_without_token(
    tools: Tools, logs: io.StringIO
) -> None:
    bad = {"taskToken": TOKEN}  # no auditId
    with pytest.raises(InvalidInput) as err:
        await_approval.handler(bad, FakeLambdaContext())
    assert TOKEN not in str(err.value) + logs.getvalue()


def test_await_approval_handler_resumed_after_a_decision_wakes_the_execution_itself(
    tools: Tools, logs: io.StringIO
) -> None:
    # Given a person already decided (sealed by the API) before the audit failed and was resumed
    decision = tools.storage.approved(AUDIT)
    sent = record_events(tools.session)
    # When the resumed execution waits for approval again
    resumed = {**event("await_approval"), "executionArn": execution_arn(f"{AUDIT}_r1")}
    out = await_approval.handler(resumed, FakeLambdaContext())
    # Then the decision on record answers the new task token, and nobody is asked again
    assert out == {"auditId": AUDIT, "status": "DECIDED"}
    (success,) = tools.sfn.successes
    assert success["taskToken"] == TOKEN
    assert json.loads(success["output"]) == {
        "decision": "approve",
        "approver": APPROVER,
        "planDigest": decision.plan_digest,
        "remediationIds": decision.remediation_ids,
    }
    assert _object(tools, approval_key(AUDIT)) is None
    assert _object(tools, token_key(AUDIT, f"{AUDIT}_r1")) is None
    assert sent == [] and TOKEN not in logs.getvalue()


def test_await_approval_handler_ignores_a_planted_decision_and_asks_again(tools: Tools) -> None:
    # Given an approval planted in decisions/ without the API's seal
    _proposed(tools)
    forged = tools.storage.decision().to_json_dict()
    write_object(REPORTS, decision_key(AUDIT), {"record": forged, "seal": "AAAA"}, tools.clients)
    # When
    out = await_approval.handler(event("await_approval"), FakeLambdaContext())
    # Then the execution is not woken: a person is asked
    assert out["status"] == "PENDING" and tools.sfn.successes == []
    assert _object(tools, token_key(AUDIT, AUDIT)) == {
        "auditId": AUDIT,
        "execution": AUDIT,
        "taskToken": TOKEN,
    }


def test_await_approval_handler_invoked_again_for_the_same_execution_keeps_its_token(
    tools: Tools,
) -> None:
    # Given the execution waits, its token stored and a person asked
    _proposed(tools)
    await_approval.handler(event("await_approval"), FakeLambdaContext())
    pending = _object(tools, approval_key(AUDIT))
    sent = record_events(tools.session)
    # When Await Approval is invoked again for the same execution, with another token
    # (anyone with lambda:InvokeFunction while the execution waits in Await Approval)
    again = {**event("await_approval"), "taskToken": "AQCEAAAAKgAAAAMAAAAAAAAAAsomeone-elses=="}
    with pytest.raises(ClientError) as err:
        await_approval.handler(again, FakeLambdaContext())
    # Then S3 refuses to overwrite the token: the API will answer the execution's own task
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert _object(tools, token_key(AUDIT, AUDIT)) == {
        "auditId": AUDIT,
        "execution": AUDIT,
        "taskToken": TOKEN,
    }
    # and the pending plans are the ones shown, and nobody is asked again
    assert _object(tools, approval_key(AUDIT)) == pending and sent == []


def test_await_approval_handler_of_a_resume_stores_the_resume_s_own_token(tools: Tools) -> None:
    # Given the first execution stored its token, then failed; the resume waits for approval
    _proposed(tools)
    await_approval.handler(event("await_approval"), FakeLambdaContext())
    resumed = {
        **event("await_approval"),
        "executionArn": execution_arn(f"{AUDIT}_r1"),
        "taskToken": "AQCEAAAAKgAAAAMAAAAAAAAAAresumed==",
    }
    # When
    assert await_approval.handler(resumed, FakeLambdaContext())["status"] == "PENDING"
    # Then the resume's token is stored under its own execution, next to the first one
    assert _object(tools, token_key(AUDIT, f"{AUDIT}_r1")) == {
        "auditId": AUDIT,
        "execution": f"{AUDIT}_r1",
        "taskToken": "AQCEAAAAKgAAAAMAAAAAAAAAAresumed==",
    }
    first = _object(tools, token_key(AUDIT, AUDIT))
    assert first is not None and first["taskToken"] == TOKEN


# --- Recheck Configuration -------------------------------------------------------------------------


def test_recheck_handler_unchanged_configuration_is_current_for_the_approved_plans(tools: Tools) -> None:
    # Given an approved audit (a plain approval: no object lock, no account-wide plan)
    tools.storage.approved(AUDIT)
    # When
    summary = recheck.handler(event("recheck"), FakeLambdaContext())
    # Then only what the approved plans touch is checked; the state gets the verdict, the report
    # the stored check
    assert summary == {"stale": False, "changedFields": []}
    out = _stored(tools, "planCheck")
    assert out["stale"] is False and out["differences"] == []
    assert "encryption" in out["checkedFields"] and "publicAccessBlock" in out["checkedFields"]
    assert not {"objectLock", "accountPublicAccessBlock"} & set(out["checkedFields"])


def test_recheck_handler_change_to_an_approved_field_is_stale(tools: Tools) -> None:
    tools.storage.approved(AUDIT)
    tools.session.client("s3control").put_public_access_block(  # the account-wide plan: not approved
        AccountId="123456789012",
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )
    assert recheck.handler(event("recheck"), FakeLambdaContext())["stale"] is False
    s3 = tools.session.client("s3")
    s3.put_bucket_encryption(  # approved: put_default_encryption
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        },
    )
    assert recheck.handler(event("recheck"), FakeLambdaContext()) == {
        "stale": True,
        "changedFields": ["encryption"],
    }
    out = _stored(tools, "planCheck")
    assert out["stale"] is True and [d["field"] for d in out["differences"]] == ["encryption"]


def test_recheck_handler_without_a_decision_raises_approval_invalid(tools: Tools) -> None:
    _proposed(tools)
    with pytest.raises(ApprovalInvalid):
        recheck.handler(event("recheck"), FakeLambdaContext())


def test_recheck_handler_resumed_after_a_partial_apply_does_not_count_its_own_changes(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given Apply applied the first plans, then failed on a 503 (the audit was resumed)
    decision = tools.storage.approved(AUDIT)
    failing, _ = failing_clients(tools.session, {"s3.PutBucketEncryption": (503, "SlowDown")})
    _use(monkeypatch, failing)
    with pytest.raises(TransientError):
        apply.handler(event("apply"), FakeLambdaContext())
    _use(monkeypatch, tools.clients)
    # When the configuration is rechecked
    recheck.handler(event("recheck"), FakeLambdaContext())
    out = _stored(tools, "planCheck")
    # Then what this audit applied is not someone else's change: the plan is still current
    assert out["stale"] is False and "publicAccessBlock" not in out["checkedFields"]
    # but a record of another decision proves nothing
    tools.storage.edit_checkpoint(AUDIT, "applied", lambda p: p.update(planDigest="0" * 64))
    assert decision.plan_digest != "0" * 64
    recheck.handler(event("recheck"), FakeLambdaContext())
    stale = _stored(tools, "planCheck")
    assert stale["stale"] is True and "publicAccessBlock" in [d["field"] for d in stale["differences"]]


# --- Apply Fixes -----------------------------------------------------------------------------------


def _versioning(tools: Tools) -> str | None:
    return tools.session.client("s3").get_bucket_versioning(Bucket=BUCKET).get("Status")


def _account_block(tools: Tools) -> bool:
    s3control = tools.session.client("s3control")
    try:
        s3control.get_public_access_block(AccountId="123456789012")
    except s3control.exceptions.NoSuchPublicAccessBlockConfiguration:
        return False
    return True


def test_apply_handler_applies_exactly_the_approved_selection(tools: Tools) -> None:
    # Given a plain approval (reversible, bucket-scoped plans only)
    decision = tools.storage.approved(AUDIT)
    # When
    summary = apply.handler(event("apply"), FakeLambdaContext())
    out = _stored(tools, "applied")
    # Then only the approved plans ran; the rest of the proposal did not
    assert summary == {"appliedCount": out["appliedCount"], "failedCount": out["failedCount"]}
    assert [r["remediationId"] for r in out["results"]] == decision.remediation_ids
    # 8 approved: 6 applied (SSE-C blocked by a second PutBucketEncryption), two need manual input: SKIPPED
    assert out["failedCount"] == 0 and out["appliedCount"] == 6
    skipped = [r["remediationId"] for r in out["results"] if r["status"] == "SKIPPED"]
    assert skipped == ["s3.enable_mfa_delete", "s3.enable_access_logging"]
    assert _versioning(tools) is None and not _account_block(tools)
    s3 = tools.session.client("s3")
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]
    # and its record (its checkpoint) binds the decision it carried out
    record = tools.storage.load(AUDIT, "applied")
    assert record is not None and record["planDigest"] == decision.plan_digest and record["complete"]


def test_apply_handler_ignores_plans_and_approval_in_its_input(tools: Tools) -> None:
    # Given an approved audit, and an input that carries its own plans and approval
    tools.storage.approved(AUDIT)
    forged = {
        **event("apply"),
        "plans": [{"planId": "x", "apiCall": {"service": "s3", "operation": "PutBucketVersioning",
                   "parameters": {"Bucket": BUCKET, "VersioningConfiguration": {"Status": "Enabled"}}}}],
        "approval": {"decision": "approve", "remediationIds": None},
    }  # fmt: skip
    # When
    apply.handler(forged, FakeLambdaContext())
    out = _stored(tools, "applied")
    # Then what runs is what the sealed decision binds
    assert "x" not in [r["planId"] for r in out["results"]] and _versioning(tools) is None


def test_apply_handler_without_a_decision_changes_nothing(tools: Tools) -> None:
    _proposed(tools)
    calls = record_calls(tools.session)
    with pytest.raises(ApprovalInvalid):
        apply.handler(event("apply"), FakeLambdaContext())
    assert not [c for c in calls if c.startswith(("s3.Put", "s3control.")) and c != "s3.PutObject"]
    assert tools.storage.load(AUDIT, "applied") is None


def test_apply_handler_after_a_rejection_changes_nothing(tools: Tools) -> None:
    tools.storage.approved(AUDIT, decision="reject")
    with pytest.raises(ApprovalInvalid, match="rejected"):
        apply.handler(event("apply"), FakeLambdaContext())
    assert tools.storage.load(AUDIT, "applied") is None


def test_apply_handler_injected_fault_raises_before_any_change(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given fault injection is deployed and asks for one TransientError in apply
    tools.storage.approved(AUDIT)
    inject_faults(monkeypatch)
    tools.sfn.execution_input = {"faults": {"apply": {"kind": "error", "times": 1}}}
    # When / Then
    with pytest.raises(TransientError):
        apply.handler(event("apply"), FakeLambdaContext())
    assert tools.storage.load(AUDIT, "applied") is None
    # and the retry (attempt 1) runs
    tools.sfn.failed_attempts = 1
    assert apply.handler(event("apply"), FakeLambdaContext())["appliedCount"] == 6


def test_apply_whose_record_is_refused_after_a_change_fails_resumable_not_access_denied(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the report bucket refuses Apply's record (a bucket policy or key problem of the
    # deployment), after a plan changed the bucket
    tools.storage.approved(AUDIT)
    failing, _ = failing_clients(tools.session, {"s3.PutObject": (403, "AccessDenied")})
    _use(monkeypatch, failing)
    # When / Then the error is the deployment's (a resumable FAILED that a resume records), never
    # the audited bucket's ACCESS_DENIED, which would end the audit hiding the change
    with pytest.raises(StoreUnavailable):
        apply.handler(event("apply"), FakeLambdaContext())
    s3 = tools.session.client("s3")
    assert s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]


def test_apply_handler_retried_after_a_transient_error_does_not_reapply(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given PutBucketEncryption answers 503 after the earlier plans were applied
    tools.storage.approved(AUDIT)
    failing, _ = failing_clients(tools.session, {"s3.PutBucketEncryption": (503, "SlowDown")})
    _use(monkeypatch, failing)
    with pytest.raises(TransientError):
        apply.handler(event("apply"), FakeLambdaContext())
    record = tools.storage.load(AUDIT, "applied")
    assert record is not None and not record["complete"]
    done = [r["remediationId"] for r in record["results"] if r["status"] == "APPLIED"]
    assert done == [
        "s3.put_bucket_public_access_block",
        "s3.enforce_bucket_owner",
        "s3.add_deny_insecure_transport",
    ]
    # When Step Functions retries the task
    _use(monkeypatch, tools.clients)
    calls = record_calls(tools.session)
    out = apply.handler(event("apply"), FakeLambdaContext())
    # Then only the rest is applied, and the result covers every approved plan
    writes = [c for c in calls if c.startswith("s3.Put") and c != "s3.PutObject"]
    # (default encryption, then the SSE-C block that builds on it, then the lifecycle rule)
    assert writes == [
        "s3.PutBucketEncryption",
        "s3.PutBucketEncryption",
        "s3.PutBucketLifecycleConfiguration",
    ]
    assert out["appliedCount"] == 6 and out["failedCount"] == 0


def test_apply_handler_complete_record_of_this_decision_is_returned_without_applying(tools: Tools) -> None:
    tools.storage.approved(AUDIT)
    first = apply.handler(event("apply"), FakeLambdaContext())
    calls = record_calls(tools.session)
    assert apply.handler(event("apply"), FakeLambdaContext()) == first
    assert not [c for c in calls if c.startswith("s3.Put")]


def test_apply_handler_record_of_another_decision_is_not_trusted(tools: Tools) -> None:
    # Given a record claiming every plan was applied, for another digest
    tools.storage.approved(AUDIT)
    first = apply.handler(event("apply"), FakeLambdaContext())
    tools.session.client("s3").delete_public_access_block(Bucket=BUCKET)  # undone meanwhile
    tools.storage.edit_checkpoint(AUDIT, "applied", lambda p: p.update(planDigest="0" * 64))
    # When
    calls = record_calls(tools.session)
    out = apply.handler(event("apply"), FakeLambdaContext())
    # Then the approved plans are applied for this decision
    assert "s3.PutPublicAccessBlock" in calls and out["appliedCount"] == first["appliedCount"]


@pytest.mark.parametrize(
    "environment",
    [{"PROTECTED_BUCKETS": f"{REPORTS},{BUCKET}"}, {"REMEDIATION_PREFIXES": "sandbox-,scratch-"}],
    ids=["protected", "out-of-scope"],
)
@pytest.mark.parametrize("step", [recheck, apply], ids=["recheck", "apply"])
def test_recheck_and_apply_refuse_a_bucket_the_deployment_does_not_remediate(
    tools: Tools, monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], step: Any
) -> None:
    # Given an approval the API sealed, and a deployment (its environment) that protects the bucket
    # or remediates only other buckets (the stack sets these on Recheck and Apply too)
    tools.storage.approved(AUDIT)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    clear_deps()
    calls = record_calls(tools.session)
    # When / Then the gate refuses it, whatever was approved
    with pytest.raises(ApprovalInvalid, match="protected or outside"):
        step.handler(event(step.__name__.rsplit(".", 1)[-1]), FakeLambdaContext())
    assert not [c for c in calls if c.startswith(("s3.Put", "s3.Delete", "s3control."))]
    assert tools.storage.load(AUDIT, "applied") is None


def test_apply_handler_refuses_a_decision_older_than_its_lifetime(tools: Tools) -> None:
    # Given a person approved eight days ago (the audit failed and was resumed late)
    tools.storage.approved(AUDIT, decided_at=datetime.now(UTC) - DECISION_LIFETIME - timedelta(days=1))
    calls = record_calls(tools.session)
    # When / Then
    with pytest.raises(ApprovalInvalid, match="older than 7 days"):
        apply.handler(event("apply"), FakeLambdaContext())
    assert not [c for c in calls if c.startswith(("s3.Put", "s3.Delete", "s3control."))]
    assert tools.storage.load(AUDIT, "applied") is None


# --- Verify Fixes ----------------------------------------------------------------------------------


def _verifiable(tools: Tools, results: list[dict[str, Any]], expected: dict[str, str] | None = None) -> None:
    """What Verify reads from storage: the stored snapshot and findings, Apply's record of what
    it applied (``results``), and the verdicts Propose Fixes stored as expected (a rollback)."""
    tools.storage.request(AUDIT)
    tools.storage.discover_and_analyze(AUDIT)
    tools.storage.checkpoint(
        AUDIT, "remediation", {"auditId": AUDIT, "plans": [], "expected": expected or {}}
    )
    applied = sum(r["status"] == "APPLIED" for r in results)
    record = {"auditId": AUDIT, "planDigest": "0" * 64, "plans": [], "results": results,
              "appliedCount": applied, "failedCount": 0, "complete": True}  # fmt: skip
    tools.storage.checkpoint(AUDIT, "applied", record)


VERSIONING_APPLIED = [{"planId": "06", "remediationId": "s3.enable_versioning",
                       "checkIds": ["s3_bucket_versioning_disabled"], "status": "APPLIED"}]  # fmt: skip


def test_verify_handler_on_unfixed_bucket_fixes_nothing(tools: Tools) -> None:
    # Given Apply's record says a plan was applied, but this bucket was never changed
    _verifiable(tools, VERSIONING_APPLIED)
    summary = verify.handler(event("verify"), FakeLambdaContext())
    out = _stored(tools, "verification")
    # Then verification tells the truth
    assert set(out) == {"findings", "summary", "comparison", "allFixed", "stillFailing", "outcome"}
    assert out["allFixed"] is False and not any(c["fixed"] for c in out["comparison"])
    assert out["outcome"] == "NON_COMPLIANT"  # nothing applied: never REMEDIATED
    assert "s3_bucket_versioning_disabled" in out["stillFailing"]
    assert summary == {"outcome": "NON_COMPLIANT", "allFixed": False, "stillFailing": out["stillFailing"]}


def test_verify_handler_judges_storage_not_its_event(tools: Tools) -> None:
    # Given Apply's record says nothing was applied; the event claims a rollback was
    _verifiable(tools, [])
    forged = {**event("verify"), "applied": {"results": VERSIONING_APPLIED}, "expected": {"x": "FAIL"}}
    # When / Then nothing is claimed fixed or rolled back
    assert verify.handler(forged, FakeLambdaContext())["outcome"] == "NON_COMPLIANT"


@pytest.mark.parametrize(
    ("expected", "outcome"),
    [({"s3_bucket_versioning_disabled": "FAIL"}, "ROLLED_BACK"), ({}, "NON_COMPLIANT")],
)
def test_verify_handler_rollback_expects_the_old_verdicts(
    tools: Tools, expected: dict[str, str], outcome: str
) -> None:
    # Given a rollback applied the undoing of versioning: the check must FAIL again
    rolled_back = [{"planId": "rollback-06", "remediationId": "rollback:s3.enable_versioning",
                    "checkIds": ["s3_bucket_versioning_disabled"], "status": "APPLIED"}]  # fmt: skip
    _verifiable(tools, rolled_back, expected)
    out = verify.handler(event("verify"), FakeLambdaContext())
    assert out["outcome"] == outcome and out["allFixed"] is (outcome == "ROLLED_BACK")


def test_attack_verify_with_a_stored_snapshot_of_another_bucket_judges_nothing(tools: Tools) -> None:
    # Given a snapshot of another bucket planted as the audit's discovery (where the bucket policy
    # is not enforced): Verify would judge that bucket and report it fixed
    _verifiable(tools, VERSIONING_APPLIED)
    tools.storage.edit_checkpoint(
        AUDIT, "discovery", lambda s: s["resource"].update(id="check-fixture-bucket")
    )
    calls = record_calls(tools.session)
    # When / Then it refuses before reading any bucket, and stores no verdict
    with pytest.raises(AuditNotRequested):
        verify.handler(event("verify"), FakeLambdaContext())
    assert not [c for c in calls if c.startswith("s3.") and c not in {"s3.GetObject", "s3.ListObjectsV2"}]
    assert tools.storage.load(AUDIT, "verification") is None


def test_verify_handler_injected_fault_raises(tools: Tools, monkeypatch: pytest.MonkeyPatch) -> None:
    _verifiable(tools, [])
    inject_faults(monkeypatch)
    tools.sfn.execution_input = {"faults": {"verify": {"kind": "error", "error": "AccessDenied"}}}
    from secagent.models import AccessDenied

    with pytest.raises(AccessDenied):
        verify.handler(event("verify"), FakeLambdaContext())
    assert tools.storage.load(AUDIT, "verification") is None


# --- Write Report ----------------------------------------------------------------------------------


# The history of an execution that recorded Verify's outcome, then entered Write Report
VERIFIED_THEN_REPORTED = [
    {"type": "PassStateEntered", "stateEnteredEventDetails": {"name": "Record Verified Outcome"}},
    {"type": "PassStateExited", "stateExitedEventDetails": {"name": "Record Verified Outcome"}},
    {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Write Report"}},
]


def _store_outputs(tools: Tools) -> None:
    """The outputs the steps of tests/events/report.json's execution stored (its state has summaries)."""
    stored = json.loads((Path(__file__).parents[2] / "events" / "stored_outputs.json").read_text())
    for name in ("remediation", "planCheck", "applied", "verification"):
        tools.storage.checkpoint(AUDIT, name, stored[name])


def test_report_handler_writes_report_from_history_and_records(tools: Tools) -> None:
    # Given an audit the API sealed and a person approved, whose steps stored their outputs, and
    # a real (moto) execution
    decision = tools.storage.approved(AUDIT)
    _store_outputs(tools)
    tools.use_moto_sfn, tools.history = True, VERIFIED_THEN_REPORTED
    sfn = tools.session.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="secagent-audit",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/secagent-sfn",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, name=AUDIT)["executionArn"]
    sent = record_events(tools.session)
    # When
    out = report.handler({**event("report"), "executionArn": arn}, FakeLambdaContext())
    # Then
    assert out == {"auditId": AUDIT, "outcome": "PARTIALLY_REMEDIATED", "reportKey": f"reports/{AUDIT}.json"}
    stored = _object(tools, out["reportKey"])
    assert stored is not None and stored["auditId"] == AUDIT
    assert stored["steps"] == [] and stored["executions"] == [AUDIT]  # moto's history has no Task state
    assert [e["DetailType"] for e in sent] == ["Audit Completed"]
    # and who asked and who approved are the sealed records', not the state's
    assert stored["requestedBy"] == f"{REQUESTER}/session"
    assert stored["approval"]["approver"] == f"{APPROVER}/session"
    assert stored["approval"]["remediationIds"] == decision.remediation_ids


def test_report_handler_reports_the_audit_of_its_execution_not_the_one_in_the_state(
    tools: Tools,
) -> None:
    # Given a resume of an approved audit (a real, moto, execution), whose state names another audit
    tools.storage.approved(AUDIT)
    tools.use_moto_sfn = True
    sfn = tools.session.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="secagent-audit",
        definition=json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/secagent-sfn",
    )["stateMachineArn"]
    sfn.start_execution(stateMachineArn=machine, name=AUDIT)
    arn = sfn.start_execution(stateMachineArn=machine, name=f"{AUDIT}_r1")["executionArn"]
    state = {**event("report")["state"], "auditId": "audit-20250301-9999"}
    # When
    out = report.handler({"executionArn": arn, "state": state}, FakeLambdaContext())
    # Then the report is the execution's audit's, confirmed for that audit, nothing of the other
    assert out["auditId"] == AUDIT and out["reportKey"] == f"reports/{AUDIT}.json"
    assert tools.confirmations == [(arn, AUDIT, ("Write Report", "Write Failure Report"))]
    assert _object(tools, "reports/audit-20250301-9999.json") is None
    stored = _object(tools, out["reportKey"])
    assert stored is not None and stored["executions"] == [AUDIT, f"{AUDIT}_r1"]


def test_report_handler_missing_state_raises_invalid_input(tools: Tools) -> None:
    with pytest.raises(InvalidInput):
        report.handler({"executionArn": "arn:aws:states:us-east-1:1:execution:m:a"}, FakeLambdaContext())


# --- settings ----------------------------------------------------------------------------------------


def test_workflow_settings_from_environment() -> None:
    settings = WorkflowSettings.from_env(
        {"REPORT_BUCKET": "reports-bucket", "EVENT_BUS_NAME": "", "SEAL_KEY_ID": "arn:aws:kms:k"}
    )
    assert (settings.report_bucket, settings.event_bus_name, settings.seal_key_id) == (
        "reports-bucket",
        "default",
        "arn:aws:kms:k",
    )
    with pytest.raises(ValueError):
        WorkflowSettings.from_env({})


def test_deps_are_built_once_per_environment_from_its_variables(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the environment of a cold start
    monkeypatch.setenv("EVENT_BUS_NAME", "SecurityAgentEvents")
    clear_deps()
    # Then the tools read it once, and keep it while warm
    built = deps.deps()
    assert (built.report_bucket, built.env.workflow.event_bus_name) == (REPORTS, "SecurityAgentEvents")
    assert built.env.workflow.seal_key_id == tools.seal_key and built.env.fault_injection is False
    monkeypatch.setenv("EVENT_BUS_NAME", "another")
    assert deps.deps() is built and deps.deps().env.workflow.event_bus_name == "SecurityAgentEvents"


def test_the_tool_environment_is_one_model_read_from_the_variables() -> None:
    env = deps.ToolEnvironment.from_env(
        {
            "REPORT_BUCKET": "reports-bucket",
            "SEAL_KEY_ID": "arn:aws:kms:k",
            "SECAGENT_REQUIRE_KMS": "true",
            "PROTECTED_BUCKETS": "keep-out",
            "SECAGENT_FAULT_INJECTION": "enabled",
        }
    )
    assert env.workflow.report_bucket == "reports-bucket" and env.analysis.require_kms
    assert env.scope.protected(ResourceRef(id="keep-out")) and env.fault_injection
    with pytest.raises(ValueError):
        deps.ToolEnvironment.from_env({})  # no report bucket: the cold start fails, before any work
