"""Check authoring kit: what a check module returns and how it proposes a fix."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from secagent.checks.policy import PolicyReport, analyze_policy
from secagent.models.findings import Severity, Status
from secagent.models.plans import ApiCall
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Acl, Encryption, Grant, Probe, PublicAccessBlock, Snapshot

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PUBLIC_GROUPS = (ALL_USERS, AUTHENTICATED_USERS)
READ_PERMISSIONS = ("READ", "READ_ACP", "FULL_CONTROL")
WRITE_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")


@dataclass(frozen=True)
class Result:
    """One verdict of a check. ``controls`` names exactly the controls this verdict fails
    (None: all of the check's controls); ``severity`` overrides the check's when the
    evidence makes it worse or milder (e.g. a public policy that only lets anyone read)."""

    status: Status
    evidence: dict[str, Any]
    error: str | None = None
    controls: tuple[str, ...] | None = None
    severity: Severity | None = None
    remediable: bool = True  # False: no fix can be proposed for this verdict (the finding names none)


def passed(**evidence: Any) -> list[Result]:
    return [Result(Status.PASS, evidence)]


def failed(
    *,
    controls: Sequence[str] | None = None,
    severity: Severity | None = None,
    remediable: bool = True,
    **evidence: Any,
) -> list[Result]:
    return [
        Result(
            Status.FAIL,
            evidence,
            controls=None if controls is None else tuple(controls),
            severity=severity,
            remediable=remediable,
        )
    ]


def unknown(error: str, **evidence: Any) -> list[Result]:
    return [Result(Status.UNKNOWN, evidence, error)]


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


def public_grants(acl: Acl | None, permissions: tuple[str, ...]) -> list[Grant]:
    if acl is None:
        return []
    return [g for g in acl.grants if g.grantee_uri in PUBLIC_GROUPS and g.permission in permissions]


def bucket_policy_report(
    snapshot: Snapshot, policy: dict[str, Any] | None, trusted_accounts: frozenset[str] = frozenset()
) -> PolicyReport:
    """The policy engine on ``policy`` (as discovered, or as planned) for this snapshot's bucket,
    owner account and owner canonical id (the ACL's owner): every policy check asks it this way."""
    acl = snapshot.config.acl.value
    return analyze_policy(
        policy,
        snapshot.bucket,
        snapshot.account_id,
        trusted_accounts,
        owner_canonical_id=acl.owner_id if acl else None,
    )


def neutralised_by(snapshot: Snapshot, setting: str) -> bool | None:
    """Does Block Public Access (bucket or account level) turn ``setting`` on? None: cannot tell
    (a level is unreadable and the readable one does not turn it on)."""
    probes = (snapshot.config.public_access_block, snapshot.config.account_public_access_block)
    if any(isinstance(p.value, PublicAccessBlock) and getattr(p.value, setting) for p in probes):
        return True
    return None if any(not p.known for p in probes) else False


def ignores_public_acls(snapshot: Snapshot) -> bool | None:
    return neutralised_by(snapshot, "ignore_public_acls")


def restricts_public_buckets(snapshot: Snapshot) -> bool | None:
    return neutralised_by(snapshot, "restrict_public_buckets")


def public_acl_grants_result(snapshot: Snapshot, permissions: tuple[str, ...]) -> list[Result]:
    """The verdict of the public-ACL checks. Grants that IgnorePublicAcls makes S3 ignore are not
    public access (S3 user guide, Block Public Access): PASS, with the latent grants as evidence."""
    grants = [g.to_json_dict() for g in public_grants(snapshot.config.acl.value, permissions)]
    if not grants:
        return passed(publicGrants=[])
    neutralised = ignores_public_acls(snapshot)
    if neutralised:
        return passed(publicGrants=[], latentPublicGrants=grants, neutralisedBy="IgnorePublicAcls")
    if neutralised is None:
        return unknown(
            "the ACL grants public access, but Block Public Access is unreadable: "
            "cannot tell whether IgnorePublicAcls neutralises it",
            publicGrants=grants,
        )
    return failed(publicGrants=grants)
