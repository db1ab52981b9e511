"""Check authoring kit: what a check module returns, and the verdicts several checks share.

A check proposes its fix with the builders of secagent.fixes (Draft, BucketPlanningState and the
document edits), which know nothing of checks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from secagent.checks.policy import PolicyReport, analyze_policy
from secagent.models.access import PUBLIC_GROUPS
from secagent.models.findings import Severity, Status
from secagent.models.snapshot import Acl, BucketSnapshot, Grant, PublicAccessBlock

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


def public_grants(acl: Acl | None, permissions: tuple[str, ...]) -> list[Grant]:
    if acl is None:
        return []
    return [g for g in acl.grants if g.grantee_uri in PUBLIC_GROUPS and g.permission in permissions]


def bucket_policy_report(
    snapshot: BucketSnapshot, policy: dict[str, Any] | None, trusted_accounts: frozenset[str] = frozenset()
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


def neutralised_by(snapshot: BucketSnapshot, setting: str) -> bool | None:
    """Does Block Public Access (bucket or account level) turn ``setting`` on? None: cannot tell
    (a level is unreadable and the readable one does not turn it on)."""
    probes = (snapshot.config.public_access_block, snapshot.config.account_public_access_block)
    if any(isinstance(p.value, PublicAccessBlock) and getattr(p.value, setting) for p in probes):
        return True
    return None if any(not p.known for p in probes) else False


def ignores_public_acls(snapshot: BucketSnapshot) -> bool | None:
    return neutralised_by(snapshot, "ignore_public_acls")


def restricts_public_buckets(snapshot: BucketSnapshot) -> bool | None:
    return neutralised_by(snapshot, "restrict_public_buckets")


def public_acl_grants_result(snapshot: BucketSnapshot, permissions: tuple[str, ...]) -> list[Result]:
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
