"""Test-only fault injection: a failure or a delay in a named tool (docs/workflow.md).

Active only when the stack was deployed with `-c faultInjection=true`, which sets
SECAGENT_FAULT_INJECTION=enabled on the tool functions; otherwise `faults` is ignored.
"""

from __future__ import annotations

import os
import time
from typing import Any

from secagent.models import errors

ENABLED = os.environ.get("SECAGENT_FAULT_INJECTION") == "enabled"


def inject(tool: str, event: Any) -> None:
    if not ENABLED or not isinstance(event, dict):
        return
    fault = (event.get("faults") or {}).get(tool)
    if not fault:
        return
    if fault.get("kind") == "delay":
        time.sleep(float(fault.get("seconds", 0)))
    elif fault.get("kind") == "error":
        times = fault.get("times")
        if times is None or int(event.get("attempt", 0)) < int(times):
            error_class = getattr(errors, fault.get("error", "TransientError"), errors.TransientError)
            raise error_class(f"injected fault in {tool} (attempt {event.get('attempt', 0)})")
