"""Fix builders: how a check turns a failing verdict into a Draft (an API call, its rollback, its
risk), editing the documents a PlanningState tracks so that fixes build on each other.

A leaf over secagent.models: the checks (secagent.checks.<type>) call these builders, and the
planner (secagent.remediation) orders their drafts into plans; neither is imported here.
"""

from collections.abc import Callable
from typing import Any

from secagent.fixes.planning import BucketPlanningState, PlanningState
from secagent.fixes.security_group import SecurityGroupPlanningState
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType, Snapshot

_PLANNING_STATES: dict[ResourceType, Callable[[Any, AgentSettings], PlanningState]] = {
    BUCKET: BucketPlanningState.start,
    SECURITY_GROUP: SecurityGroupPlanningState.start,
}


def start_planning(snapshot: Snapshot, settings: AgentSettings) -> PlanningState:
    """The planning state of the snapshot's resource type, before any plan."""
    return _PLANNING_STATES[snapshot.resource.type](snapshot, settings)
