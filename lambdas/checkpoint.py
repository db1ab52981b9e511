"""Checkpointed steps: load-or-compute, keyed by audit and step (secagent.workflow.checkpoints).

A resumed execution runs every step again; a step that succeeded before returns its stored
output in milliseconds instead of working. The checkpoint is read from the report bucket, where
only this step's role may write it: nothing in the execution input can stand in for it. The
state gets a summary of it (secagent.models.state); the next steps read the whole from storage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lambdas.deps import deps
from lambdas.events import StepEvent
from secagent.models.errors import InvalidInput
from secagent.workflow.checkpoints import STEPS, load_checkpoint, save_checkpoint


def load_or_compute(step: StepEvent, name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Checkpoint `name` of the audit if a resume finds it; else compute it, store it and return it.
    The audit's first execution has nothing to reuse, so it does not look (one read less a step)."""
    audit_id, bucket = step.audit_id, deps().report_bucket
    if step.resumed and (stored := load_checkpoint(bucket, audit_id, name, deps().clients)) is not None:
        return stored
    result = compute()
    save_checkpoint(bucket, audit_id, name, result, deps().clients)
    return result


def stored_output(audit_id: str, name: str) -> dict[str, Any]:
    """What an earlier step of the audit stored; InvalidInput when it has not run (a step is
    invoked out of order: nothing is done)."""
    stored = load_checkpoint(deps().report_bucket, audit_id, name, deps().clients)
    if stored is None:
        raise InvalidInput(f"audit {audit_id} has no stored output of {STEPS[name]}: it has not run")
    return stored
