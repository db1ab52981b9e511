"""Every tool confirms, before it reads or writes anything, that its audit's running execution
invoked it in the tool's own state (lambdas.deps.confirm; the check itself is
secagent.workflow.invocation's, tests/unit/workflow/test_invocation.py).

Here the confirmation refuses, as it does for a direct lambda:InvokeFunction: the tool must then
have made no AWS call (Discover aside, see below), written nothing and woken no execution,
although everything it needs to act is in place.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from lambdas import analyze, apply, await_approval, deps, discover, recheck, remediate, report, verify
from secagent.models.errors import NotInvokedByWorkflow
from tests.unit.lambdas.conftest import Tools
from tests.unit.lambdas.fakes import FakeLambdaContext
from tests.unit.lambdas.test_handlers import FIXTURE_AUDIT, FIXTURE_BUCKET, event
from tests.unit.workflow.conftest import AUDIT, BUCKET, REPORTS

REPORT_EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:secagent-audit:{AUDIT}_r1"


@dataclass(frozen=True)
class Step:
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]
    event: Callable[[], dict[str, Any]]
    audit: str  # the audit it must confirm (Report: the execution's, whatever its state says)
    states: tuple[str, ...]
    ready: Callable[[Tools], Any]  # the records it needs to act (so only the refusal stops it)


def _requested(mode: str) -> Callable[[Tools], Any]:
    return lambda tools: tools.storage.request(FIXTURE_AUDIT, resource=FIXTURE_BUCKET, mode=mode)  # type: ignore[arg-type]


def _proposed(tools: Tools) -> None:
    tools.storage.request(AUDIT)
    tools.storage.discover_and_analyze(AUDIT)


def _report_event() -> dict[str, Any]:
    # A resume's execution, its state naming another audit: the audit is the execution's
    original = event("report")
    return {
        "executionArn": REPORT_EXECUTION,
        "state": {**original["state"], "auditId": "audit-20250301-9999"},
    }


def _approved(tools: Tools) -> None:
    tools.storage.approved(AUDIT)


def _discovered(mode: str) -> Callable[[Tools], Any]:
    def ready(tools: Tools) -> None:
        _requested(mode)(tools)
        tools.storage.discover_and_analyze(FIXTURE_AUDIT, FIXTURE_BUCKET)

    return ready


def _applied(tools: Tools) -> None:
    """What Verify reads: the steps before it stored their outputs (Apply's record applied nothing)."""
    tools.storage.approved(AUDIT)
    tools.storage.checkpoint(AUDIT, "remediation", {"auditId": AUDIT, "plans": [], "expected": {}})
    tools.storage.checkpoint(
        AUDIT,
        "applied",
        {
            "auditId": AUDIT,
            "planDigest": "0" * 64,
            "plans": [],
            "results": [],
            "appliedCount": 0,
            "failedCount": 0,
        },
    )


STEPS = {
    "discover": Step(
        discover.handler, lambda: event("discover"), FIXTURE_AUDIT, ("Discover Bucket",), _requested("plan")
    ),
    "analyze": Step(
        analyze.handler,
        lambda: event("analyze"),
        FIXTURE_AUDIT,
        ("Analyze Configuration",),
        _discovered("plan"),
    ),
    "remediate": Step(
        remediate.handler,
        lambda: event("remediate"),
        FIXTURE_AUDIT,
        ("Propose Fixes",),
        _discovered("remediate"),
    ),
    "await_approval": Step(
        await_approval.handler, lambda: event("await_approval"), AUDIT, ("Await Approval",), _proposed
    ),
    "recheck": Step(recheck.handler, lambda: event("recheck"), AUDIT, ("Recheck Configuration",), _approved),
    "apply": Step(apply.handler, lambda: event("apply"), AUDIT, ("Apply Fixes",), _approved),
    "verify": Step(verify.handler, lambda: event("verify"), AUDIT, ("Verify Fixes",), _applied),
    "report": Step(report.handler, _report_event, AUDIT, ("Write Report", "Write Failure Report"), _approved),
}


def record_requests(session: boto3.Session) -> list[tuple[str, dict[str, Any]]]:
    """Every API call made by clients of ``session``: ("service.Operation", its parameters)."""
    made: list[tuple[str, dict[str, Any]]] = []

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        made.append((f"{model.service_model.service_name}.{model.name}", dict(params)))

    session.events.register("before-parameter-build", seen)
    return made


def _refusing(tools: Tools, monkeypatch: pytest.MonkeyPatch) -> None:
    """deps.confirm as it answers a direct invocation: recorded, then refused."""

    def refuse(_: deps.Deps, arn: str, audit_id: str, *states: str) -> None:
        tools.confirmations.append((arn, audit_id, states))
        raise NotInvokedByWorkflow("refused: not a step of the audit's running execution")

    monkeypatch.setattr(deps.Deps, "confirm", refuse)


def _stored(tools: Tools) -> list[str]:
    listed = tools.session.client("s3").list_objects_v2(Bucket=REPORTS)
    return sorted(o["Key"] for o in listed.get("Contents", []))


@pytest.mark.parametrize("name", list(STEPS))
def test_each_tool_confirms_its_execution_and_state_before_anything_else(
    tools: Tools, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # Given everything the tool needs to act is in place, and the invocation is not its execution's
    step = STEPS[name]
    step.ready(tools)
    given = step.event()
    before = _stored(tools)
    _refusing(tools, monkeypatch)
    calls = record_requests(tools.session)
    # When
    with pytest.raises(NotInvokedByWorkflow):
        step.handler(given, FakeLambdaContext())
    # Then it asked once, for the event's execution, the audit and exactly its own state(s)
    assert tools.confirmations == [(given["executionArn"], step.audit, step.states)]
    # and it did nothing: no AWS call, nothing written to the report bucket, the audited bucket
    # untouched, no execution woken
    assert calls == [], calls
    assert not [p for _, p in calls if p.get("Bucket") in {BUCKET, FIXTURE_BUCKET}]
    assert _stored(tools) == before and tools.sfn.successes == []


def test_discover_confirms_before_reading_the_request_record(
    tools: Tools, monkeypatch: pytest.MonkeyPatch
) -> None:
    _requested("plan")(tools)
    _refusing(tools, monkeypatch)
    calls = record_requests(tools.session)
    with pytest.raises(NotInvokedByWorkflow):
        discover.handler(event("discover"), FakeLambdaContext())
    assert calls == []


@pytest.mark.parametrize("name", list(STEPS))
def test_each_tool_once_confirmed_acts(tools: Tools, name: str) -> None:
    # The control of the test above: with the confirmation accepted, the same tool, on the same
    # records, does call AWS (the recorder sees its clients).
    step = STEPS[name]
    step.ready(tools)
    given = step.event()
    calls = record_requests(tools.session)
    step.handler(given, FakeLambdaContext())
    assert calls
    assert tools.confirmations == [(given["executionArn"], step.audit, step.states)]
