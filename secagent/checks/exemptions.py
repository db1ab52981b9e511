"""Exemptions (issue 8): accepted failures, from the bucket's tags or the deploy-time allow-list.

A check that would FAIL on an exempted bucket is reported as EXEMPT (never remediated) with the
original evidence plus ``exemption: {source, reason, until, grantedBy}``; ``grantedBy`` names what
granted it (the bucket tag keys, or the deploy-time exemptions setting ``SECAGENT_EXEMPTIONS``).

Bucket tags are self-service (whoever may tag the bucket may set them), so they are governed
(S3 tag values allow only letters, digits, spaces and ``+ - = . _ : / @``):

- ``secagent:exempt``: check ids separated by spaces, or ``all``
- ``secagent:exempt-reason``: free text, required
- ``secagent:exempt-until``: ``YYYY-MM-DD``, required, at most ``TAG_MAX_DAYS`` (90) days after
  the evaluation day (today, UTC); applies up to and including that UTC day
- a tag never exempts a CRITICAL finding: only the deploy-time allow-list can

A tag exemption that does not apply (no reason; no, malformed or too distant expiry; a CRITICAL
finding) says why in the evidence of the FAIL findings it names (``exemptionNotApplied:
{source, why}``); unknown check ids in the tag are ignored and listed in the evidence of the
bucket's FAIL and EXEMPT findings (``exemptionUnknownChecks``). An expired exemption leaves the
finding FAIL with ``exemptionExpired: {until, source}``.

The deploy-time allow-list (``AgentSettings.exemptions``, set by whoever deploys the stack) may
exempt any finding, CRITICAL included, and its ``until`` is optional.

A person may also request one through the audit API (``POST /exemptions``;
secagent.models.exemption) and another person approve it (``POST /exemptions/{id}/approve``):
governed like a tag (a reason, an expiry at most 90 days after the request, never a CRITICAL
finding) and sealed by the API, so only a record the API wrote counts; ``grantedBy`` is then the
approver's ARN, ``requestedBy`` the requester's and ``exemptionId`` the record's id.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from secagent.models.exemption import MAX_DAYS, ExemptionRecord
from secagent.models.findings import Finding, Severity, Status
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot, Snapshot

TAG_CHECKS = "secagent:exempt"
TAG_REASON = "secagent:exempt-reason"
TAG_UNTIL = "secagent:exempt-until"
ALL = "all"
TAG_MAX_DAYS = 90  # a tag exemption must expire at most this many days after the evaluation day

Source = Literal["tag", "deployment", "api"]
GRANTED_BY: dict[Source, str] = {
    "tag": f"bucket tags {TAG_CHECKS}, {TAG_REASON}, {TAG_UNTIL}",
    "deployment": "deploy-time exemptions setting (SECAGENT_EXEMPTIONS)",
    "api": "a person, through the audit API (POST /exemptions)",
}
CRITICAL_BY_API = (
    f"an exemption granted through the API never covers a {Severity.CRITICAL} finding; "
    "only the deploy-time exemptions setting (SECAGENT_EXEMPTIONS) can"
)
CRITICAL_BY_TAG = (
    f"a bucket tag cannot exempt a {Severity.CRITICAL} finding; "
    f"only the deploy-time exemptions setting (SECAGENT_EXEMPTIONS) can"
)


@dataclass(frozen=True)
class Grant:
    """One exemption that names this bucket."""

    source: Source
    checks: frozenset[str] | None  # None: every check
    reason: str
    until: date | None = None
    granted_by: str | None = None  # source "api": who approved it (an ARN, as STS proved it)
    requested_by: str | None = None  # source "api": who asked for it
    exemption_id: str | None = None  # source "api": the record's id (revoke it by this id)

    def covers(self, check_id: str) -> bool:
        return self.checks is None or check_id in self.checks

    def active(self, today: date) -> bool:
        return self.until is None or today <= self.until

    def applies_to(self, finding: Finding) -> bool:
        """Covers the finding's check and may exempt its severity (only the deploy-time list may
        exempt a CRITICAL one: a tag or an API record never does, whatever it names)."""
        if self.source != "deployment" and finding.severity is Severity.CRITICAL:
            return False
        return self.covers(finding.check_id)

    def evidence(self) -> dict[str, Any]:
        evidence = {
            "source": self.source,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
            "grantedBy": self.granted_by or GRANTED_BY[self.source],
        }
        if self.requested_by:
            evidence["requestedBy"] = self.requested_by
        if self.exemption_id:
            evidence["exemptionId"] = self.exemption_id
        return evidence


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
        covering = [g for g in self.grants if g.applies_to(finding)]
        if active := next((g for g in covering if g.active(today)), None):
            evidence["exemption"] = active.evidence()
            update = {"status": Status.EXEMPT, "evidence": evidence, "remediation_id": None}
            return finding.model_copy(update=update)
        if covering:  # none active: all expired; name the one that ended last
            latest = max(covering, key=lambda g: g.until or date.max)
            evidence["exemptionExpired"] = {"until": str(latest.until), "source": latest.source}
        if finding.severity is Severity.CRITICAL and self._tag_names(finding.check_id):
            # Whatever else is wrong with the tag, fixing it would not help: say the real reason.
            evidence["exemptionNotApplied"] = {"source": "tag", "why": CRITICAL_BY_TAG}
        elif finding.severity is Severity.CRITICAL and any(
            g.source == "api" and g.covers(finding.check_id) for g in self.grants
        ):
            evidence["exemptionNotApplied"] = {"source": "api", "why": CRITICAL_BY_API}
        else:
            for checks, why in self.not_applied:
                if checks is None or finding.check_id in checks:
                    evidence["exemptionNotApplied"] = why
                    break
        return finding.model_copy(update={"evidence": evidence})

    def _tag_names(self, check_id: str) -> bool:
        """A bucket tag names this check, whether or not its exemption is valid."""
        tag_grants = (g.checks for g in self.grants if g.source == "tag")
        rejected = (checks for checks, _ in self.not_applied)  # only tags are ever rejected
        return any(checks is None or check_id in checks for checks in (*tag_grants, *rejected))


def _split_checks(value: str) -> frozenset[str] | None:
    ids = value.split()
    return None if ALL in (i.lower() for i in ids) else frozenset(ids)


def _from_tags(tags: dict[str, str], known: Collection[str], today: date, out: BucketExemptions) -> None:
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
    until = _tag_until((tags.get(TAG_UNTIL) or "").strip(), today)
    if isinstance(until, str):
        out.not_applied.append((named, {"source": "tag", "why": until}))
        return
    out.grants.append(Grant(source="tag", checks=named, reason=reason, until=until))


def _tag_until(raw: str, today: date) -> date | str:
    """The tag's expiry, or why it is not acceptable: missing, malformed, or too far ahead."""
    if not raw:
        return f"tag {TAG_UNTIL} is missing or empty: a tag exemption must expire within {TAG_MAX_DAYS} days"
    try:
        until = date.fromisoformat(raw)
        if len(raw) != 10:
            raise ValueError(raw)
    except ValueError:
        return f"tag {TAG_UNTIL} is not a YYYY-MM-DD date: {raw!r}"
    latest = today + timedelta(days=TAG_MAX_DAYS)
    if until > latest:
        return (
            f"tag {TAG_UNTIL} {raw} is more than {TAG_MAX_DAYS} days after today ({today.isoformat()}); "
            f"the latest allowed is {latest.isoformat()}"
        )
    return until  # an expired one is kept: the finding then says exemptionExpired


def exemptions_for(
    snapshot: Snapshot, settings: AgentSettings, known: Collection[str], today: date
) -> BucketExemptions:
    """The exemptions that name this bucket on ``today`` (UTC): deploy-time ones first, then the
    bucket's tags (whose expiry may be at most TAG_MAX_DAYS after ``today``)."""
    out = BucketExemptions()
    # The deploy-time list and the API's records name buckets; other resource types are exempted
    # by their own tags only (a group id is also a valid bucket name: never let one stand for the other).
    if isinstance(snapshot, BucketSnapshot):
        for e in settings.exemptions:
            if e.bucket == snapshot.bucket:
                checks = None if e.checks == ALL else frozenset(e.checks)
                out.grants.append(Grant(source="deployment", checks=checks, reason=e.reason, until=e.until))
        for record in snapshot.exemptions:
            grant = _from_record(record, snapshot.bucket, known, today)
            if grant is not None:
                out.grants.append(grant)
    tags = snapshot.resource_tags()
    if tags.known and tags.value:
        _from_tags(tags.value, known, today, out)
    return out


def _from_record(record: ExemptionRecord, bucket: str, known: Collection[str], today: date) -> Grant | None:
    """A sealed API record, re-checked here as the API checked it: for this bucket, approved by a
    second person and not revoked, registered checks, an expiry at most MAX_DAYS after the request."""
    if record.bucket != bucket or record.revoked_at is not None or record.approved_by is None:
        return None
    requested_on = record.requested_at.astimezone(UTC).date()
    if record.until > requested_on + timedelta(days=MAX_DAYS) or requested_on > today:
        return None
    checks = frozenset(record.check_ids) & frozenset(known)
    if not checks:
        return None
    return Grant(
        source="api",
        checks=checks,
        reason=record.reason,
        until=record.until,
        granted_by=record.approved_by,
        requested_by=record.requested_by,
        exemption_id=record.exemption_id,
    )


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
    exemptions = exemptions_for(snapshot, settings, known, today)
    return [exemptions.apply(f, today) for f in findings]
