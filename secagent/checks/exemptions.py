"""Exemptions (issue 8): accepted failures, from the bucket's tags or the deploy-time allow-list.

A check that would FAIL on an exempted bucket is reported as EXEMPT (never remediated) with the
original evidence plus ``exemption: {source, reason, until}``. Bucket tags (S3 tag values allow
only letters, digits, spaces and ``+ - = . _ : / @``):

- ``secagent:exempt``: check ids separated by spaces, or ``all``
- ``secagent:exempt-reason``: free text, required (without it the exemption does not apply)
- ``secagent:exempt-until``: ``YYYY-MM-DD``, optional; applies up to and including that UTC day

A tag exemption that does not apply says why in the evidence of the FAIL findings it names
(``exemptionNotApplied``); unknown check ids in the tag are ignored and listed in the evidence
of the bucket's FAIL and EXEMPT findings (``exemptionUnknownChecks``). An expired exemption
leaves the finding FAIL with ``exemptionExpired: {until, source}``.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from secagent.models.findings import Finding, Status
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Snapshot

TAG_CHECKS = "secagent:exempt"
TAG_REASON = "secagent:exempt-reason"
TAG_UNTIL = "secagent:exempt-until"
ALL = "all"

Source = Literal["tag", "deployment"]


@dataclass(frozen=True)
class Grant:
    """One exemption that names this bucket."""

    source: Source
    checks: frozenset[str] | None  # None: every check
    reason: str
    until: date | None = None

    def covers(self, check_id: str) -> bool:
        return self.checks is None or check_id in self.checks

    def active(self, today: date) -> bool:
        return self.until is None or today <= self.until

    def evidence(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
        }


@dataclass
class BucketExemptions:
    grants: list[Grant] = field(default_factory=list)
    # A tag exemption that does not apply: which checks it named (None: all) and why.
    not_applied: list[tuple[frozenset[str] | None, dict[str, Any]]] = field(default_factory=list)
    unknown_checks: list[str] = field(default_factory=list)  # ids in the tag the registry lacks

    def apply(self, finding: Finding, today: date) -> Finding:
        """The finding as reported: EXEMPT when an active exemption covers a FAIL."""
        if finding.status is not Status.FAIL:
            return finding
        evidence = dict(finding.evidence)
        if self.unknown_checks:
            evidence["exemptionUnknownChecks"] = self.unknown_checks
        covering = [g for g in self.grants if g.covers(finding.check_id)]
        if active := next((g for g in covering if g.active(today)), None):
            evidence["exemption"] = active.evidence()
            update = {"status": Status.EXEMPT, "evidence": evidence, "remediation_id": None}
            return finding.model_copy(update=update)
        if covering:  # none active: all expired; name the one that ended last
            latest = max(covering, key=lambda g: g.until or date.max)
            evidence["exemptionExpired"] = {"until": str(latest.until), "source": latest.source}
        for checks, why in self.not_applied:
            if checks is None or finding.check_id in checks:
                evidence["exemptionNotApplied"] = why
                break
        return finding.model_copy(update={"evidence": evidence})


def _split_checks(value: str) -> frozenset[str] | None:
    ids = value.split()
    return None if ALL in (i.lower() for i in ids) else frozenset(ids)


def _from_tags(tags: dict[str, str], known: Collection[str], out: BucketExemptions) -> None:
    if TAG_CHECKS not in tags:
        return
    named = _split_checks(tags[TAG_CHECKS])
    if named is not None:
        out.unknown_checks = sorted(named - set(known))
        named = frozenset(named & set(known))
        if not named:
            return
    reason = (tags.get(TAG_REASON) or "").strip()
    if not reason:
        out.not_applied.append((named, {"source": "tag", "why": f"tag {TAG_REASON} is missing or empty"}))
        return
    until: date | None = None
    if raw := (tags.get(TAG_UNTIL) or "").strip():
        try:
            until = date.fromisoformat(raw)
            if len(raw) != 10:
                raise ValueError(raw)
        except ValueError:
            why = f"tag {TAG_UNTIL} is not a YYYY-MM-DD date: {raw!r}"
            out.not_applied.append((named, {"source": "tag", "why": why}))
            return
    out.grants.append(Grant(source="tag", checks=named, reason=reason, until=until))


def exemptions_for(snapshot: Snapshot, settings: AgentSettings, known: Collection[str]) -> BucketExemptions:
    """The exemptions that name this bucket: deploy-time ones first, then the bucket's tags."""
    out = BucketExemptions()
    for e in settings.exemptions:
        if e.bucket == snapshot.bucket:
            checks = None if e.checks == ALL else frozenset(e.checks)
            out.grants.append(Grant(source="deployment", checks=checks, reason=e.reason, until=e.until))
    tags = snapshot.config.tags
    if tags.known and tags.value:
        _from_tags(tags.value, known, out)
    return out


def validate_exemptions(settings: AgentSettings, known: Collection[str]) -> None:
    """Deploy-time exemptions may only name registered checks (like disabled_checks)."""
    if unknown := sorted(settings.exempt_check_ids() - set(known)):
        raise ValueError(f"exemptions name checks not in the registry: {unknown}")


def apply_exemptions(
    findings: Iterable[Finding],
    snapshot: Snapshot,
    settings: AgentSettings,
    known: Collection[str],
    now: datetime | None = None,
) -> list[Finding]:
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    exemptions = exemptions_for(snapshot, settings, known)
    return [exemptions.apply(f, today) for f in findings]
