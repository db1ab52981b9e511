"""Discover, Analyze, Propose Fixes: event in, one domain call, camelCase JSON out, checkpointed.

Discover reads only an audit the API sealed a request for; each step returns its stored
checkpoint instead of working again (load-or-compute).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas import analyze, discover, remediate
from lambdas.checkpoint import checkpointed
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
    # Then
    assert out["schemaVersion"] == "1.0" and out["resource"]["id"] == FIXTURE_BUCKET
    assert out["config"]["policy"] == {"state": "ok", "value": None, "reason": None}
    json.dumps(out)
    # And its output is checkpointed for a resume
    assert tools.storage.load(FIXTURE_AUDIT, "discovery") == out


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
    forged["request"] |= change
    # When / Then
    with pytest.raises(AuditNotRequested):
        discover.handler(forged, FakeLambdaContext())
    assert tools.storage.load(FIXTURE_AUDIT, "discovery") is None


def test_discover_handler_missing_bucket_raises_resource_not_found(tools: Tools) -> None:
    tools.storage.request(FIXTURE_AUDIT, resource="not-there-bucket", mode="plan")
    missing = event("discover")
    missing["request"]["resource"]["id"] = "not-there-bucket"
    with pytest.raises(ResourceNotFound):
        discover.handler(missing, FakeLambdaContext())


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"auditId": "a", "executionArn": execution_arn("a")},
        {"auditId": "a", "request": event("discover")["request"]},  # no execution
        {
            "auditId": "a",
            "executionArn": execution_arn("a"),
            "request": {"resource": {"type": "AWS::EC2::Instance", "id": "i-1"}},
        },
        {
            "auditId": "a",
            "executionArn": execution_arn("a"),
            "request": {"resource": {"type": "AWS::S3::Bucket"}},
        },
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
    forged["request"]["mode"] = "remediate"
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
    again = discover.handler(event("discover"), FakeLambdaContext())
    # Then it returns the stored snapshot without reading the bucket again
    assert again == first and "s3.GetObject" in calls
    assert not [c for c in calls if c.startswith("s3.") and c != "s3.GetObject"]


# --- the load-or-compute decorator ----------------------------------------------------------------


def _step_event(audit_id: str, **more: Any) -> dict[str, Any]:
    return {"auditId": audit_id, "executionArn": execution_arn(audit_id), **more}


def test_checkpointed_runs_once_then_returns_the_stored_output_without_running(tools: Tools) -> None:
    # Given a step that counts its runs
    runs: list[dict[str, Any]] = []

    @checkpointed("analysis", "Analyze Configuration")
    def step(evt: dict[str, Any], context: Any) -> dict[str, Any]:
        runs.append(evt)
        return {"auditId": evt["auditId"], "run": len(runs)}

    # When it runs twice for one audit, and once for another
    first = step(_step_event("a"), None)
    second = step(_step_event("a", attempt=1), None)
    other = step(_step_event("b"), None)
    # Then the second call is the stored output of the first, and the handler ran once per audit
    assert first == second == {"auditId": "a", "run": 1} and other == {"auditId": "b", "run": 2}
    assert [r["auditId"] for r in runs] == ["a", "b"]
    assert tools.storage.load("a", "analysis") == first
    # and each call, the stored one too, was confirmed as the audit's execution in the step's state
    assert tools.confirmations == [(execution_arn(a), a, ("Analyze Configuration",)) for a in ("a", "a", "b")]


def test_checkpointed_returns_a_stored_checkpoint_without_running_the_handler(tools: Tools) -> None:
    # Given the step's checkpoint is in the report bucket (written by its own role earlier)
    tools.storage.checkpoint("a", "remediation", {"auditId": "a", "plans": [], "stored": True})

    @checkpointed("remediation", "Propose Fixes")
    def step(evt: dict[str, Any], context: Any) -> dict[str, Any]:
        raise AssertionError("the handler must not run")

    # When / Then
    assert step(_step_event("a"), None) == {"auditId": "a", "plans": [], "stored": True}


def test_checkpointed_failed_step_stores_nothing_and_runs_again(tools: Tools) -> None:
    outcomes: list[Exception | dict[str, Any]] = [RuntimeError("throttled"), {"auditId": "a", "ok": True}]

    @checkpointed("verification", "Verify Fixes")
    def step(evt: dict[str, Any], context: Any) -> dict[str, Any]:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    with pytest.raises(RuntimeError):
        step(_step_event("a"), None)
    assert tools.storage.load("a", "verification") is None
    assert step(_step_event("a"), None) == {"auditId": "a", "ok": True} and outcomes == []


@pytest.mark.parametrize("arn", [None, "", 42], ids=["missing", "empty", "not-a-string"])
def test_checkpointed_without_an_execution_reads_nothing(tools: Tools, arn: Any) -> None:
    # Given a stored checkpoint, and an event that does not name the execution that scheduled it
    tools.storage.checkpoint("a", "remediation", {"auditId": "a", "plans": [], "stored": True})
    evt: dict[str, Any] = {"auditId": "a"} | ({} if arn is None else {"executionArn": arn})

    @checkpointed("remediation", "Propose Fixes")
    def step(evt: dict[str, Any], context: Any) -> dict[str, Any]:
        raise AssertionError("the handler must not run")

    calls = record_calls(tools.session)
    # When / Then it is invalid input: nothing is confirmed, read or returned
    with pytest.raises(InvalidInput, match="executionArn"):
        step(evt, None)
    assert calls == [] and tools.confirmations == []


# --- Analyze ---------------------------------------------------------------------------------------


def test_analyze_handler_returns_findings_and_summary(tools: Tools) -> None:
    out = analyze.handler(event("analyze"), FakeLambdaContext())
    assert out["auditId"] == FIXTURE_AUDIT
    # 20 FAIL: the fixture fails every check but S3.10 (not versioned); the SSE-KMS check fails
    # S3.17 whatever require_kms says, but with it off it is LOW and proposes no fix
    assert out["summary"]["fail"] == 20
    kms = next(f for f in out["findings"] if f["checkId"] == "s3_bucket_sse_kms_not_used")
    assert (kms["status"], kms["severity"], kms["controls"], kms["remediationId"]) == (
        "FAIL",
        "LOW",
        ["FSBP:S3.17"],
        None,
    )
    finding = out["findings"][0]
    assert {"checkId", "title", "severity", "status", "controls", "evidence", "remediationId"} <= set(finding)
    assert finding["severity"] == "CRITICAL"
    assert tools.storage.load(FIXTURE_AUDIT, "analysis") == out


def test_analyze_handler_bad_snapshot_raises_invalid_input(tools: Tools) -> None:
    with pytest.raises(InvalidInput):
        analyze.handler(_step_event("a", snapshot={"schemaVersion": "1.0"}), FakeLambdaContext())


# --- Propose Fixes ---------------------------------------------------------------------------------


def test_remediate_handler_returns_ordered_plans(tools: Tools) -> None:
    _requested(tools, mode="remediate")
    out = remediate.handler(event("remediate"), FakeLambdaContext())
    assert out["auditId"] == FIXTURE_AUDIT and out["expected"] == {} and out["unplanned"] == []
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
    assert tools.storage.load(FIXTURE_AUDIT, "remediation") == out


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
    findings = storage.load(AUDIT, "analysis")["findings"]  # type: ignore[index]
    # When (the input's findings do not decide what a rollback proposes)
    out = remediate.handler(
        _step_event(AUDIT, snapshot=storage.load(AUDIT, "discovery"), findings=findings),
        FakeLambdaContext(),
    )
    # Then it proposes undoing exactly what was applied, newest first, with the verdicts to expect
    applied = [r.plan_id for r in progress.results if r.status is ApplyStatus.APPLIED]
    assert [p["planId"] for p in out["plans"]] == [f"rollback-{i}" for i in reversed(applied)]
    assert out["expected"] and set(out["expected"].values()) == {"FAIL"}


def test_remediate_handler_missing_findings_raises_invalid_input(tools: Tools) -> None:
    bad = event("remediate")
    del bad["findings"]
    with pytest.raises(InvalidInput):
        remediate.handler(bad, FakeLambdaContext())


def test_handlers_settings_read_from_environment() -> None:
    from secagent.models import AgentSettings

    settings = AgentSettings.from_env(
        {"SECAGENT_REQUIRE_KMS": "true", "SECAGENT_TRUSTED_ACCOUNTS": "444455556666"}
    )
    assert settings.require_kms and settings.trusted_accounts == frozenset({"444455556666"})
    with pytest.raises(ValueError):
        AgentSettings.from_env({"SECAGENT_TRUSTED_ACCOUNTS": "not-an-account"})
