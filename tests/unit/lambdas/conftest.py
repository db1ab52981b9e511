"""Environment the workflow tool handlers read (cold start), and moto AWS for calling them.

The handlers build their clients, settings and sealer once per warm environment (lambdas/deps.py,
cached): each test gets fresh ones, over its own moto world, with the seal key's id in SEAL_KEY_ID.
"""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdas import deps
from secagent.aws import ClientFactory, client_factory
from secagent.workflow.store import KmsSealer
from tests.unit.workflow.conftest import BUCKET, REPORTS, Storage, hmac_key

os.environ.setdefault("REPORT_BUCKET", "secagent-reports-bucket")
os.environ.setdefault("EVENT_BUS_NAME", "default")


class RecordingStepFunctions:
    """Step Functions as the tools use it: SendTaskSuccess (Await Approval), recorded; and, for
    test-only fault injection, the execution's input and its running step's failed attempts."""

    def __init__(self) -> None:
        self.successes: list[dict[str, Any]] = []
        self.execution_input: dict[str, Any] = {}
        self.failed_attempts = 0

    def send_task_success(self, **kwargs: Any) -> dict[str, Any]:
        self.successes.append(kwargs)
        return {}

    def describe_execution(self, **_: Any) -> dict[str, Any]:
        return {"status": "RUNNING", "input": json.dumps(self.execution_input)}

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        attempt = [{"type": "LambdaFunctionScheduled"}]
        failed = [*attempt, {"type": "LambdaFunctionFailed"}] * self.failed_attempts
        entered = {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "a step"}}
        return {"events": [entered, *failed, *attempt]}


class _WithHistory:
    """A Step Functions client whose executions show ``history``."""

    def __init__(self, client: Any, history: list[dict[str, Any]]) -> None:
        self._client, self._history = client, history

    def get_execution_history(self, **_: Any) -> dict[str, Any]:
        return {"events": self._history}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@dataclass
class Tools:
    """What a tool handler sees: moto through ``session``, the report bucket, the API's records."""

    session: boto3.Session
    clients: ClientFactory
    storage: Storage
    sfn: RecordingStepFunctions
    seal_key: str
    use_moto_sfn: bool = False
    # With moto's Step Functions: the history its executions show instead of moto's canned one
    # (moto names no states), as Write Report reads it.
    history: list[dict[str, Any]] | None = None
    started: datetime | None = None  # when the confirmed execution started (None: not told)
    # (executionArn, auditId, states) each tool confirmed before acting; the check itself is
    # secagent.workflow.invocation's, tested on its own (tests/unit/workflow/test_invocation.py).
    confirmations: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)


def clear_deps() -> None:
    deps.deps.cache_clear()


def inject_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test deployment's tools (SECAGENT_FAULT_INJECTION=enabled), from their next cold start."""
    monkeypatch.setenv("SECAGENT_FAULT_INJECTION", "enabled")
    clear_deps()


@pytest.fixture
def tools(monkeypatch: pytest.MonkeyPatch) -> Iterator[Tools]:
    """moto with the audited bucket (unfixed), the report bucket and the seal key; the handlers'
    dependencies are rebuilt from this environment."""
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.delete_bucket_encryption(Bucket=BUCKET)
        s3.create_bucket(Bucket=REPORTS)
        s3.create_bucket(Bucket="check-fixture-bucket")  # the bucket of tests/events/discover.json
        inner = client_factory(session)
        sfn = RecordingStepFunctions()
        key = hmac_key(session)
        # Decided now: Recheck and Apply refuse a decision older than gate.DECISION_LIFETIME.
        storage = Storage(inner, KmsSealer(key, inner), decided_at=datetime.now(UTC))
        state = Tools(session, inner, storage, sfn, key)

        def clients(service: str, region: str | None = None) -> Any:
            if service == "stepfunctions" and not state.use_moto_sfn:
                return sfn
            if service == "stepfunctions" and state.history is not None:
                return _WithHistory(inner(service, region), state.history)
            return inner(service, region)

        monkeypatch.setenv("REPORT_BUCKET", REPORTS)
        monkeypatch.setenv("EVENT_BUS_NAME", "default")
        monkeypatch.setenv("SEAL_KEY_ID", key)
        monkeypatch.setattr(deps, "client_factory", lambda *_, **__: clients)
        monkeypatch.setattr(
            deps.Deps,
            "confirm",
            lambda _, arn, audit_id, *states: (
                state.confirmations.append((arn, audit_id, states)) or state.started
            ),
        )
        clear_deps()
        yield state
    clear_deps()
