"""Stale-plan check: right before Apply, has anything an approved plan touches changed?

A plan was computed from one snapshot and approved as such (its planDigest). If the bucket's
(or group's) configuration that a plan is about to change is no longer what it was, applying the plan could
undo someone else's change or act on a wrong premise: nothing is applied, and the audit ends
STALE_PLAN with the difference (a new audit re-plans on the current configuration).
"""

from __future__ import annotations

import boto3

from secagent.aws import ClientFactory
from secagent.discovery import discover
from secagent.fixes.operations import FIELD_OF_OPERATION
from secagent.models.plans import Plan
from secagent.models.report import ConfigDifference, PlanCheck
from secagent.models.snapshot import Snapshot


def fields_touched(plans: list[Plan], planned_on: Snapshot) -> list[str]:
    """Snapshot fields the plans change; a call we cannot place counts as touching everything."""
    fields: set[str] = set()
    for plan in plans:
        field = FIELD_OF_OPERATION.get((plan.api_call.service, plan.api_call.operation))
        if field is None:
            return sorted(type(planned_on.config).model_fields)
        fields.add(field)
    return sorted(fields)


def compare_configuration(planned_on: Snapshot, now: Snapshot, fields: list[str]) -> PlanCheck:
    """Pure: the differences between two snapshots in the given fields."""
    differences = []
    for field in fields:
        before = getattr(planned_on.config, field).to_json_dict()
        after = getattr(now.config, field).to_json_dict()
        # A field that can no longer be read cannot be proven unchanged: that is a difference too.
        if before != after:
            differences.append(ConfigDifference(field=_camel(field), planned_on=before, now=after))
    return PlanCheck(
        stale=bool(differences), checked_fields=[_camel(f) for f in fields], differences=differences
    )


def recheck(
    planned_on: Snapshot,
    plans: list[Plan],
    session: boto3.Session | None = None,
    *,
    clients: ClientFactory | None = None,
) -> PlanCheck:
    """Read the configuration again and compare what ``plans`` (the approved ones still to apply) touch."""
    now = discover(planned_on.resource, session, clients=clients)
    return compare_configuration(planned_on, now, fields_touched(plans, planned_on) if plans else [])


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)
