"""The Lambda runtime inside one execution-environment process.

Started by the executor as `python -I -S worker.py`: isolated, no site-packages, standard
library only, as in AWS's Python runtime. The import path is built here from what the
executor hands over: function code, then each layer's `python/` folder in layer order,
then a folder holding only boto3/botocore (what the AWS runtime provides).

Protocol with the executor: newline-delimited JSON on two inherited pipes (control in,
control out), so that anything the function prints stays a log line. A third pipe is a
lifeline: when the executor's process dies, it reads EOF and this process exits.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from typing import Any


def _take_env(name: str) -> str:
    # Executor-private variables are removed so the function sees Lambda's environment only.
    return os.environ.pop(name, "")


CONTROL_IN, CONTROL_OUT, LIFELINE = (int(fd) for fd in _take_env("_LAMBDA_PROCESS_FDS").split(","))
IMPORT_PATH = [p for p in _take_env("_LAMBDA_PROCESS_PATH").split(os.pathsep) if p]


def _watch_lifeline() -> None:
    try:
        while os.read(LIFELINE, 1):
            pass
    finally:
        os._exit(137)


class LambdaContext:
    """The attributes and method that AWS's Python runtime gives a handler."""

    def __init__(self, request_id: str, invoked_arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    # The function's frames only, as AWS's runtime reports them (not this bootstrap's).
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def _load_handler(spec: str) -> Any:
    """Import `module.path.function` the way AWS's runtime does, with its error types."""
    module_name, _, function_name = spec.rpartition(".")
    if not module_name or not function_name:
        raise _InitError("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _InitError(
            "Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}"
        ) from exc
    except SyntaxError as exc:
        raise _InitError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}"
        ) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _InitError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        )
    return handler


class _InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _send(stream: Any, message: dict[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def _invoke(handler: Any, request: dict[str, Any]) -> tuple[bool, str]:
    context = LambdaContext(request["requestId"], request["invokedFunctionArn"], request["deadline"])
    try:
        event = json.loads(request["payload"]) if request["payload"] else {}
        result = handler(event, context)
    except Exception as exc:
        error = _error(exc)
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", flush=True)
        traceback.print_exc()
        return False, json.dumps(error)
    try:
        return True, json.dumps(result)
    except (TypeError, ValueError) as exc:
        return False, json.dumps(_error(exc, "Runtime.MarshalError"))


def main() -> None:
    threading.Thread(target=_watch_lifeline, daemon=True, name="lifeline").start()
    sys.path[:0] = IMPORT_PATH
    control_in = os.fdopen(CONTROL_IN, "r", encoding="utf-8")
    control_out = os.fdopen(CONTROL_OUT, "w", encoding="utf-8")

    started = time.perf_counter()
    handler = None
    init_error: dict[str, Any] | None = None
    try:
        handler = _load_handler(os.environ.get("_HANDLER", ""))
    except _InitError as exc:
        init_error = _error(exc, exc.error_type)
        print(f"[ERROR] {exc.error_type}: {exc}", flush=True)
    except Exception as exc:  # an exception raised by the module's own init code
        traceback.print_exc()
        init_error = _error(exc)
    init_ms = (time.perf_counter() - started) * 1000
    _send(control_out, {"type": "ready", "initDurationMs": round(init_ms, 2)})

    first = True
    for line in control_in:
        request = json.loads(line)
        request_id = request["requestId"]
        version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        os.environ["_X_AMZN_TRACE_ID"] = request.get("traceId") or ""
        print(f"START RequestId: {request_id} Version: {version}", flush=True)
        began = time.perf_counter()
        if init_error is not None:
            ok, payload = False, json.dumps(init_error)
        else:
            ok, payload = _invoke(handler, request)
        duration = (time.perf_counter() - began) * 1000
        sys.stderr.flush()
        report = f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms"
        if first:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        print(f"END RequestId: {request_id}", flush=True)
        print(report, flush=True)
        first = False
        _send(control_out, {"type": "result", "requestId": request_id, "ok": ok, "payload": payload})


if __name__ == "__main__":
    main()
