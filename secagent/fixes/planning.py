"""What a check's fix is built on (PlanningState) and what it proposes (Draft)."""

from dataclasses import dataclass, field
from typing import Any

from secagent.models.plans import ApiCall
from secagent.models.probe import Probe
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Acl, BucketSnapshot, Encryption, Snapshot


@dataclass
class PlanningState:
    """Configuration as it will be after the plans drafted so far are applied, in order.

    Plans that touch the same document (a bucket policy, a group's rules) build on each other
    through it, so applying them in order never undoes an earlier fix. Each resource type has its
    own: it tracks that type's documents.
    """

    snapshot: Snapshot
    settings: AgentSettings
    done: set[str] = field(default_factory=set)  # remediation ids already planned once

    def planned_snapshot(self) -> Snapshot:
        """The snapshot as it will read once the plans drafted so far are applied (the documents
        tracked here; other fields as discovered)."""
        config = self.snapshot.config.model_copy(
            update={name: Probe(value=value) for name, value in self.tracked().items()}
        )
        return self.snapshot.model_copy(update={"config": config})

    def tracked(self) -> dict[str, Any]:
        """The configuration fields this state tracks, as planned so far."""
        return {}

    @property
    def region(self) -> str:
        return self.snapshot.region


@dataclass
class BucketPlanningState(PlanningState):
    """A bucket's: its policy, ACL and default encryption."""

    snapshot: BucketSnapshot
    policy: dict[str, Any] | None = None
    acl: Acl | None = None
    encryption: Encryption | None = None

    @classmethod
    def start(cls, snapshot: BucketSnapshot, settings: AgentSettings) -> "BucketPlanningState":
        cfg = snapshot.config
        policy = cfg.policy.value
        return cls(
            snapshot=snapshot,
            settings=settings,
            policy=None if policy is None else dict(policy),
            acl=None if cfg.acl.value is None else cfg.acl.value.model_copy(deep=True),
            encryption=None if cfg.encryption.value is None else cfg.encryption.value.model_copy(deep=True),
        )

    def tracked(self) -> dict[str, Any]:
        return {"policy": self.policy, "acl": self.acl, "encryption": self.encryption}

    @property
    def bucket(self) -> str:
        return self.snapshot.bucket

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
