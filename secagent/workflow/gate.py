"""The approval gate's authority: what may be applied, re-derived from storage, never taken as handed.

Apply (and Recheck before it) call ``authorize``. It reads the request and the decision the API
sealed, the snapshot Discover stored and the findings Analyze stored, re-plans exactly the
approved remediations from that snapshot, and accepts them only if

- the decision is an approval of this audit, of this resource, in this mode;
- the digest of the re-planned plans (with the snapshot) is the digest the person approved;
- every plan targets the audited bucket (or, for account-wide plans, the audited account) with
  an operation the registry's fixes can emit;
- irreversible and account-wide plans were named by id, not approved by default.

Anything else raises ApprovalInvalid: the audit ends APPROVAL_INVALID and nothing is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from secagent.aws import ClientFactory
from secagent.checks.registry import checks_for
from secagent.fixes.operations import (
    ACCOUNT_WIDE_SERVICES,
    FIELD_OF_OPERATION,
    TARGET_PARAMETER,
    opens_access,
)
from secagent.fixes.security_group import changed_since_fix
from secagent.models.errors import ApprovalInvalid
from secagent.models.findings import Finding, Status
from secagent.models.plans import Plan
from secagent.models.records import ApplyProgress, AuditRequest, Decision
from secagent.models.settings import AgentSettings, TargetScope
from secagent.models.snapshot import SECURITY_GROUP, SecurityGroupSnapshot, Snapshot, parse_snapshot
from secagent.remediation import plan_remediations
from secagent.workflow.approval import plan_digest
from secagent.workflow.checkpoints import load_checkpoint
from secagent.workflow.store import (
    SealBroken,
    Sealer,
    decision_key,
    read_sealed,
    request_key,
)

DECISION_LIFETIME = timedelta(days=7)
ROLLBACK_RISK = "Restores the configuration from before the fix: the finding it fixed comes back."
# A fix that cannot be undone while another applied fix stays: S3 refuses to suspend versioning
# once Object Lock is on (and Object Lock itself cannot be turned off).
_BLOCKED_BY = {("s3", "PutBucketVersioning"): ("s3", "PutObjectLockConfiguration")}


def needs_naming(plan: Plan) -> str | None:
    """Why a plan is left out of a default approval and applied only when named by id, or None."""
    if plan.api_call.service in ACCOUNT_WIDE_SERVICES:
        return "account-wide: it changes every bucket in the account; approve it by naming its id"
    if not plan.reversible:
        return "irreversible: it cannot be undone; approve it by naming its id"
    return None


def default_remediation_ids(plans: list[Plan]) -> list[str]:
    """What a plain approval approves: every plan that is reversible and scoped to the resource."""
    return [p.remediation_id for p in sorted(plans, key=lambda p: p.order) if needs_naming(p) is None]


def replan(
    snapshot: Snapshot, findings: list[Finding], settings: AgentSettings, remediation_ids: list[str]
) -> list[Plan]:
    """Plan only the chosen remediations from the snapshot.

    Plans that edit one document (the bucket policy) are chained: planning all of them and keeping
    a few would carry the content of the others. Planning the chosen ones alone does not. Each
    plan keeps the id and order it has in the full proposal, so results map onto what a person
    was shown (the planner orders a subset as it orders the whole).
    """
    checks = checks_for(snapshot.resource.type)
    chosen = set(remediation_ids)
    subset = [
        f
        for f in findings
        if f.status is Status.FAIL
        and f.check_id in checks
        and checks[f.check_id].meta.remediation_id in chosen
    ]
    full = {p.remediation_id: p for p in plan_remediations(snapshot, findings, settings).plans}
    plans = plan_remediations(snapshot, subset, settings).plans
    return [
        p.model_copy(
            update={"plan_id": full[p.remediation_id].plan_id, "order": full[p.remediation_id].order}
        )
        if p.remediation_id in full
        else p
        for p in plans
    ]


def rollback_plans(progress: ApplyProgress, before: list[Finding]) -> tuple[list[Plan], dict[str, str]]:
    """The applied plans' rollbacks, newest first, and the verdicts their checks had before the fix."""
    applied_ids = {r.plan_id for r in progress.results if r.status.value == "APPLIED"}
    applied = [p for p in progress.plans if p.plan_id in applied_ids]
    staying = {(p.api_call.service, p.api_call.operation) for p in applied if not p.rollback}
    reversible = [
        p
        for p in applied
        if p.rollback and _BLOCKED_BY.get((p.api_call.service, p.api_call.operation)) not in staying
    ]
    verdicts = {f.check_id: f.status.value for f in before}
    plans = []
    for order, plan in enumerate(sorted(reversible, key=lambda p: p.order, reverse=True), start=1):
        assert plan.rollback is not None
        plans.append(
            Plan(
                plan_id=f"rollback-{plan.plan_id}",
                order=order,
                check_ids=plan.check_ids,
                remediation_id=f"rollback:{plan.remediation_id}",
                title=f"Roll back: {plan.title}",
                resource_id=plan.resource_id,
                api_call=plan.rollback,
                cli_command=plan.rollback_cli_command or "",
                risk=ROLLBACK_RISK,
                reversible=True,
                rollback=plan.api_call,  # re-applying the fix undoes the rollback
                rollback_cli_command=plan.cli_command,
            )
        )
    expected = {check: verdicts[check] for plan in plans for check in plan.check_ids if check in verdicts}
    return plans, expected


def check_targets(plans: list[Plan], request: AuditRequest, snapshot: Snapshot) -> None:
    """Every plan acts on the audited resource (or, for a bucket, its account) with an operation a
    fix of that resource type can emit."""
    service, parameter = TARGET_PARAMETER[request.resource.type]
    if request.resource.type == SECURITY_GROUP and snapshot.account_id != snapshot.read_by.account_id:
        # A group shared from another account (VPC sharing) is its owner's to change, not ours.
        raise ApprovalInvalid(
            f"{request.resource.id!r} belongs to account {snapshot.account_id}, not the deployment's"
        )
    for plan in plans:
        call = plan.api_call
        account_wide = call.service in ACCOUNT_WIDE_SERVICES and service == "s3"
        if (call.service, call.operation) not in FIELD_OF_OPERATION or not (
            call.service == service or account_wide
        ):
            raise ApprovalInvalid(f"plan {plan.plan_id}: {call.service}:{call.operation} is not a fix")
        if opens_access(call) and request.mode != "rollback":
            # Only a rollback re-opens what a fix closed; no fix ever widens access.
            raise ApprovalInvalid(f"plan {plan.plan_id}: {call.operation} opens access; only a rollback may")
        if account_wide:
            target, expected = call.parameters.get("AccountId"), snapshot.account_id
        else:
            target, expected = call.parameters.get(parameter), request.resource.id
        if expected is None or target != expected:
            raise ApprovalInvalid(f"plan {plan.plan_id} targets {target!r}, not the audited {expected!r}")


@dataclass(frozen=True)
class Proposal:
    """What an audit proposes, from storage: the plans, their snapshot, and the rollback's verdicts."""

    request: AuditRequest
    snapshot: Snapshot
    findings: list[Finding]
    plans: list[Plan]  # every proposed plan
    expected: dict[str, str]  # rollback: each rolled-back check's verdict before the fix

    def select(self, remediation_ids: list[str], settings: AgentSettings) -> list[Plan]:
        if self.request.mode == "rollback":
            chosen = set(remediation_ids)
            return [p for p in self.plans if p.remediation_id in chosen]
        return replan(self.snapshot, self.findings, settings, remediation_ids)

    def digest(self, plans: list[Plan]) -> str:
        return plan_digest(plans, self.snapshot)


def load_request(audit_id: str, bucket: str, sealer: Sealer, clients: ClientFactory) -> AuditRequest | None:
    try:
        request = read_sealed(bucket, request_key(audit_id), AuditRequest, sealer, clients)
    except SealBroken:
        return None
    return request if request is not None and request.audit_id == audit_id else None


def load_decision(audit_id: str, bucket: str, sealer: Sealer, clients: ClientFactory) -> Decision | None:
    """The decision on record if the API sealed it; None when there is none, or it was planted."""
    try:
        decision = read_sealed(bucket, decision_key(audit_id), Decision, sealer, clients)
    except SealBroken:
        return None
    return decision if decision is not None and decision.audit_id == audit_id else None


def load_proposal(
    audit_id: str, bucket: str, settings: AgentSettings, sealer: Sealer, clients: ClientFactory
) -> Proposal:
    """The audit's proposal rebuilt from the records of the roles that own them."""
    request = load_request(audit_id, bucket, sealer, clients)
    if request is None:
        raise ApprovalInvalid(f"audit {audit_id} has no request record sealed by the audit API")
    stored = load_checkpoint(bucket, audit_id, "discovery", clients)
    if stored is None:
        raise ApprovalInvalid(f"audit {audit_id} has no stored snapshot")
    snapshot = parse_snapshot(stored)
    if snapshot.resource != request.resource:
        raise ApprovalInvalid(
            f"the stored snapshot is of {snapshot.resource.id!r}, not {request.resource.id!r}"
        )
    analysis = load_checkpoint(bucket, audit_id, "analysis", clients) or {}
    findings = [Finding.model_validate(f) for f in analysis.get("findings", [])]
    if request.mode == "rollback":
        if not request.rollback_of:
            raise ApprovalInvalid(f"rollback audit {audit_id} names no audit to roll back")
        progress = load_checkpoint(bucket, request.rollback_of, "applied", clients)
        if progress is None:
            raise ApprovalInvalid(f"audit {request.rollback_of} has no record of applied plans")
        before = load_checkpoint(bucket, request.rollback_of, "analysis", clients) or {}
        plans, expected = rollback_plans(
            ApplyProgress.model_validate(progress),
            [Finding.model_validate(f) for f in before.get("findings", [])],
        )
        if any(p.resource_id != request.resource.id for p in plans):
            raise ApprovalInvalid(f"audit {request.rollback_of} was not an audit of {request.resource.id!r}")
        if isinstance(snapshot, SecurityGroupSnapshot):
            for plan in plans:
                if plan.rollback is not None and (why := changed_since_fix(plan.rollback, snapshot)):
                    raise ApprovalInvalid(f"plan {plan.plan_id}: {why}")
        return Proposal(request, snapshot, findings, plans, expected)
    plans = plan_remediations(snapshot, findings, settings).plans
    return Proposal(request, snapshot, findings, plans, {})


@dataclass(frozen=True)
class Authorized:
    proposal: Proposal
    decision: Decision
    plans: list[Plan]  # exactly what the person approved, re-derived


def authorize(
    audit_id: str,
    bucket: str,
    settings: AgentSettings,
    sealer: Sealer,
    clients: ClientFactory,
    *,
    scope: TargetScope | None = None,
    now: datetime | None = None,
) -> Authorized:
    """The plans a person approved for this audit, proven from storage; ApprovalInvalid otherwise."""
    proposal = load_proposal(audit_id, bucket, settings, sealer, clients)
    try:
        decision = read_sealed(bucket, decision_key(audit_id), Decision, sealer, clients)
    except SealBroken as err:
        raise ApprovalInvalid(
            f"the decision record of audit {audit_id} is not sealed by the audit API"
        ) from err
    if decision is None:
        raise ApprovalInvalid(f"no person has decided on audit {audit_id}")
    request = proposal.request
    if request.mode == "plan":
        raise ApprovalInvalid(f"audit {audit_id} was requested in plan mode: nothing may be applied")
    target = request.resource
    if scope is not None and (scope.protected(target) or not scope.in_remediation_scope(target)):
        raise ApprovalInvalid(f"{target.id!r} is protected or outside this deployment's remediation scope")
    if (
        decision.audit_id != audit_id
        or decision.resource != request.resource
        or decision.mode != request.mode
    ):
        raise ApprovalInvalid(
            f"the decision on record is not about audit {audit_id} of {request.resource.id!r}"
        )
    if decision.decision != "approve":
        raise ApprovalInvalid(f"audit {audit_id} was rejected by {decision.approver}")
    # An approval is for the audit at hand, not for ever: a late resume asks again (a new audit).
    if (now or datetime.now(UTC)) - decision.decided_at > DECISION_LIFETIME:
        raise ApprovalInvalid(f"the approval of audit {audit_id} is older than {DECISION_LIFETIME.days} days")
    plans = proposal.select(decision.remediation_ids, settings)
    if {p.remediation_id for p in plans} != set(decision.remediation_ids):
        raise ApprovalInvalid("the approved remediations can no longer all be planned from the snapshot")
    if proposal.digest(plans) != decision.plan_digest:
        raise ApprovalInvalid("the plans re-derived from storage are not the plans the person approved")
    check_targets(plans, request, proposal.snapshot)
    if decision.selection != "named" and (unnamed := [p.plan_id for p in plans if needs_naming(p)]):
        raise ApprovalInvalid(f"plans {', '.join(unnamed)} must be named by id to be approved")
    return Authorized(proposal, decision, plans)
