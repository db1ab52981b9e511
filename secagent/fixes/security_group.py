"""Security group fixes: revoke exactly the offending rules by rule id (never the whole group), or
narrow them to the deployment's CIDR; the rollback authorizes the identical rules again."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from secagent.fixes.planning import Draft, PlanningState
from secagent.models.plans import ApiCall
from secagent.models.security_group import SecurityGroupRule
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import SecurityGroupSnapshot

REVOKE_RISK = (
    "Traffic the rule admitted is refused from the moment it is revoked; connections that rely on "
    "it (an administrator's SSH session, a client of the service) stop working."
)
NARROW_RISK = "Only the deployment's trusted range may still reach the port; every other source is refused."


@dataclass
class SecurityGroupPlanningState(PlanningState):
    """A group's ingress and egress rules as they will be after the plans drafted so far."""

    snapshot: SecurityGroupSnapshot
    ingress: list[SecurityGroupRule] = field(default_factory=list)
    egress: list[SecurityGroupRule] = field(default_factory=list)

    @classmethod
    def start(cls, snapshot: SecurityGroupSnapshot, settings: AgentSettings) -> "SecurityGroupPlanningState":
        cfg = snapshot.config
        return cls(
            snapshot=snapshot,
            settings=settings,
            ingress=[r.model_copy() for r in cfg.ingress_rules.value or []],
            egress=[r.model_copy() for r in cfg.egress_rules.value or []],
        )

    def tracked(self) -> dict[str, Any]:
        return {"ingress_rules": list(self.ingress), "egress_rules": list(self.egress)}

    @property
    def group_id(self) -> str:
        return self.snapshot.group_id

    def ec2(self, operation: str, **parameters: Any) -> ApiCall:
        return ApiCall(
            service="ec2",
            operation=operation,
            parameters={"GroupId": self.group_id, **parameters},
            region=self.region,
        )


def _shown(rules: Iterable[SecurityGroupRule]) -> str:
    return ", ".join(
        f"{r.rule_id} ({r.traffic()} {'to' if r.egress else 'from'} {r.source()})" for r in rules
    )


def _narrowed(rule: SecurityGroupRule, settings: AgentSettings) -> SecurityGroupRule | None:
    """The rule with its internet-wide source replaced by the deployment's trusted CIDR, if one is set."""
    if rule.open_to_any_ipv4 and settings.narrow_ingress_cidr_ipv4:
        return rule.model_copy(update={"cidr_ipv4": settings.narrow_ingress_cidr_ipv4})
    if rule.open_to_any_ipv6 and settings.narrow_ingress_cidr_ipv6:
        return rule.model_copy(update={"cidr_ipv6": settings.narrow_ingress_cidr_ipv6})
    return None


def close_rules(
    state: SecurityGroupPlanningState,
    offending: list[SecurityGroupRule],
    what: str,
    *,
    narrow: bool = True,
) -> Draft | None:
    """The fix for ``offending`` (rules still present in ``state``): narrow every one of them to
    the deployment's trusted CIDR when the settings name one for each (and ``narrow`` allows it: a
    control that wants no rule at all is not met by a narrower one), else revoke them by id.
    None when an earlier plan already closed them all."""
    current = {r.rule_id: r for r in (*state.ingress, *state.egress)}
    # Each rule once, as the plans so far leave it (two checks may name the same rule).
    rules = list({r.rule_id: current[r.rule_id] for r in offending if r.rule_id in current}.values())
    if not rules:
        return None  # an earlier plan already closed them
    egress = rules[0].egress
    if any(r.egress != egress for r in rules):
        raise ValueError("one fix closes ingress or egress rules, not both")
    kept = state.egress if egress else state.ingress
    narrowed = None if egress or not narrow else [_narrowed(r, state.settings) for r in rules]
    if narrowed is not None and all(n is not None for n in narrowed):
        after = [n for n in narrowed if n is not None]
        by_id = {n.rule_id: n for n in after}
        kept[:] = [by_id.get(r.rule_id, r) for r in kept]
        return Draft(
            title=f"Narrow {what} to the deployment's trusted range: {_shown(after)}",
            api_call=state.ec2(
                "ModifySecurityGroupRules",
                SecurityGroupRules=[
                    {"SecurityGroupRuleId": n.rule_id, "SecurityGroupRule": n.rule_request()} for n in after
                ],
            ),
            risk=NARROW_RISK,
            reversible=True,
            rollback=state.ec2(
                "ModifySecurityGroupRules",
                SecurityGroupRules=[
                    {"SecurityGroupRuleId": r.rule_id, "SecurityGroupRule": r.rule_request()} for r in rules
                ],
            ),
            previous_config=[r.to_json_dict() for r in rules],
        )
    ids = {r.rule_id for r in rules}
    kept[:] = [r for r in kept if r.rule_id not in ids]
    direction = "Egress" if egress else "Ingress"
    return Draft(
        title=f"Revoke {what}: {_shown(rules)}",
        api_call=state.ec2(
            f"RevokeSecurityGroup{direction}", SecurityGroupRuleIds=[r.rule_id for r in rules]
        ),
        risk=REVOKE_RISK,
        reversible=True,
        # The identical rules again (EC2 gives them new rule ids).
        rollback=state.ec2(
            f"AuthorizeSecurityGroup{direction}", IpPermissions=[r.ip_permission() for r in rules]
        ),
        previous_config=[r.to_json_dict() for r in rules],
    )


def changed_since_fix(fix: ApiCall, snapshot: SecurityGroupSnapshot) -> str | None:
    """Why undoing ``fix`` (a narrowing) would overwrite someone else's change, or None: each rule
    it modified must still be exactly as the fix left it. (A revoke's undo authorizes new rules
    and overwrites nothing.)"""
    if (fix.service, fix.operation) != ("ec2", "ModifySecurityGroupRules"):
        return None
    now = {r.rule_id: r for r in (snapshot.config.ingress_rules.value or [])}
    if not snapshot.config.ingress_rules.known:
        return "the group's rules cannot be read, so they cannot be shown unchanged since the fix"
    for modified in fix.parameters.get("SecurityGroupRules") or []:
        rule_id = modified.get("SecurityGroupRuleId")
        current = now.get(rule_id)
        if current is None or current.rule_request() != modified.get("SecurityGroupRule"):
            return f"rule {rule_id} changed since the fix; undoing it would overwrite that change"
    return None
