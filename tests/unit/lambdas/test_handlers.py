"""Discover, Analyze, Propose Fixes: ids in, one domain call on what storage holds, the full
output stored (load-or-compute) and a small summary out for the state (state by reference).

Discover reads only an audit the API sealed a request for; each step returns its stored
checkpoint instead of working again.
"""

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from lambdas import analyze, discover, remediate
from lambdas.checkpoint import load_or_compute
from lambdas.events import StepEvent
from secagent.models import ApplyStatus, InvalidInput, ResourceNotFound
from secagent.models.errors import AuditNotRequested
from secagent.workflow.apply import apply_plans
from secagent.workflow.gate import authorize
from secagent.workflow.store import KmsSealer, request_key, write_object
from tests.unit.lambdas.conftest import Tools
from tests.unit.lambdas.fakes import FakeLambdaContext
from tests.unit.workflow.conftest import AUDIT, REPORTS, SETTINGS, Storage, hmac_key, record_calls

EVENTS = Path(__file__).parents[2] / "events"
FIXTURE_AUDIT = "audit-0001"  # the audit of tests/events/{discover,analyze,remediate}.json
FIXTURE_SNAPSHOT = json.loads((Path(__file__).parents[2] / "events" / "snapshot.json").read_text())
FIXTURE_BUCKET = "check-fixture-bucket"
MACHINE = "arn:aws:states:us-east-1:123456789012:execution:SecurityAgentAudit"


def execution_arn(name: str) -> str:
    """The ARN of the audit's execution `name` (`<auditId>`, or `<auditId>_r<n>` for a resume)."""
    return f"{MACHINE}:{name}"


def event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


def _requested(tools: Tools, mode: str = "plan") -> None:
    """The API's sealed request for the fixture events' audit."""
    tools.storage.request(FIXTURE_AUDIT, resource=FIXTURE_BUCKET, mode=mode)  # type: ignore[arg-type]


# --- Discover -------------------------------------------------------------------------------------


def test_discover_handler_reads_the_requested_bucket_and_checkpoints_it(tools: Tools) -> None:
    # Given the API sealed the request this execution's input names
    _requested(tools)
    # When
    out = discover.handler(event("discover"), FakeLambdaContext())
    # Then the snapshot is stored (for the next steps and a resume) and the state gets the sealed
    # request it routes on, with a summary
    stored = tools.storage.load(FIXTURE_AUDIT, "discovery")
    assert stored is not None and stored["resource"]["id"] == FIXTURE_BUCKET
    assert stored["config"]["policy"] == {"state": "ok", "value": None, "reason": None}
    assert out == {
        "request": {
            "resource": {"type": "AWS::S3::Bucket", "id": FIXTURE_BUCKET},
            "mode": "plan",
            "approvalTimeoutSeconds": 3600,
        },
        "accountId": stored["accountId"],
        "region": "us-east-1",
        "unknownFields": [f for f, probe in stored["config"].items() if probe["state"] == "unknown"],
    }


def test_discover_handler_routes_on_the_sealed_request_whatever_the_input_leaves_out(tools: Tools) -> None:
    # Given the API sealed a remediate audit with a 10-minute window; the input names only the bucket
    tools.storage.request(FIXTURE_AUDIT, resource=FIXTURE_BUCKET, mode="remediate", timeout=600)
    given = event("discover")
    given["input"] = {"resource": given["input"]["resource"]}
    # When
    out = discover.handler(given, FakeLambdaContext())
    # Then the state machine routes on the record (no default of its own)
    assert (out["request"]["mode"], out["request"]["approvalTimeoutSeconds"]) == ("remediate", 600)


def _no_record(tools: Tools) -> None:
    pass


def _planted_record(tools: Tools) -> None:
    _requested(tools)
    stored = tools.session.client("s3").get_object(Bucket=REPORTS, Key=request_key(FIXTURE_AUDIT))
    record = json.loads(stored["Body"].read())["record"]
    write_object(REPORTS, request_key(FIXTURE_AUDIT), {"record": record}, tools.clients)


def _sealed_with_another_key(tools: Tools) -> None:
    forger = Storage(tools.clients, KmsSealer(hmac_key(tools.session), tools.clients))
    forger.request(FIXTURE_AUDIT, resource=FIXTURE_BUCKET, mode="plan")


@pytest.mark.parametrize("record", [_no_record, _planted_record, _sealed_with_another_key])
def test_discover_handler_without_a_request_sealed_by_the_api_reads_nothing(
    tools: Tools, record: Any
) -> None:
    # Given an execution started directly (StartExecution), with no request the API sealed
    record(tools)
    calls = record_calls(tools.session)
    # When / Then
    with pytest.raises(AuditNotRequested):
        discover.handler(event("discover"), FakeLambdaContext())
    # and the bucket was not read, and nothing was checkpointed
    assert not [c for c in calls if c.startswith("s3.") and c != "s3.GetObject"]
    assert tools.storage.load(FIXTURE_AUDIT, "discovery") is None


@pytest.mark.parametrize(
    "change",
    [
        {"resource": {"type": "AWS::S3::Bucket", "id": "audited-app-bucket"}},
        {"mode": "remediate"},
        {"approvalTimeoutSeconds": 60},
    ],
    ids=["another-bucket", "another-mode", "another-timeout"],
)
def test_discover_handler_input_that_differs_from_the_sealed_request_reads_nothing(
    tools: Tools, change: dict[str, Any]
) -> None:
    # Given the sealed request, and an execution input that says something else
    _requested(tools)
    forged = event("discover")
    forged["input"] |= change
    # When / Then
    with pytest.raises(AuditNotRequested):
        discover.handler(forged, FakeLambdaContext())
    assert tools.storage.load(FIXTURE_AUDIT, "discovery") is None


@pytest.mark.parametrize(("resume", "refused"), [(False, True), (True, False)], ids=["first", "resume"])
def test_attack_an_old_audit_started_again_under_its_own_name_reads_nothing(
    tools: Tools, resume: bool, refused: bool
) -> None:
    # Given a sealed request, and its audit's name started again long after (execution names are
    # unique for 90 days only): only a resume may come later than the request
    request = tools.storage.request(FIXTURE_AUDIT, resource=FIXTURE_BUCKET, mode="plan")
    tools.started = request.requested_at + timedelta(days=91)
    name = f"{FIXTURE_AUDIT}_r1" if resume else FIXTURE_AUDIT
    given = {**event("discover"), "executionArn": execution_arn(name)}
    # When / Then
    if refused:
        with pytest.raises(AuditNotRequested):
            discover.handler(given, FakeLambdaContext())
        assert tools.storage.load(FIXTURE_AUDIT, "discovery") is None
    else:
        assert discover.handler(given, FakeLambdaContext())["request"]["mode"] == "plan"


def test_discover_handler_missing_bucket_raises_resource_not_found(tools: Tools) -> None:
    tools.storage.request(FIXTURE_AUDIT, resource="not-there-bucket", mode="plan")
    missing = event("discover")
    missing["input"]["resource"]["id"] = "not-there-bucket"
    with pytest.raises(ResourceNotFound):
        discover.handler(missing, FakeLambdaContext())


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"auditId": "a", "executionArn": execution_arn("a")},
        {"auditId": "a", "input": event("discover")["input"]},  # no execution
        {"auditId": "a", "executionArn": execution_arn("a"), "input": {"mode": ["plan"]}},
    ],
)
def test_discover_handler_bad_event_raises_invalid_input(tools: Tools, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        discover.handler(bad, FakeLambdaContext())


def test_discover_handler_resumed_with_forged_input_reads_nothing(tools: Tools) -> None:
    # Given a plan-mode audit that was discovered (its checkpoint is stored)
    _requested(tools, mode="plan")
    discover.handler(event("discover"), FakeLambdaContext())
    # When an execution of the same audit id (a resume name) is started with another mode
    forged = event("discover")
    forged["input"]["mode"] = "remediate"
    # Then it is refused like any input the API did not seal
    with pytest.raises(AuditNotRequested):
        discover.handler(forged, FakeLambdaContext())


def test_discover_handler_resumed_returns_its_checkpoint_without_reading_again(tools: Tools) -> None:
    # Given Discover succeeded before, and the bucket changed since
    _requested(tools)
    first = discover.handler(event("discover"), FakeLambdaContext())
    tools.session.client("s3").put_bucket_versioning(
        Bucket=FIXTURE_BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    calls = record_calls(tools.session)
    # When the step runs again (a resumed execution)
    again = discover.handler(
        {**event("discover"), "executionArn": execution_arn(f"{FIXTURE_AUDIT}_r1")}, FakeLambdaContext()
    )
    # Then it returns the stored snapshot without reading the bucket again
    assert again == first and "s3.GetObject" in calls
    assert not [c for c in calls if c.startswith("s3.") and c != "s3.GetObject"]


# --- load-or-compute ----------------------------------------------------------------------------


def _step(name: str) -> StepEvent:
    """The step event of execution `name` (`<auditId>`, or `<auditId>_r<n>` for a resume)."""
    return StepEvent(audit_id=name.split("_")[0], execution_arn=execution_arn(name))


def test_load_or_compute_stores_then_a_resume_returns_the_stored_output_without_running(tools: Tools) -> None:
    # Given a computation that counts its runs
    runs: list[str] = []

    def compute(audit: str) -> dict[str, Any]:
        runs.append(audit)
        return {"auditId": audit, "run": len(runs)}

    # When audit a's first execution computes, its resume asks again, and audit b's first execution
    first = load_or_compute(_step("a"), "analysis", lambda: compute("a"))
    resumed = load_or_compute(_step("a_r1"), "analysis", lambda: compute("a"))
    other = load_or_compute(_step("b"), "analysis", lambda: compute("b"))
    # Then the resume got the stored output of the first, and it ran once per audit
    assert first == resumed == {"auditId": "a", "run": 1} and other == {"auditId": "b", "run": 2}
    assert runs == ["a", "b"] and tools.storage.load("a", "analysis") == first


def test_load_or_compute_in_a_first_execution_never_reads_a_checkpoint(tools: Tools) -> None:
    # Given a checkpoint planted before the audit's first execution ran its step
    tools.storage.checkpoint("a", "analysis", {"auditId": "a", "planted": True})
    calls = record_calls(tools.session)
    # When / Then the first execution computes (a first execution has nothing to reuse)
    assert load_or_compute(_step("a"), "analysis", lambda: {"auditId": "a", "run": 1}) == {
        "auditId": "a",
        "run": 1,
    }
    assert "s3.GetObject" not in calls


def test_load_or_compute_failed_step_stores_nothing_and_runs_again(tools: Tools) -> None:
    outcomes: list[Exception | dict[str, Any]] = [RuntimeError("throttled"), {"auditId": "a", "ok": True}]

    def compute() -> dict[str, Any]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(RuntimeError):
        load_or_compute(_step("a"), "verification", compute)
    assert tools.storage.load("a", "verification") is None
    assert load_or_compute(_step("a_r1"), "verification", compute) == {"auditId": "a", "ok": True}
    assert outcomes == []


@pytest.mark.parametrize(
    ("handler", "state"),
    [
        (discover.handler, "Discover Bucket"),
        (analyze.handler, "Analyze Configuration"),
        (remediate.handler, "Propose Fixes"),
    ],
)
def test_a_step_with_a_stored_checkpoint_is_confirmed_then_returns_it_without_working(
    tools: Tools, handler: Any, state: str
) -> None:
    # Given the audit's steps stored their outputs (a resumed execution)
    _requested(tools, mode="remediate")
    tools.storage.checkpoint(FIXTURE_AUDIT, "discovery", FIXTURE_SNAPSHOT)
    tools.storage.checkpoint(
        FIXTURE_AUDIT,
        "analysis",
        {
            "auditId": FIXTURE_AUDIT,
            "resourceId": FIXTURE_BUCKET,
            "snapshotReadAt": "2026-01-01T00:00:00Z",
            "checksRun": 0,
            "findings": [],
            "summary": {},
        },
    )
    tools.storage.checkpoint(
        FIXTURE_AUDIT, "remediation", {"auditId": FIXTURE_AUDIT, "plans": [], "unplanned": ["x"]}
    )
    calls = record_calls(tools.session)
    # When the step runs again
    resumed = f"{FIXTURE_AUDIT}_r1"
    given = {
        "auditId": FIXTURE_AUDIT,
        "executionArn": execution_arn(resumed),
        "input": {"resource": {"type": "AWS::S3::Bucket", "id": FIXTURE_BUCKET}},
    }
    out = handler(given, FakeLambdaContext())
    # Then it was confirmed in its state, read only storage, and summarized the stored output
    assert tools.confirmations == [(execution_arn(resumed), FIXTURE_AUDIT, (state,))]
    assert {c for c in calls if c.startswith("s3.")} <= {"s3.GetObject", "s3.ListObjectsV2"}
    assert (
        out
        in (
            {"checksRun": 0, "summary": {"pass": 0, "fail": 0, "unknown": 0, "exempt": 0}},
            {"planCount": 0, "unplanned": ["x"]},
        )
        or out["request"]["mode"] == "remediate"
    )


@pytest.mark.parametrize("arn", [None, "", 42], ids=["missing", "empty", "not-a-string"])
def test_a_step_without_an_execution_reads_nothing(tools: Tools, arn: Any) -> None:
    # Given a stored checkpoint, and an event that does not name the execution that scheduled it
    tools.storage.checkpoint("a", "remediation", {"auditId": "a", "plans": [], "stored": True})
    evt: dict[str, Any] = {"auditId": "a"} | ({} if arn is None else {"executionArn": arn})
    calls = record_calls(tools.session)
    # When / Then it is invalid input: nothing is confirmed, read or returned
    with pytest.raises(InvalidInput, match="executionArn"):
        remediate.handler(evt, FakeLambdaContext())
    assert calls == [] and tools.confirmations == []


def _step_event(audit_id: str, **more: Any) -> dict[str, Any]:
    return {"auditId": audit_id, "executionArn": execution_arn(audit_id), **more}


# --- Analyze ---------------------------------------------------------------------------------------


def test_analyze_handler_judges_the_stored_snapshot_and_stores_the_findings(tools: Tools) -> None:
    # Given Discover stored the fixture snapshot
    tools.storage.checkpoint(FIXTURE_AUDIT, "discovery", FIXTURE_SNAPSHOT)
    # When
    out = analyze.handler(event("analyze"), FakeLambdaContext())
    # Then the findings are stored; the state gets the counts
    stored = tools.storage.load(FIXTURE_AUDIT, "analysis")
    assert stored is not None and stored["auditId"] == FIXTURE_AUDIT
    assert out == {"checksRun": stored["checksRun"], "summary": stored["summary"]}
    # 20 FAIL: the fixture fails every check but S3.10 (not versioned); the SSE-KMS check fails
    # S3.17 whatever require_kms says, but with it off it is LOW and proposes no fix
    assert out["summary"]["fail"] == 20
    kms = next(f for f in stored["findings"] if f["checkId"] == "s3_bucket_sse_kms_not_used")
    assert (kms["status"], kms["severity"], kms["controls"], kms["remediationId"]) == (
        "FAIL",
        "LOW",
        ["FSBP:S3.17"],
        None,
    )
    finding = stored["findings"][0]
    assert {"checkId", "title", "severity", "status", "controls", "evidence", "remediationId"} <= set(finding)
    assert finding["severity"] == "CRITICAL"


def test_analyze_handler_judges_storage_not_its_event(tools: Tools) -> None:
    # Given Discover stored the fixture snapshot, and an event that carries another "snapshot"
    tools.storage.checkpoint(FIXTURE_AUDIT, "discovery", FIXTURE_SNAPSHOT)
    forged = {**event("analyze"), "snapshot": {**FIXTURE_SNAPSHOT, "config": {}}}
    # When / Then the stored one is judged
    assert analyze.handler(forged, FakeLambdaContext())["summary"]["fail"] == 20


def test_analyze_handler_before_discover_raises_invalid_input_and_stores_nothing(tools: Tools) -> None:
    with pytest.raises(InvalidInput, match="Discover Bucket"):
        analyze.handler(event("analyze"), FakeLambdaContext())
    assert tools.storage.load(FIXTURE_AUDIT, "analysis") is None


# --- Propose Fixes ---------------------------------------------------------------------------------


def test_remediate_handler_stores_ordered_plans_and_returns_their_count(tools: Tools) -> None:
    _requested(tools, mode="remediate")
    tools.storage.checkpoint(FIXTURE_AUDIT, "discovery", FIXTURE_SNAPSHOT)
    analyze.handler(event("analyze"), FakeLambdaContext())
    summary = remediate.handler(event("remediate"), FakeLambdaContext())
    out = tools.storage.load(FIXTURE_AUDIT, "remediation")
    assert out is not None and summary == {"planCount": len(out["plans"]), "unplanned": out["unplanned"]}
    # failing checks without a fix: SSE-KMS (LOW, require_kms off) and event notifications
    assert out["unplanned"] == ["s3_bucket_sse_kms_not_used", "s3_bucket_event_notifications_disabled"]
    assert out["auditId"] == FIXTURE_AUDIT and out["expected"] == {}
    assert [p["order"] for p in out["plans"]] == list(range(1, len(out["plans"]) + 1))
    first = out["plans"][0]
    assert first["apiCall"] == {
        "service": "s3",
        "operation": "PutPublicAccessBlock",
        "parameters": {
            "Bucket": FIXTURE_BUCKET,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        },
        "region": "us-east-1",
    }
    assert first["cliCommand"].startswith(f"aws s3api put-public-access-block --bucket {FIXTURE_BUCKET}")


def test_remediate_handler_without_a_sealed_request_raises(tools: Tools) -> None:
    with pytest.raises(AuditNotRequested):
        remediate.handler(event("remediate"), FakeLambdaContext())
    assert tools.storage.load(FIXTURE_AUDIT, "remediation") is None


def test_remediate_handler_rollback_proposes_the_rollbacks_of_what_was_applied(tools: Tools) -> None:
    # Given an original audit whose approved plans Apply applied and recorded
    original = "audit-20250301-0000"
    storage = tools.storage
    decision = storage.approved(original)
    authorized = authorize(original, REPORTS, SETTINGS, storage.sealer, tools.clients)
    progress = apply_plans(
        original,
        authorized.plans,
        decision.plan_digest or "",
        None,
        lambda p: storage.checkpoint(original, "applied", p.to_json_dict()),
        clients=tools.clients,
    )
    # and a rollback audit of it, sealed by the API, discovered and analyzed
    storage.request(AUDIT, mode="rollback", rollback_of=original)
    storage.discover_and_analyze(AUDIT)
    # When
    remediate.handler(_step_event(AUDIT), FakeLambdaContext())
    out = storage.load(AUDIT, "remediation")
    assert out is not None
    # Then it proposes undoing exactly what was applied, newest first, with the verdicts to expect
    applied = [r.plan_id for r in progress.results if r.status is ApplyStatus.APPLIED]
    assert [p["planId"] for p in out["plans"]] == [f"rollback-{i}" for i in reversed(applied)]
    assert out["expected"] and set(out["expected"].values()) == {"FAIL"}


def test_remediate_handler_before_analyze_raises_invalid_input(tools: Tools) -> None:
    _requested(tools, mode="remediate")
    tools.storage.checkpoint(FIXTURE_AUDIT, "discovery", FIXTURE_SNAPSHOT)
    with pytest.raises(InvalidInput, match="Analyze Configuration"):
        remediate.handler(event("remediate"), FakeLambdaContext())


def test_handlers_settings_read_from_environment() -> None:
    from secagent.models import AgentSettings

    settings = AgentSettings.from_env(
        {"SECAGENT_REQUIRE_KMS": "true", "SECAGENT_TRUSTED_ACCOUNTS": "444455556666"}
    )
    assert settings.require_kms and settings.trusted_accounts == frozenset({"444455556666"})
    with pytest.raises(ValueError):
        AgentSettings.from_env({"SECAGENT_TRUSTED_ACCOUNTS": "not-an-account"})
