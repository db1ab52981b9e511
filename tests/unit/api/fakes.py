"""An in-memory Step Functions client with only the calls the API makes.

moto answers StartExecution/DescribeExecution but not SendTaskSuccess or a real history, so
this fake keeps executions, their history and open task tokens, and fails like the service:
botocore ClientError with Step Functions' error codes (test_fake_sfn_contract checks it
against moto where both answer).
"""

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

_EXECUTION_ARN = re.compile(r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$")


def client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}, operation
    )


@dataclass
class FakeExecution:
    arn: str
    input: str = "{}"
    status: str = "RUNNING"
    start: datetime = field(default_factory=lambda: datetime(2025, 3, 1, 12, 0, tzinfo=UTC))
    stop: datetime | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)


class FakeStepFunctions:
    def __init__(self) -> None:
        self.executions: dict[str, FakeExecution] = {}
        self.tokens: dict[str, str] = {}  # open task token -> execution ARN
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.failures: dict[str, ClientError] = {}  # operation -> error it answers instead

    # -- test set-up -------------------------------------------------------------------------
    def add_execution(self, arn: str, **kwargs: Any) -> FakeExecution:
        execution = FakeExecution(arn=arn, **kwargs)
        self.executions[arn] = execution
        return execution

    def open_task(self, token: str, execution_arn: str) -> None:
        self.tokens[token] = execution_arn

    def fail(self, operation: str, code: str, message: str) -> None:
        """Make ``operation`` (SendTaskSuccess, DescribeExecution, GetExecutionHistory) answer
        ``code`` (e.g. throttling, AccessDeniedException) from now on."""
        self.failures[operation] = client_error(operation, code, message)

    def called(self, operation: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == operation]

    # -- the client surface ------------------------------------------------------------------
    def start_execution(self, *, stateMachineArn: str, name: str, input: str = "{}") -> dict[str, Any]:
        self.calls.append(
            ("StartExecution", {"stateMachineArn": stateMachineArn, "name": name, "input": input})
        )
        json.loads(input)  # the service rejects non-JSON input (InvalidExecutionInput)
        arn = stateMachineArn.replace(":stateMachine:", ":execution:") + f":{name}"
        if arn in self.executions:
            raise client_error(
                "StartExecution", "ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'"
            )
        execution = self.add_execution(arn, input=input, start=datetime.now(UTC))
        return {"executionArn": arn, "startDate": execution.start}

    def describe_execution(self, *, executionArn: str) -> dict[str, Any]:
        self.calls.append(("DescribeExecution", {"executionArn": executionArn}))
        if "DescribeExecution" in self.failures:
            raise self.failures["DescribeExecution"]
        execution = self._execution("DescribeExecution", executionArn)
        sm_arn = executionArn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
        answer = {
            "executionArn": executionArn,
            "stateMachineArn": sm_arn,
            "name": executionArn.rsplit(":", 1)[1],
            "status": execution.status,
            "startDate": execution.start,
            "input": execution.input,
        }
        optional = {"stopDate": execution.stop, "output": execution.output}
        optional |= {"error": execution.error, "cause": execution.cause}
        return answer | {k: v for k, v in optional.items() if v is not None}

    def get_execution_history(
        self,
        *,
        executionArn: str,
        maxResults: int = 100,
        nextToken: str | None = None,
        includeExecutionData: bool = True,
        reverseOrder: bool = False,
    ) -> dict[str, Any]:
        """Oldest first; newest first with ``reverseOrder``, like the service."""
        self.calls.append(
            (
                "GetExecutionHistory",
                {
                    "executionArn": executionArn,
                    "nextToken": nextToken,
                    "includeExecutionData": includeExecutionData,
                    "reverseOrder": reverseOrder,
                    "maxResults": maxResults,
                },
            )
        )
        if "GetExecutionHistory" in self.failures:
            raise self.failures["GetExecutionHistory"]
        events = self._execution("GetExecutionHistory", executionArn).history
        if reverseOrder:
            events = events[::-1]
        if not includeExecutionData:
            events = [_without_data(e) for e in events]
        start = int(nextToken or 0)
        page: dict[str, Any] = {"events": events[start : start + maxResults]}
        if start + maxResults < len(events):
            page["nextToken"] = str(start + maxResults)
        return page

    def list_executions(
        self,
        *,
        stateMachineArn: str,
        maxResults: int = 100,
        statusFilter: str | None = None,
        nextToken: str | None = None,
    ) -> dict[str, Any]:
        """Newest first, like the service."""
        self.calls.append(("ListExecutions", {"statusFilter": statusFilter, "nextToken": nextToken}))
        if nextToken is not None and not nextToken.isdigit():
            raise client_error("ListExecutions", "InvalidToken", "Invalid Token")
        matching = [
            e
            for e in sorted(self.executions.values(), key=lambda e: e.start, reverse=True)
            if statusFilter is None or e.status == statusFilter
        ]
        start = int(nextToken or 0)
        page: dict[str, Any] = {
            "executions": [
                {
                    "executionArn": e.arn,
                    "name": e.arn.rsplit(":", 1)[1],
                    "status": e.status,
                    "startDate": e.start,
                }
                for e in matching[start : start + maxResults]
            ]
        }
        if start + maxResults < len(matching):
            page["nextToken"] = str(start + maxResults)
        return page

    def send_task_success(self, *, taskToken: str, output: str) -> dict[str, Any]:
        self.calls.append(("SendTaskSuccess", {"taskToken": taskToken, "output": output}))
        if "SendTaskSuccess" in self.failures:
            raise self.failures["SendTaskSuccess"]
        if taskToken not in self.tokens:
            # Like the service, the message quotes the token: callers must not log it.
            raise client_error("SendTaskSuccess", "InvalidToken", f"Invalid token: '{taskToken}'")
        json.loads(output)
        execution = self.executions[self.tokens.pop(taskToken)]
        if execution.status != "RUNNING":
            raise client_error("SendTaskSuccess", "TaskTimedOut", "Task Timed Out")
        return {}

    def _execution(self, operation: str, arn: str) -> FakeExecution:
        if not _EXECUTION_ARN.match(arn):
            raise client_error(operation, "InvalidArn", f"Invalid Arn: '{arn}'")
        if arn not in self.executions:
            raise client_error(operation, "ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return self.executions[arn]


# What includeExecutionData=False leaves out of each event's details, like the service: the
# states' input and output, and a task's parameters (where Await Approval's task token is).
_EXECUTION_DATA = {"input", "output", "parameters", "inputDetails", "outputDetails"}


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: {k: v for k, v in value.items() if k not in _EXECUTION_DATA}
        if key.endswith("EventDetails") and isinstance(value, dict)
        else value
        for key, value in event.items()
    }


class FailingS3:
    """Wraps a real (moto) S3 client; PutObject answers ``code``."""

    def __init__(self, inner: Any, code: str = "AccessDenied") -> None:
        self.inner, self.code = inner, code

    def get_object(self, **kwargs: Any) -> Any:
        return self.inner.get_object(**kwargs)

    def put_object(self, **kwargs: Any) -> Any:
        raise client_error("PutObject", self.code, "injected")
