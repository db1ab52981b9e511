"""Turn FAIL findings into an ordered list of plans that is safe to apply top to bottom."""

from secagent.checks.registry import Check, checks_for
from secagent.fixes import start_planning
from secagent.fixes.operations import FIELD_OF_OPERATION
from secagent.fixes.planning import PlanningState
from secagent.models.findings import AnalysisResult, Finding, Status
from secagent.models.plans import Plan, RemediationPlanSet
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot
from secagent.remediation.cli import cli_command


def _earlier_plan_fixing(check: Check, state: PlanningState, plans: list[Plan]) -> Plan | None:
    same = next((p for p in plans if p.remediation_id == check.meta.remediation_id), None)
    if same is not None:
        return same
    planned = state.planned_snapshot()
    if any(r.status is Status.FAIL for r in check.evaluate(planned, state.settings)):
        return None
    touching = [
        p
        for p in plans
        if FIELD_OF_OPERATION.get((p.api_call.service, p.api_call.operation)) in check.meta.requires
    ]
    return touching[-1] if touching else None


def plan_remediations(
    snapshot: Snapshot,
    analysis: AnalysisResult | list[Finding],
    settings: AgentSettings | None = None,
) -> RemediationPlanSet:
    """One plan per fix, ordered by phase (e.g. Block Public Access first, ACL grants
    removed before ownership controls disable ACLs), then by check id."""
    findings = analysis.findings if isinstance(analysis, AnalysisResult) else analysis
    checks = checks_for(snapshot.resource.type)
    failing = [f for f in findings if f.status is Status.FAIL and f.check_id in checks]
    failing.sort(key=lambda f: (checks[f.check_id].phase, f.check_id))
    state = start_planning(snapshot, settings or AgentSettings())
    plans: list[Plan] = []
    unplanned: list[str] = []
    for finding in failing:
        check = checks[finding.check_id]
        if finding.remediation_id is None:  # the verdict says no fix can be proposed
            unplanned.append(finding.check_id)
            continue
        draft = check.remediate(state, finding) if check.remediate else None
        if draft is None:
            # Already fixed by an earlier plan (one ACL rewrite for read and write; the policy pin of
            # a public statement that also stops other accounts' S3.6 actions)?
            fixing = _earlier_plan_fixing(check, state, plans)
            if fixing is not None:
                fixing.check_ids.append(finding.check_id)
            else:
                unplanned.append(finding.check_id)
            continue
        order = len(plans) + 1
        plans.append(
            Plan(
                plan_id=f"{order:02d}-{check.meta.remediation_id}",
                order=order,
                check_ids=[finding.check_id],
                remediation_id=check.meta.remediation_id,
                title=draft.title,
                resource_id=snapshot.resource.id,
                api_call=draft.api_call,
                cli_command=cli_command(draft.api_call),
                risk=draft.risk,
                reversible=draft.reversible,
                rollback=draft.rollback,
                rollback_cli_command=cli_command(draft.rollback) if draft.rollback else None,
                previous_config=draft.previous_config,
                manual_inputs=draft.manual_inputs,
            )
        )
    return RemediationPlanSet(resource_id=snapshot.resource.id, plans=plans, unplanned=unplanned)
