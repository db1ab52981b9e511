"""Test-only fault injection: a failure or a delay in a named tool (docs/workflow.md).

Active only when the stack was deployed with `-c faultInjection=true`, which sets
SECAGENT_FAULT_INJECTION=enabled on the tool functions (``ToolEnvironment.fault_injection``);
otherwise nothing is read and nothing happens. The faults are in the execution input
(`"faults": {"analyze": {...}}`: a test starts the execution directly), which the tool reads from
Step Functions itself: they are not part of the state machine's contract, and the API never
passes them.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lambdas.deps import deps
from secagent.aws import execution_history
from secagent.models import errors
from secagent.workflow.timeline import build_timeline


class InjectedFault(Exception):
    """An unexpected error (none of the agent's own): not retried, caught into a resumable FAILED."""


def inject(tool: str, execution_arn: str) -> None:
    if not deps().env.fault_injection:
        return
    sfn = deps().clients("stepfunctions", None)
    given = json.loads(sfn.describe_execution(executionArn=execution_arn).get("input") or "{}")
    faults = given.get("faults") if isinstance(given, dict) else None
    fault = faults.get(tool) if isinstance(faults, dict) else None
    if not isinstance(fault, dict):
        return
    if fault.get("kind") == "delay":
        time.sleep(float(fault.get("seconds", 0)))
    elif fault.get("kind") == "error":
        times = fault.get("times")
        attempt = _attempt(sfn, execution_arn) if times is not None else 0
        if times is None or attempt < int(times):
            name = fault.get("error", "TransientError")
            error_class = (
                InjectedFault if name == "InjectedFault" else getattr(errors, name, errors.TransientError)
            )
            raise error_class(f"injected fault in {tool} (attempt {attempt})")


def _attempt(sfn: Any, execution_arn: str) -> int:
    """This invocation's retry count (0 for the first): the running step's attempts so far, less one."""
    steps = build_timeline(execution_history(sfn, execution_arn))
    running = [s for s in steps if s.status in ("running", "retrying")]
    return max(running[-1].attempts - 1, 0) if running else 0
