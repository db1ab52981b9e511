"""Checkpointed steps: load-or-compute, keyed by audit and step (secagent.workflow.checkpoints).

A resumed execution runs every step again; a step that succeeded before returns its stored
output in milliseconds instead of working. The checkpoint is read from the report bucket, where
only this step's role may write it: nothing in the execution input can stand in for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lambdas.deps import clients, settings
from secagent.models.errors import InvalidInput
from secagent.workflow.checkpoints import load_checkpoint, save_checkpoint

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def checkpointed(name: str) -> Callable[[Handler], Handler]:
    """Return checkpoint `name` of the event's audit if it exists; else run, store and return."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: dict[str, Any], context: Any) -> dict[str, Any]:
            audit_id = event.get("auditId") if isinstance(event, dict) else None
            if not isinstance(audit_id, str) or not audit_id:
                raise InvalidInput("invalid event: auditId (a string) is required")
            bucket = settings().report_bucket
            if (stored := load_checkpoint(bucket, audit_id, name, clients())) is not None:
                return stored
            result = handler(event, context)
            save_checkpoint(bucket, audit_id, name, result, clients())
            return result

        return wrapper

    return decorate
