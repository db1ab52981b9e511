"""Handlers of checkpointed steps save their output when they succeed (secagent.workflow.checkpoints)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from secagent.aws import client_factory
from secagent.workflow.checkpoints import save_checkpoint

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@functools.cache
def _clients():
    return client_factory()


def checkpointed(name: str) -> Callable[[Handler], Handler]:
    """Save the handler's result as checkpoint `name` of the event's audit, then return it."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def wrapper(event: dict[str, Any], context: Any) -> dict[str, Any]:
            result = handler(event, context)
            save_checkpoint(os.environ["REPORT_BUCKET"], event["auditId"], name, result, _clients())
            return result

        return wrapper

    return decorate
