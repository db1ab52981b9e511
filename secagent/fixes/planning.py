"""What a check's fix is built on (PlanningState) and what it proposes (Draft)."""

from dataclasses import dataclass, field
from typing import Any

from secagent.models.plans import ApiCall
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Acl, Encryption, Probe, Snapshot


@dataclass
class PlanningState:
    """Configuration as it will be after the plans drafted so far are applied, in order.

    Plans that touch the same document (policy, ACL) build on each other through it, so
    applying them in order never undoes an earlier fix.
    """

    snapshot: Snapshot
    settings: AgentSettings
    policy: dict[str, Any] | None = None
    acl: Acl | None = None
    encryption: Encryption | None = None
    done: set[str] = field(default_factory=set)  # remediation ids already planned once

    @classmethod
    def start(cls, snapshot: Snapshot, settings: AgentSettings) -> "PlanningState":
        cfg = snapshot.config
        policy = cfg.policy.value
        return cls(
            snapshot=snapshot,
            settings=settings,
            policy=None if policy is None else dict(policy),
            acl=None if cfg.acl.value is None else cfg.acl.value.model_copy(deep=True),
            encryption=None if cfg.encryption.value is None else cfg.encryption.value.model_copy(deep=True),
        )

    @property
    def bucket(self) -> str:
        return self.snapshot.bucket

    def planned_snapshot(self) -> Snapshot:
        """The snapshot as it will read once the plans drafted so far are applied (the documents
        tracked here; other fields as discovered)."""
        config = self.snapshot.config.model_copy(
            update={
                "policy": Probe(value=self.policy),
                "acl": Probe(value=self.acl),
                "encryption": Probe(value=self.encryption),
            }
        )
        return self.snapshot.model_copy(update={"config": config})

    @property
    def region(self) -> str:
        return self.snapshot.region

    def s3(self, operation: str, **parameters: Any) -> ApiCall:
        return ApiCall(
            service="s3",
            operation=operation,
            parameters={"Bucket": self.bucket, **parameters},
            region=self.region,
        )


@dataclass
class Draft:
    """A fix proposed by a check; the planner adds ids, order and CLI commands."""

    title: str
    api_call: ApiCall
    risk: str
    reversible: bool
    rollback: ApiCall | None
    previous_config: Any
    manual_inputs: list[str] = field(default_factory=list)
