"""Where the workflow tools write, and the key that seals trusted records: read at the edge (cold start)."""

import os

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel


class WorkflowSettings(CamelModel):
    report_bucket: str = PydanticField(min_length=3)
    event_bus_name: str = "default"
    # The KMS HMAC key of request and decision records (secagent.workflow.store); tools only verify.
    seal_key_id: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "WorkflowSettings":
        env = os.environ if environ is None else environ
        # A missing REPORT_BUCKET fails the cold start: a misdeployed tool should not start work.
        return cls(
            report_bucket=env.get("REPORT_BUCKET", ""),
            event_bus_name=env.get("EVENT_BUS_NAME") or "default",
            seal_key_id=env.get("SEAL_KEY_ID", ""),
        )
