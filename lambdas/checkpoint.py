"""Checkpointed steps: load-or-compute, keyed by audit and step (secagent.workflow.checkpoints).

A resumed execution runs every step again; a step that succeeded before returns its stored
output in milliseconds instead of working. The checkpoint is read from the report bucket, where
only this step's role may write it: nothing in the execution input can stand in for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from lambdas import deps
from lambdas.deps import clients, settings
from secagent.models.errors import InvalidInput
from secagent.workflow.checkpoints import load_checkpoint, save_checkpoint

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def checkpointed(
    name: str, state: str, *, check: Callable[[dict[str, Any]], None] | None = None
) -> Callable[[Handler], Handler]:
    """Confirm the audit's execution invoked this step (`state`), then return checkpoint `name` of
    the audit if it exists; else run, store and return."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: dict[str, Any], context: Any) -> dict[str, Any]:
            audit_id = event.get("auditId") if isinstance(event, dict) else None
            if not isinstance(audit_id, str) or not audit_id:
                raise InvalidInput("invalid event: auditId (a string) is required")
            execution_arn = event.get("executionArn")
            if not isinstance(execution_arn, str) or not execution_arn:
                raise InvalidInput("invalid event: executionArn (a string) is required")
            deps.confirm(execution_arn, audit_id, state)
            if check is not None:
                check(event)  # before the checkpoint: a resume must pass it too
            bucket = settings().report_bucket
            if (stored := load_checkpoint(bucket, audit_id, name, clients())) is not None:
                return stored
            result = handler(event, context)
            save_checkpoint(bucket, audit_id, name, result, clients())
            return result

        return wrapper

    return decorate
