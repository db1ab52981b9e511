"""LocalStack `RuntimeExecutor` that runs each Lambda execution environment as a host process.

LocalStack creates one executor per execution environment and sends it one invocation at a
time; it creates more environments for concurrent invocations and keeps idle ones warm
(LAMBDA_KEEPALIVE_MS). So this class owns exactly one worker process:

- start(): spawn the worker with the environment LocalStack hands over, wait for its init;
- invoke(): send the event, wait at most the function's timeout, kill on expiry and answer
  as Lambda does (`Sandbox.Timedout`, "Task timed out after N.NN seconds"); the next invoke
  of a killed environment starts a fresh process (a cold start, as in Lambda);
- stop(): end the process group.

Configuration (environment of the LocalStack process):
  LAMBDA_PROCESS_RUNTIME_DEPS  folder holding only boto3/botocore, the AWS runtime's extras
  LAMBDA_PROCESS_LOG_DIR       where each function's log file goes (default: <tmp>/lambda-process-logs)
  LAMBDA_PROCESS_PYTHON_3_13   (and _3_12, ...) interpreter for that runtime, if not found on its own
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from localstack import config
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from localstack_lambda_process.interpreters import find_python

LOG = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
LOG_TAIL_LINES = 2000
LOG_GRACE_SECONDS = 2.0


def _log_dir() -> Path:
    default = Path(tempfile.gettempdir()) / "lambda-process-logs"
    path = Path(os.environ.get("LAMBDA_PROCESS_LOG_DIR") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Worker:
    """One running worker process and the pipes to it."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, on_line) -> None:
        control_in_r, control_in_w = os.pipe()
        control_out_r, control_out_w = os.pipe()
        lifeline_r, self._lifeline_w = os.pipe()
        env = dict(env, _LAMBDA_PROCESS_FDS=f"{control_in_r},{control_out_w},{lifeline_r}")
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(control_in_r, control_out_w, lifeline_r),
            start_new_session=True,  # its own process group: a kill takes the function's children too
        )
        for fd in (control_in_r, control_out_w, lifeline_r):
            os.close(fd)
        self._to_worker: IO[str] = os.fdopen(control_in_w, "w", encoding="utf-8")
        self._from_worker: IO[str] = os.fdopen(control_out_r, "r", encoding="utf-8")
        self._messages: collections.deque[dict] = collections.deque()
        self._message_ready = threading.Condition()
        threading.Thread(target=self._read_messages, daemon=True, name="lambda-worker-control").start()
        threading.Thread(
            target=self._read_output, args=(on_line,), daemon=True, name="lambda-worker-output"
        ).start()

    def _read_messages(self) -> None:
        for line in self._from_worker:
            with self._message_ready:
                self._messages.append(json.loads(line))
                self._message_ready.notify_all()
        with self._message_ready:
            self._messages.append({"type": "exit"})
            self._message_ready.notify_all()

    def _read_output(self, on_line) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            on_line(raw.decode("utf-8", errors="replace").rstrip("\n"))

    def send(self, message: dict) -> None:
        self._to_worker.write(json.dumps(message) + "\n")
        self._to_worker.flush()

    def receive(self, timeout: float) -> dict | None:
        """Next message from the worker, {"type": "exit"} if it died, None on timeout."""
        deadline = time.monotonic() + timeout
        with self._message_ready:
            while not self._messages:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._message_ready.wait(remaining)
            return self._messages.popleft()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Ends the process group at once, as Lambda ends a timed-out or retired sandbox."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self._to_worker, self._from_worker):
            with contextlib.suppress(OSError):
                stream.close()
        os.close(self._lifeline_w)


class ProcessRuntimeExecutor(RuntimeExecutor):
    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self._worker: _Worker | None = None
        self._env: dict[str, str] = {}
        self._tmp_dir: str | None = None
        self._lock = threading.Lock()
        self._tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        self._current: list[str] | None = None  # log lines of the invocation in flight
        self._report_seen = threading.Event()
        self._report_marker = ""
        self._log_file = (_log_dir() / f"{function_version.id.function_name}.log").open(
            "a", encoding="utf-8", buffering=1
        )

    # --- the contract with LocalStack -------------------------------------------------

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # Unzip code and layers; never call the docker executor's runtime-init installer.
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        deps = os.environ.get("LAMBDA_PROCESS_RUNTIME_DEPS")
        if not deps or not Path(deps, "boto3").is_dir():
            LOG.warning(
                "LAMBDA_PROCESS_RUNTIME_DEPS should name a folder holding boto3 (pip install --target); "
                "functions will not be able to import boto3"
            )
        return True

    def start(self, env_vars: dict[str, str]) -> None:
        code_dir = str(self.function_version.config.code.get_unzipped_code_location())
        self._tmp_dir = tempfile.mkdtemp(prefix=f"lambda-{self.id[:8]}-")
        self._env = {key: str(value) for key, value in env_vars.items()}
        self._env.update(
            LAMBDA_TASK_ROOT=code_dir,
            PATH=os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            LANG="en_US.UTF-8",
            TMPDIR=self._tmp_dir,  # Lambda's /tmp is private to the environment
            PYTHONUNBUFFERED="1",
            _LAMBDA_PROCESS_PATH=os.pathsep.join(self._import_path(code_dir)),
        )
        self._spawn()

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        request_id = payload["invoke-id"]
        timeout = float(self.function_version.config.timeout)
        with self._lock:
            if self._worker is None or not self._worker.alive():
                self._spawn()  # after a timeout kill: a new cold start, as in Lambda
            worker = self._worker
            assert worker is not None
            self._current = []
            self._report_seen.clear()
            self._report_marker = f"REPORT RequestId: {request_id}"
            started = time.monotonic()
            worker.send(
                {
                    "requestId": request_id,
                    "invokedFunctionArn": payload.get("invoked-function-arn", ""),
                    "payload": payload.get("payload", ""),
                    "traceId": payload.get("trace-id", ""),
                    "deadline": time.time() + timeout,
                }
            )
            message = worker.receive(timeout)
            if message is None:
                worker.kill()
                elapsed = time.monotonic() - started
                self._on_line(f"{_utc_now()} {request_id} Task timed out after {timeout:.2f} seconds")
                self._on_line(f"END RequestId: {request_id}")
                self._on_line(f"REPORT RequestId: {request_id}\tDuration: {elapsed * 1000:.2f} ms")
                message_text = f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
                error = {"errorType": "Sandbox.Timedout", "errorMessage": message_text}
                return self._result(request_id, json.dumps(error), is_error=True)
            if message["type"] == "exit":
                worker.kill()
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"RequestId: {request_id} Error: Runtime exited with code "
                    f"{worker.process.returncode}",
                }
                return self._result(request_id, json.dumps(error), is_error=True)
            self._report_seen.wait(LOG_GRACE_SECONDS)
            return self._result(request_id, message["payload"], is_error=not message["ok"])

    def stop(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.kill()
                self._worker = None
        if self._tmp_dir:
            shutil.rmtree(self._tmp_dir, ignore_errors=True)
        self._log_file.close()

    def get_logs(self) -> str:
        return "\n".join(self._tail)

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        # Handed to the environment as LOCALSTACK_RUNTIME_ENDPOINT; this executor talks over pipes.
        return f"http://127.0.0.1:{config.GATEWAY_LISTEN[0].port}/_localstack_lambda/{self.id}"

    # --- helpers ------------------------------------------------------------------------

    def _import_path(self, code_dir: str) -> list[str]:
        version = self._python_version()
        path = [code_dir]
        for layer in self.function_version.config.layers:
            if layer.code:
                opt = layer.code.get_unzipped_code_location()
                path += [
                    str(opt / "python"),
                    str(opt / "python" / "lib" / f"python{version}" / "site-packages"),
                ]
        if deps := os.environ.get("LAMBDA_PROCESS_RUNTIME_DEPS"):
            path.append(deps)
        return path

    def _python_version(self) -> str:
        runtime = str(self.function_version.config.runtime or "")
        if not runtime.startswith("python3."):
            raise LambdaRuntimeException(
                f"Runtime '{runtime}' is not supported by the process executor (Python runtimes only)"
            )
        return runtime.removeprefix("python")

    def _spawn(self) -> None:
        python = find_python(self._python_version())
        self._worker = _Worker(
            [python, "-I", "-S", str(WORKER_SCRIPT)],
            self._env,
            self._env["LAMBDA_TASK_ROOT"],
            self._on_line,
        )
        message = self._worker.receive(float(config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT))
        if message is None or message["type"] != "ready":
            self._worker.kill()
            raise LambdaRuntimeException(
                f"Execution environment {self.id} failed to start; last log lines:\n{self.get_logs()[-2000:]}"
            )

    def _on_line(self, line: str) -> None:
        self._tail.append(line)
        # ValueError: the file was closed by stop() while the last lines drained.
        with contextlib.suppress(ValueError):
            self._log_file.write(f"[{self.id[:8]}] {line}\n")
        current = self._current
        if current is not None:
            current.append(line)
            if line.startswith(self._report_marker):
                self._report_seen.set()

    def _result(self, request_id: str, payload: str, is_error: bool) -> InvocationResult:
        logs = "\n".join(self._current or []) + "\n"
        self._current = None
        return InvocationResult(request_id, payload.encode("utf-8"), is_error=is_error, logs=logs)


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
