"""import_findings with a scripted client: throttling retried a bounded number of times, refused
findings and failed calls counted, no finding body in the logs."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from secagent.outputs.asff import asff_of_resource
from secagent.outputs.security_hub import ATTEMPTS, import_findings
from tests.unit.outputs.conftest import swept_group


def error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "BatchImportFindings")


class ScriptedHub:
    """Answers BatchImportFindings from a script (an exception is raised); the last answer repeats."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self.answers = list(answers)
        self.calls: list[int] = []

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(len(Findings))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(n: int) -> dict[str, Any]:
    return {"FailedCount": 0, "SuccessCount": n, "FailedFindings": []}


def findings(n: int) -> list[dict[str, Any]]:
    base = asff_of_resource(swept_group())[0]
    return [{**base, "Id": f"id-{i}"} for i in range(n)]


def test_a_throttled_call_is_retried_then_succeeds() -> None:
    hub = ScriptedHub(error("LimitExceededException"), error("TooManyRequestsException"), ok(3))
    pauses: list[float] = []
    summary = import_findings(hub, findings(3), sleep=pauses.append)
    assert (summary.imported, summary.failed, summary.calls) == (3, 0, 3)
    assert hub.calls == [3, 3, 3]
    assert pauses == [0.5, 1.0]  # growing


def test_throttling_that_does_not_stop_fails_the_batch_after_a_bounded_number_of_calls() -> None:
    hub = ScriptedHub(error("LimitExceededException", "Rate exceeded"))
    summary = import_findings(hub, findings(150), sleep=lambda _: None)
    assert hub.calls == [100] * ATTEMPTS + [50] * ATTEMPTS
    assert (summary.imported, summary.failed) == (0, 150)
    assert summary.failures[0] == {"id": "id-0", "code": "LimitExceededException", "message": "Rate exceeded"}


def test_another_error_is_not_retried_and_the_next_batch_is_still_sent() -> None:
    hub = ScriptedHub(error("InvalidAccessException", "not subscribed"), ok(20))
    summary = import_findings(hub, findings(120), sleep=lambda _: pytest.fail("no retry"))
    assert hub.calls == [100, 20]
    assert (summary.imported, summary.failed, len(summary.failures)) == (20, 100, 100)
    assert {f["code"] for f in summary.failures} == {"InvalidAccessException"}


def test_findings_security_hub_refuses_are_counted_with_their_reason() -> None:
    refused = {"Id": "id-1", "ErrorCode": "InvalidInput", "ErrorMessage": "Finding too large"}
    hub = ScriptedHub({"FailedCount": 1, "SuccessCount": 2, "FailedFindings": [refused]})
    summary = import_findings(hub, findings(3))
    assert (summary.imported, summary.failed) == (2, 1)
    assert summary.failures == [{"id": "id-1", "code": "InvalidInput", "message": "Finding too large"}]


def test_the_logs_hold_counts_never_a_finding(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="secagent.outputs")
    sent = findings(2)
    hub = ScriptedHub(error("LimitExceededException"), error("InvalidInputException"))
    import_findings(hub, sent, sleep=lambda _: None)
    import_findings(ScriptedHub(ok(2)), sent)
    logged = caplog.text
    assert "2 imported" in logged and "throttled" in logged
    for finding in sent:
        for value in (finding["Id"], finding["Title"], finding["Resources"][0]["Id"], finding["Description"]):
            assert value not in logged
