"""A scripted stand-in for AuditApiClient and two real reports (saved from a LocalStack run)."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from secagent.client import ApiResponse

HERE = Path(__file__).parent
AUDIT_ID = "009f1248-e164-4086-98e7-0c5c6343ab79"
Answer = ApiResponse | BaseException  # an exception is raised instead of answering


def load_report(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"report_{name}.json").read_text())


class FakeApi:
    """Answers from queues per method; the last answer repeats. Records every call."""

    def __init__(self, **answers: Answer | Sequence[Answer]) -> None:
        self.answers = {k: deque(v if isinstance(v, Sequence) else [v]) for k, v in answers.items()}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _answer(self, method: str, *args: Any, **kwargs: Any) -> ApiResponse:
        self.calls.append((method, args, kwargs))
        queue = self.answers[method]
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def start_audit(
        self,
        resource_id: str,
        mode: str = "plan",
        approval_timeout_seconds: int | None = None,
        *,
        resource_type: str = "AWS::S3::Bucket",
    ) -> ApiResponse:
        return self._answer(
            "start_audit",
            resource_id,
            mode=mode,
            approval_timeout_seconds=approval_timeout_seconds,
            resource_type=resource_type,
        )

    def get_audit(self, audit_id: str) -> ApiResponse:
        return self._answer("get_audit", audit_id)

    def list_audits(self, **query: Any) -> ApiResponse:
        return self._answer("list_audits", **query)

    def preview_approval(self, audit_id: str, remediation_ids: list[str] | None = None) -> ApiResponse:
        return self._answer("preview_approval", audit_id, remediation_ids=remediation_ids)

    def decide(
        self,
        audit_id: str,
        decision: str,
        comment: str | None = None,
        *,
        plan_digest: str | None = None,
        remediation_ids: list[str] | None = None,
    ) -> ApiResponse:
        binding = {"plan_digest": plan_digest, "remediation_ids": remediation_ids}
        return self._answer(
            "decide", audit_id, decision, comment=comment, **{k: v for k, v in binding.items() if v}
        )

    def resume(self, audit_id: str) -> ApiResponse:
        return self._answer("resume", audit_id)

    def rollback(self, audit_id: str) -> ApiResponse:
        return self._answer("rollback", audit_id)

    def request_exemption(self, bucket: str, check_ids: list[str], reason: str, until: str) -> ApiResponse:
        return self._answer("request_exemption", bucket, check_ids, reason, until)

    def list_exemptions(self, bucket: str) -> ApiResponse:
        return self._answer("list_exemptions", bucket)

    def approve_exemption(self, exemption_id: str) -> ApiResponse:
        return self._answer("approve_exemption", exemption_id)

    def revoke_exemption(self, exemption_id: str) -> ApiResponse:
        return self._answer("revoke_exemption", exemption_id)


def step(name: str, status: str, attempts: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "type": "Task",
        "status": status,
        "attempts": attempts,
        "started": None,
        "ended": None,
        "error": None,
        **extra,
    }


def audit_body(status: str = "RUNNING", **extra: Any) -> dict[str, Any]:
    return {
        "auditId": AUDIT_ID,
        "status": status,
        "currentStep": None,
        "resource": {"type": "AWS::S3::Bucket", "id": "cli-demo-public-1"},
        "mode": "remediate",
        "startedAt": "2026-11-25T15:39:04.000Z",
        "stoppedAt": None,
        **extra,
    }


@pytest.fixture()
def remediated() -> dict[str, Any]:
    return load_report("remediated")


@pytest.fixture()
def planned() -> dict[str, Any]:
    return load_report("plan")
