"""The process Lambda executor, exercised through LocalStack's real Lambda and Step Functions APIs."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.conftest import wait_for

REPO = Path(__file__).resolve().parents[2]

PID_HANDLER = """
import os, time
def handler(event, context):
    print("marker:", event.get("marker", ""))
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid()}
"""


def invoke(lam, name: str, event: dict | None = None) -> tuple[dict, str | None, str]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}), LogType="Tail")
    logs = base64.b64decode(response.get("LogResult", "")).decode()
    return json.loads(response["Payload"].read()), response.get("FunctionError"), logs


def process_alive(pid: int) -> bool:
    """Running, not a zombie (an orphan may wait for a reaper that a container's init never is)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_executor_second_invoke_reuses_warm_environment(aws, make_function):
    # Given a function
    lam = aws("lambda")
    name = make_function({"app.py": PID_HANDLER})
    # When it is invoked twice in a row
    started = time.perf_counter()
    first, error1, cold_logs = invoke(lam, name)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    second, error2, warm_logs = invoke(lam, name)
    warm = time.perf_counter() - started
    # Then the same process served both; only the first paid the init
    assert error1 is None and error2 is None
    assert first["pid"] == second["pid"]
    assert "Init Duration" in cold_logs and "Init Duration" not in warm_logs
    assert warm < cold


def test_executor_timeout_kills_process_and_reports_like_lambda(aws, make_function):
    # Given a function with a 2 s timeout whose handler runs for 30 s
    lam = aws("lambda")
    name = make_function({"app.py": PID_HANDLER}, timeout=2)
    warm_pid = invoke(lam, name)[0]["pid"]
    # When it is invoked
    started = time.perf_counter()
    payload, function_error, logs = invoke(lam, name, {"sleep": 30})
    elapsed = time.perf_counter() - started
    # Then it is stopped at its timeout with Lambda's error and log line
    assert function_error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in payload["errorMessage"]
    assert "Task timed out after 2.00 seconds" in logs
    assert 2.0 <= elapsed < 6.0
    # And the process is gone; the next invoke gets a fresh one
    assert wait_for(lambda: not process_alive(warm_pid), timeout=5)
    after, after_error, _ = invoke(lam, name)
    assert after_error is None and after["pid"] != warm_pid


def test_executor_layers_precede_runtime_in_layer_order_after_function_code(aws, make_function, make_layer):
    # Given two layers that both ship `shared`, each with a module of its own
    first = make_layer({"python/shared.py": "WHO = 'first'", "python/only_first.py": "X = 1"})
    second = make_layer(
        {
            "python/shared.py": "WHO = 'second'",
            "python/lib/python3.13/site-packages/only_second.py": "X = 2",
        }
    )
    handler = """
import sys, shared, only_first, only_second, boto3
def handler(event, context):
    return {"shared": shared.WHO, "path": sys.path[:6], "boto3": boto3.__file__}
"""
    lam = aws("lambda")
    name = make_function({"app.py": handler}, layers=[first, second])
    # When the function imports them
    payload, function_error, _ = invoke(lam, name)
    # Then both layers are importable, the first layer wins, and the order is code, layers, runtime
    assert function_error is None, payload
    assert payload["shared"] == "first"
    path = payload["path"]
    assert path[0].endswith("/code")
    layer_dirs = [p for p in path if p.endswith("/python")]
    assert len(layer_dirs) == 2 and path.index(layer_dirs[0]) < path.index(layer_dirs[1])
    assert "lambda-runtime" in payload["boto3"]


def test_executor_raised_exception_has_lambda_error_shape(aws, make_function):
    # Given a handler raising one of the project's typed errors
    handler = """
class TransientError(Exception):
    pass

def handler(event, context):
    raise TransientError("S3 answered 503 SlowDown")
"""
    lam = aws("lambda")
    name = make_function({"app.py": handler})
    # When it is invoked
    payload, function_error, logs = invoke(lam, name)
    # Then the error is in Lambda's shape, named by the exception class, with the function's frames only
    assert function_error == "Unhandled"
    assert payload["errorType"] == "TransientError"
    assert payload["errorMessage"] == "S3 answered 503 SlowDown"
    assert payload["stackTrace"] and all("worker.py" not in frame for frame in payload["stackTrace"])
    assert "app.py" in payload["stackTrace"][-1]
    assert "[ERROR] TransientError: S3 answered 503 SlowDown" in logs


def test_executor_error_name_drives_step_functions_retry_and_catch(aws, make_function):
    # Given a state machine that retries TransientError once, then catches it
    handler = """
class TransientError(Exception):
    pass

def handler(event, context):
    raise TransientError("still failing")
"""
    name = make_function({"app.py": handler})
    definition = {
        "StartAt": "Call Tool",
        "States": {
            "Call Tool": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": name, "Payload": {}},
                "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["TransientError"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    sfn = aws("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"executor-test-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::000000000000:role/executor-test",
    )["stateMachineArn"]
    try:
        # When it runs
        arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        result = wait_for(
            lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, 30
        )
        # Then the error name matched: one retry, then the Catch
        assert result["status"] == "SUCCEEDED"
        assert json.loads(result["output"])["error"]["Error"] == "TransientError"
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        assert sum(e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed" for e in events) == 2
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


def test_executor_serves_two_invocations_at_once(aws, make_function):
    # Given a function whose handler takes 2 s, warmed once
    lam = aws("lambda")
    name = make_function({"app.py": PID_HANDLER}, timeout=10)
    invoke(lam, name)
    # When it is invoked twice concurrently
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: invoke(lam, name, {"sleep": 2}), range(2)))
    elapsed = time.perf_counter() - started
    # Then two environments (processes) ran them side by side
    assert all(error is None for _, error, _ in results)
    assert len({payload["pid"] for payload, _, _ in results}) == 2
    assert elapsed < 3.9


def test_executor_function_logs_reach_file_and_cloudwatch(aws, make_function):
    # Given a function that prints a unique marker
    lam, logs = aws("lambda"), aws("logs")
    name = make_function({"app.py": PID_HANDLER})
    marker = uuid.uuid4().hex
    # When it is invoked
    invoke(lam, name, {"marker": marker})
    # Then the line is in the function's log file and in CloudWatch Logs
    port = os.environ.get("LOCALSTACK_PORT", "4566")
    state = ".localstack" if port == "4566" else f".localstack-{port}"
    log_dir = Path(os.environ.get("LAMBDA_PROCESS_LOG_DIR", REPO / state / "logs" / "lambda"))
    log_file = log_dir / f"{name}.log"
    assert wait_for(lambda: log_file.exists() and marker in log_file.read_text(), timeout=5)

    def in_cloudwatch() -> bool:
        try:
            found = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern=marker)
        except logs.exceptions.ResourceNotFoundException:
            return False
        return any(marker in event["message"] for event in found["events"])

    assert wait_for(in_cloudwatch, timeout=15)


def test_executor_import_path_holds_no_development_packages(aws, make_function):
    # Given a function importing a package that only the development venv has
    lam = aws("lambda")
    name = make_function({"app.py": "import pytest\ndef handler(event, context):\n    return {}\n"})
    # When it is invoked
    payload, function_error, _ = invoke(lam, name)
    # Then it fails as it would on AWS
    assert function_error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'pytest'" in payload["errorMessage"]


@pytest.mark.parametrize("stop_signal", ["TERM", "KILL"])
def test_executor_processes_end_when_localstack_stops(tmp_path, stop_signal):
    """A second, private LocalStack: stopped (SIGTERM) or killed (SIGKILL), it leaves no function process."""
    # Given a private LocalStack with a warm function environment
    import signal
    import socket
    import subprocess

    import boto3

    from tests.integration.conftest import zip_files

    with socket.socket() as probe:  # a free port: several test runs may share the machine
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    env = dict(os.environ, LOCALSTACK_STATE_DIR=str(tmp_path / "ls"), LOCALSTACK_PORT=port)
    env.pop("AWS_ENDPOINT_URL", None)
    subprocess.run([str(REPO / "scripts" / "localstack.sh"), "up"], env=env, check=True, timeout=180)
    pid = int((tmp_path / "ls" / "localstack.pid").read_text())
    try:
        lam = boto3.client(
            "lambda",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        lam.create_function(
            FunctionName="lifecycle",
            Runtime="python3.13",
            Role="arn:aws:iam::000000000000:role/executor-test",
            Handler="app.handler",
            Code={"ZipFile": zip_files({"app.py": PID_HANDLER})},
        )
        lam.get_waiter("function_active_v2").wait(FunctionName="lifecycle")
        worker_pid = invoke(lam, "lifecycle")[0]["pid"]
        assert process_alive(worker_pid)
        # When LocalStack is told to stop, or dies
        os.kill(pid, getattr(signal, f"SIG{stop_signal}"))
        # Then its function processes end with it (LocalStack's own exit may lag: its shutdown
        # waits on in-flight internal metric calls)
        assert wait_for(lambda: not process_alive(worker_pid), timeout=15)
    finally:
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)
