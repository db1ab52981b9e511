"""A sweep's posture: every result of the sweep folded into one ``PostureReport``, and its
renderings (Markdown for a ticket, plain-text tables for a terminal).

Pure: the caller reads the records (the request, the listings, the results, the Map run's failed
items) and writes what this returns. One pass over the findings, so a sweep of thousands of
resources folds in milliseconds.

Per control, a resource's verdict is the worst of its findings naming the control (FAIL, then
EXEMPT, UNKNOWN, PASS: secagent.checks.controls). Only what a finding names counts: a FAIL that
names a subset of its check's controls gives the others no verdict, so they are never counted as
passing on its say. Findings naming no control are counted under their check's id. Findings of a
resource that was not judged (access denied, failed, gone) count nowhere: the resource is
counted unjudged and listed as such.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from secagent.models.findings import Severity, Status
from secagent.models.outcome import Outcome
from secagent.models.posture import (
    AccountPosture,
    ControlAccount,
    ControlFailure,
    ControlPosture,
    FailingCheck,
    FailingResource,
    IncompleteReason,
    PostureReport,
    PostureTotals,
    StatusCounts,
    Unjudged,
    UnjudgedCounts,
    UnjudgedResource,
    posture_json_schema,
)
from secagent.models.report import ReportControl, ReportFinding, SeverityCounts, StepError
from secagent.models.snapshot import ResourceRef
from secagent.models.sweep import AccountListing, ResourceResult, SweepRequest
from secagent.render import _first_line, _md, _md_table, short_time, table

__all__ = ["posture_json_schema", "posture_of", "render_markdown", "render_table"]

_RANK = {s: s.rank for s in Severity}
_NO_SEVERITY = len(Severity)  # ranks after every severity: nothing fails
_VERDICT_RANK = {Status.PASS: 0, Status.UNKNOWN: 1, Status.EXEMPT: 2, Status.FAIL: 3}
_JUDGED = (Outcome.COMPLIANT, Outcome.NON_COMPLIANT)
_UNJUDGED: dict[Outcome, Unjudged] = {
    Outcome.RESOURCE_NOT_FOUND: "RESOURCE_NOT_FOUND",
    Outcome.ACCESS_DENIED: "ACCESS_DENIED",
    Outcome.FAILED: "FAILED",
}
_MESSAGE_LIMIT = 300
_SHORT_SEVERITIES = ("crit", "high", "med", "low", "info")  # in Severity's order

# A control: (standard, control id); a check whose findings name no control: (None, check id).
_ControlKey = tuple[str | None, str]
_ResourceKey = tuple[str, str, str]  # account, type, id


@dataclass
class _Tally:
    """One account's (or the sweep's) counts while folding."""

    seen: int = 0
    failed_items: int = 0  # of the FAILED outcomes: child executions that failed
    outcomes: Counter[str] = field(default_factory=Counter)
    findings: Counter[Status] = field(default_factory=Counter)
    failing: Counter[Severity] = field(default_factory=Counter)

    def counts(self, listed: int) -> dict[str, Any]:
        compliant, non_compliant = self.outcomes[Outcome.COMPLIANT], self.outcomes[Outcome.NON_COMPLIANT]
        unjudged = UnjudgedCounts(
            resource_not_found=self.outcomes[Outcome.RESOURCE_NOT_FOUND],
            access_denied=self.outcomes[Outcome.ACCESS_DENIED],
            failed=self.outcomes[Outcome.FAILED],
        )
        return {
            "resources": listed,
            "seen": self.seen,
            "judged": compliant + non_compliant,
            "compliant": compliant,
            "non_compliant": non_compliant,
            "unjudged": self.seen - compliant - non_compliant,
            "unjudged_by_outcome": unjudged,
            "unseen": max(0, listed - self.seen),
            "findings": _status_counts(self.findings),
            "failing_by_severity": _severity_counts(self.failing),
        }


@dataclass
class _ControlTally:
    check_ids: set[str] = field(default_factory=set)
    verdicts: Counter[Status] = field(default_factory=Counter)
    by_account: dict[str, Counter[Status]] = field(default_factory=dict)
    failing: list[ControlFailure] = field(default_factory=list)
    worst: int = _NO_SEVERITY


def _status_counts(counts: Mapping[Status, int]) -> StatusCounts:
    return StatusCounts.model_validate({s.value.lower(): counts.get(s, 0) for s in Status})


def _severity_counts(counts: Mapping[Severity, int]) -> SeverityCounts:
    return SeverityCounts(**{s.value.lower(): counts.get(s, 0) for s in Severity})


def _severity_order(counts: SeverityCounts) -> tuple[int, ...]:
    """Descending by the worst severity first (for a sort key: negated)."""
    return (-counts.critical, -counts.high, -counts.medium, -counts.low, -counts.info)


def _control_keys(finding: ReportFinding) -> list[_ControlKey]:
    return [(c.standard, c.control) for c in finding.controls] or [(None, finding.check_id)]


def _step_error(error: Any) -> StepError | None:
    """A failed item's error as a user may see it: its name and sentence, never a raw cause."""
    if isinstance(error, StepError):
        return error
    if isinstance(error, str):
        return StepError(error=error[:_MESSAGE_LIMIT])
    if isinstance(error, Mapping):
        name, message = error.get("error") or error.get("Error"), error.get("message")
        return StepError(
            error=str(name)[:_MESSAGE_LIMIT] if name else None,
            message=str(message)[:_MESSAGE_LIMIT] if message else None,
        )
    return None


def _why(error: StepError | None) -> str:
    if error is None:
        return ""
    return ": ".join(str(part) for part in (error.error, error.message) if part)


def _latest(results: Iterable[ResourceResult], request: SweepRequest) -> dict[_ResourceKey, ResourceResult]:
    """One result per resource (the latest read, if one was written twice), each of this sweep."""
    wanted = set(request.accounts)
    latest: dict[_ResourceKey, ResourceResult] = {}
    for result in results:
        if result.sweep_id != request.sweep_id:
            raise ValueError(f"a result of sweep {result.sweep_id!r} in sweep {request.sweep_id!r}")
        if result.account_id not in wanted:
            raise ValueError(f"a result of account {result.account_id}, which the sweep did not request")
        key = result.identity
        if key not in latest or latest[key].observed_at <= result.observed_at:
            latest[key] = result
    return latest


def posture_of(
    request: SweepRequest,
    listings: list[AccountListing],
    results: list[ResourceResult],
    *,
    failed_items: list[dict[str, Any]] | None = None,
    finished_at: datetime | None = None,
    incomplete_reason: str | None = None,
) -> PostureReport:
    """The sweep's posture from what it recorded.

    ``listings``: ``accounts.json``; ``results``: every ``ResourceResult`` written; ``failed_items``:
    the items whose child execution failed, each ``{accountId, resource: {type, id}, error}``;
    ``incomplete_reason``: why the Map run stopped early, if it did. ``finished_at`` defaults to now.
    A listing or a result of an account the request does not name (or of another sweep) is a
    ValueError: the records are mixed up, and no posture can be claimed from them.
    """
    wanted = set(request.accounts)
    listing_of: dict[str, AccountListing] = {}
    for listing in listings:
        if listing.account_id not in wanted:
            raise ValueError(f"a listing of account {listing.account_id}, which the sweep did not request")
        listing_of[listing.account_id] = listing
    latest: dict[_ResourceKey, ResourceResult | None] = dict(_latest(results, request))

    tallies = {account: _Tally() for account in request.accounts}
    controls: dict[_ControlKey, _ControlTally] = {}
    failing_resources: list[FailingResource] = []
    unjudged: list[UnjudgedResource] = []

    for result in [r for r in latest.values() if r is not None]:
        tally = tallies[result.account_id]
        tally.seen += 1
        if result.outcome not in _JUDGED:
            outcome = _UNJUDGED.get(result.outcome, "FAILED")  # a sweep gives no other outcome
            tally.outcomes[outcome] += 1
            unjudged.append(
                UnjudgedResource(
                    account_id=result.account_id,
                    region=result.region,
                    resource=result.resource,
                    resource_arn=result.resource_arn,
                    outcome=outcome,
                    error=result.error,
                )
            )
            continue
        tally.outcomes[result.outcome] += 1
        failing = _fold_findings(result, tally, controls)
        if failing:
            failing_resources.append(_failing_resource(result, failing))

    unattributed = 0
    for item in failed_items or []:
        account, resource, error = _failed_item(item)
        if account not in wanted or resource is None:
            unattributed += 1
            continue
        key = (account, resource.type, resource.id)
        if key in latest:
            continue  # its result was written: that is what was seen
        latest[key] = None  # the same item failing twice counts once
        tally = tallies[account]
        tally.seen += 1
        tally.failed_items += 1
        tally.outcomes[Outcome.FAILED] += 1
        unjudged.append(
            UnjudgedResource(
                account_id=account,
                region=None,
                resource=resource,
                resource_arn=None,
                outcome="FAILED",
                error=error,
            )
        )

    by_account = [
        _account_posture(account, listing_of.get(account), tallies[account]) for account in request.accounts
    ]
    reasons = _incomplete_reasons(by_account, tallies, incomplete_reason, unattributed)
    total = _Tally()
    for tally in tallies.values():
        total.seen += tally.seen
        total.failed_items += tally.failed_items
        total.outcomes.update(tally.outcomes)
        total.findings.update(tally.findings)
        total.failing.update(tally.failing)
    listed = sum(a.resources for a in by_account)

    by_account.sort(
        key=lambda a: (
            _severity_order(a.failing_by_severity),
            -a.non_compliant,
            a.status == "LISTED",
            -(a.unjudged + a.unseen),
            a.account_id,
        )
    )
    failing_resources.sort(
        key=lambda r: (_RANK[r.worst], -r.failing, r.account_id, r.resource.type, r.resource.id)
    )
    unjudged.sort(key=lambda u: (u.account_id, u.resource.type, u.resource.id))
    return PostureReport(
        sweep_id=request.sweep_id,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        finished_at=finished_at or datetime.now(UTC),
        resource_types=list(request.resource_types),
        accounts=list(request.accounts),
        complete=not reasons,
        incomplete_reasons=reasons,
        totals=PostureTotals(
            accounts=len(request.accounts),
            accounts_listed=sum(a.status == "LISTED" for a in by_account),
            **total.counts(listed),
        ),
        by_account=by_account,
        by_control=_control_postures(controls),
        failing_resources=failing_resources,
        unjudged_resources=unjudged,
    )


def _fold_findings(
    result: ResourceResult, tally: _Tally, controls: dict[_ControlKey, _ControlTally]
) -> list[ReportFinding]:
    """Counts a judged resource's findings and its verdict per control; returns its FAIL findings."""
    verdicts: dict[_ControlKey, Status] = {}
    failing: list[ReportFinding] = []
    for finding in result.findings:
        status = finding.status
        tally.findings[status] += 1
        if status is Status.FAIL:
            tally.failing[finding.severity] += 1
            failing.append(finding)
        for key in _control_keys(finding):
            control = controls.get(key)
            if control is None:
                control = controls[key] = _ControlTally()
            control.check_ids.add(finding.check_id)
            before = verdicts.get(key)
            if before is None or _VERDICT_RANK[status] > _VERDICT_RANK[before]:
                verdicts[key] = status
            if status is Status.FAIL:
                control.worst = min(control.worst, _RANK[finding.severity])
                control.failing.append(
                    ControlFailure(
                        account_id=result.account_id,
                        region=result.region,
                        resource=result.resource,
                        resource_arn=result.resource_arn,
                        check_id=finding.check_id,
                        severity=finding.severity,
                    )
                )
    for key, verdict in verdicts.items():
        control = controls[key]
        control.verdicts[verdict] += 1
        per_account = control.by_account.get(result.account_id)
        if per_account is None:
            per_account = control.by_account[result.account_id] = Counter()
        per_account[verdict] += 1
    return failing


def _failing_resource(result: ResourceResult, failing: list[ReportFinding]) -> FailingResource:
    ordered = sorted(failing, key=lambda f: (_RANK[f.severity], f.check_id))
    return FailingResource(
        account_id=result.account_id,
        region=result.region,
        resource=result.resource,
        resource_arn=result.resource_arn,
        worst=ordered[0].severity,
        failing=len(ordered),
        failing_by_severity=_severity_counts(Counter(f.severity for f in ordered)),
        checks=[FailingCheck(check_id=f.check_id, severity=f.severity, controls=f.controls) for f in ordered],
    )


def _failed_item(item: Any) -> tuple[str | None, ResourceRef | None, StepError | None]:
    if not isinstance(item, Mapping):
        return None, None, None
    account = item.get("accountId")
    try:
        resource = ResourceRef.model_validate(item.get("resource"))
    except ValidationError:
        resource = None
    return (account if isinstance(account, str) else None), resource, _step_error(item.get("error"))


def _account_posture(account: str, listing: AccountListing | None, tally: _Tally) -> AccountPosture:
    if listing is None:
        return AccountPosture(account_id=account, status="MISSING", error=None, **tally.counts(0))
    listed = listing.resources if listing.status == "LISTED" else 0
    return AccountPosture(
        account_id=account, status=listing.status, error=listing.error, **tally.counts(listed)
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _incomplete_reasons(
    accounts: Sequence[AccountPosture],
    tallies: Mapping[str, _Tally],
    stopped: str | None,
    unattributed: int,
) -> list[IncompleteReason]:
    reasons: list[IncompleteReason] = []
    if stopped:
        reasons.append(
            IncompleteReason(
                reason="SWEEP_STOPPED", account_id=None, count=0, message=stopped[:_MESSAGE_LIMIT]
            )
        )
    if unattributed:
        reasons.append(
            IncompleteReason(
                reason="ITEMS_FAILED",
                account_id=None,
                count=unattributed,
                message=f"{_plural(unattributed, 'item')} failed that name no requested account and resource",
            )
        )
    for a in accounts:
        account, outcomes = a.account_id, tallies[a.account_id].outcomes
        if a.status == "FAILED":
            why = _why(a.error) or "no reason recorded"
            message = f"account {account} could not be listed ({why}): none of its resources were seen"
            reasons.append(
                IncompleteReason(reason="ACCOUNT_NOT_LISTED", account_id=account, count=0, message=message)
            )
        elif a.status == "MISSING":
            message = f"account {account} has no listing recorded: none of its resources were seen"
            reasons.append(
                IncompleteReason(reason="ACCOUNT_NOT_LISTED", account_id=account, count=0, message=message)
            )
        if failed_items := tallies[account].failed_items:
            message = (
                f"{_plural(failed_items, 'resource')} of account {account} failed to scan (child execution)"
            )
            reasons.append(
                IncompleteReason(
                    reason="ITEMS_FAILED", account_id=account, count=failed_items, message=message
                )
            )
        denied, failed = outcomes[Outcome.ACCESS_DENIED], outcomes[Outcome.FAILED] - failed_items
        if denied or failed:
            parts = [f"{denied} access denied" if denied else "", f"{failed} failed" if failed else ""]
            message = (
                f"{_plural(denied + failed, 'resource')} of account {account} could not be judged: "
                + ", ".join(p for p in parts if p)
            )
            reasons.append(
                IncompleteReason(
                    reason="NOT_JUDGED", account_id=account, count=denied + failed, message=message
                )
            )
        if a.unseen:
            message = (
                f"account {account} listed {_plural(a.resources, 'resource')}; "
                f"{a.unseen} of them {'has' if a.unseen == 1 else 'have'} no result and no recorded failure"
            )
            reasons.append(
                IncompleteReason(
                    reason="RESULTS_MISSING", account_id=account, count=a.unseen, message=message
                )
            )
    return reasons


def _control_postures(controls: Mapping[_ControlKey, _ControlTally]) -> list[ControlPosture]:
    out = []
    for (standard, control_id), c in controls.items():
        label = control_id if standard is None else ReportControl(standard=standard, control=control_id).label
        out.append(
            ControlPosture(
                id=label,
                standard=standard,
                control=control_id if standard is not None else None,
                check_ids=sorted(c.check_ids),
                worst_failing=list(Severity)[c.worst] if c.worst < _NO_SEVERITY else None,
                resources=_status_counts(c.verdicts),
                accounts=sorted(
                    (
                        ControlAccount(account_id=account, **_status_counts(v).model_dump())
                        for account, v in c.by_account.items()
                    ),
                    key=lambda a: (-a.fail, -a.unknown, -a.exempt, a.account_id),
                ),
                failing=sorted(
                    c.failing,
                    key=lambda f: (
                        _RANK[f.severity],
                        f.account_id,
                        f.resource.type,
                        f.resource.id,
                        f.check_id,
                    ),
                ),
            )
        )
    out.sort(
        key=lambda c: (_RANK[c.worst_failing] if c.worst_failing else _NO_SEVERITY, -c.resources.fail, c.id)
    )
    return out


# --- renderings -------------------------------------------------------------------------------


def _type_name(resource: ResourceRef) -> str:
    """``AWS::S3::Bucket`` -> ``Bucket``: short enough for a column."""
    return resource.type.rpartition("::")[2]


def _resources_line(counts: PostureTotals | AccountPosture) -> str:
    return (
        f"{counts.resources} listed, {counts.judged} judged ({counts.compliant} compliant, "
        f"{counts.non_compliant} non-compliant), {counts.unjudged} not judged, {counts.unseen} not seen"
    )


def _severities_line(counts: SeverityCounts) -> str:
    return ", ".join(f"{getattr(counts, s.value.lower())} {s.value.lower()}" for s in Severity)


def _status_of(account: AccountPosture) -> str:
    return account.status + (f" ({account.error.error})" if account.error and account.error.error else "")


def _more(shown: int, total: int, what: str) -> list[str]:
    return [f"... and {total - shown} more {what} (posture.json lists them all)"] if total > shown else []


FULL_LINK_MINUTES = 5  # the API's link to a shortened report's whole (secagent.api.sweeps)


def render_table(posture: PostureReport, *, top: int = 20) -> str:
    """The posture for a terminal: the sweep, why it is incomplete, per control, per account, and the
    ``top`` failing and unjudged resources, worst first. Lines fit 100 columns for ids of usual length."""
    t = posture.totals
    lines = [
        f"Sweep {posture.sweep_id}: {_plural(t.accounts, 'account')} ({t.accounts_listed} listed), "
        + ", ".join(_type_name(ResourceRef(type=r, id="")) for r in posture.resource_types),
        f"Requested by {posture.requested_by} at {short_time(posture.requested_at)}, "
        f"finished {short_time(posture.finished_at)} UTC",
        f"Resources: {_resources_line(t)}",
        f"Failing findings: {_severities_line(t.failing_by_severity)}",
    ]
    if posture.complete:
        lines.append("Complete: every account was listed and every resource listed was judged.")
    else:
        lines.append("INCOMPLETE: this posture covers only what was seen:")
        for reason in posture.incomplete_reasons:
            lines += textwrap.wrap(reason.message, 100, initial_indent="  - ", subsequent_indent="    ")
    if posture.shortened is not None:
        cut = posture.shortened
        lines.append(
            f"Shortened (too large to answer whole): the worst {len(posture.failing_resources)} of "
            f"{cut.failing_resources} failing resources are listed; the counts are whole."
        )
        if cut.full_report_url:
            lines.append(f"The whole report, for {FULL_LINK_MINUTES} minutes: {cut.full_report_url}")
    lines += [
        "",
        "Controls, worst first (resources per verdict; accounts: with a failing resource)",
        table(
            ["control", "worst", "fail", "unknown", "exempt", "pass", "accounts"],
            [
                (
                    c.id,
                    c.worst_failing or "",
                    c.resources.fail,
                    c.resources.unknown,
                    c.resources.exempt,
                    c.resources.pass_,
                    sum(a.fail > 0 for a in c.accounts),
                )
                for c in posture.by_control
            ],
        ),
        "",
        "Accounts, worst first (failing: non-compliant resources; crit..info: failing findings)",
        table(
            ["account", "status", "listed", "compliant", "failing", "unjudged", "unseen", *_SHORT_SEVERITIES],
            [
                (
                    a.account_id,
                    a.status,
                    a.resources,
                    a.compliant,
                    a.non_compliant,
                    a.unjudged,
                    a.unseen,
                    *(getattr(a.failing_by_severity, s.value.lower()) for s in Severity),
                )
                for a in posture.by_account
            ],
        ),
    ]
    failing = posture.failing_resources
    if failing:
        lines += [
            "",
            f"Failing resources, worst first ({min(top, len(failing))} of {len(failing)})",
            table(
                ["worst", "fails", "account", "type", "resource"],
                [
                    (r.worst, r.failing, r.account_id, _type_name(r.resource), r.resource.id)
                    for r in failing[:top]
                ],
            ),
            *_more(top, len(failing), "failing resources"),
        ]
    unjudged = posture.unjudged_resources
    if unjudged:
        lines += [
            "",
            f"Not judged ({min(top, len(unjudged))} of {len(unjudged)})",
            table(
                ["account", "type", "resource", "outcome", "why"],
                [
                    (
                        u.account_id,
                        _type_name(u.resource),
                        u.resource.id,
                        u.outcome,
                        _first_line(_why(u.error), 40),
                    )
                    for u in unjudged[:top]
                ],
            ),
            *_more(top, len(unjudged), "resources not judged"),
        ]
    return "\n".join(lines)


def render_markdown(posture: PostureReport, *, top: int = 100) -> str:
    """The posture for a ticket or a pull request: the sweep, why it is incomplete, per control, per
    account, then the ``top`` failing resources (with their failing checks) and unjudged ones."""
    t = posture.totals
    completeness = (
        "**yes**: every account was listed and every resource listed was judged"
        if posture.complete
        else f"**no**: {_plural(len(posture.incomplete_reasons), 'reason')} below; "
        "this posture covers only what was seen"
    )
    out = [
        f"# Posture of sweep `{posture.sweep_id}`",
        "",
        *_md_table(
            ["", ""],
            [
                ("Complete", completeness),
                ("Requested by", posture.requested_by),
                ("Requested", short_time(posture.requested_at) + " UTC"),
                ("Finished", short_time(posture.finished_at) + " UTC"),
                ("Accounts", f"{t.accounts} requested, {t.accounts_listed} listed"),
                ("Resource types", ", ".join(posture.resource_types)),
                ("Resources", _resources_line(t)),
                ("Failing findings", _severities_line(t.failing_by_severity)),
            ],
        ),
        "",
    ]
    if posture.incomplete_reasons:
        out += ["## Incomplete", "", *(f"- {_md(r.message)}" for r in posture.incomplete_reasons), ""]
    out += [
        "## Controls, worst first",
        "",
        "Resources per verdict; a resource counts once per control, with its worst verdict.",
        "",
        *_md_table(
            ["control", "worst", "fail", "unknown", "exempt", "pass", "accounts failing", "checks"],
            [
                (
                    f"`{c.id}`",
                    c.worst_failing or "",
                    c.resources.fail,
                    c.resources.unknown,
                    c.resources.exempt,
                    c.resources.pass_,
                    sum(a.fail > 0 for a in c.accounts),
                    ", ".join(f"`{check}`" for check in c.check_ids),
                )
                for c in posture.by_control
            ],
        ),
        "",
        "## Accounts, worst first",
        "",
        *_md_table(
            ["account", "status", "listed", "compliant", "non-compliant", "not judged", "not seen"]
            + [s.value.lower() for s in Severity],
            [
                (
                    f"`{a.account_id}`",
                    _status_of(a),
                    a.resources,
                    a.compliant,
                    a.non_compliant,
                    a.unjudged,
                    a.unseen,
                    *(getattr(a.failing_by_severity, s.value.lower()) for s in Severity),
                )
                for a in posture.by_account
            ],
        ),
        "",
    ]
    failing = posture.failing_resources
    if failing:
        out += [
            "## Failing resources, worst first",
            "",
            *_md_table(
                ["worst", "fails", "account", "region", "resource", "failing checks"],
                [
                    (
                        r.worst,
                        r.failing,
                        f"`{r.account_id}`",
                        r.region,
                        f"{_type_name(r.resource)} `{r.resource.id}`",
                        ", ".join(f"`{c.check_id}` ({c.severity})" for c in r.checks),
                    )
                    for r in failing[:top]
                ],
            ),
            *(["", *_more(top, len(failing), "failing resources")] if len(failing) > top else []),
            "",
        ]
    unjudged = posture.unjudged_resources
    if unjudged:
        out += [
            "## Not judged",
            "",
            *_md_table(
                ["account", "resource", "outcome", "why"],
                [
                    (
                        f"`{u.account_id}`",
                        f"{_type_name(u.resource)} `{u.resource.id}`",
                        u.outcome,
                        _why(u.error),
                    )
                    for u in unjudged[:top]
                ],
            ),
            *(["", *_more(top, len(unjudged), "resources not judged")] if len(unjudged) > top else []),
            "",
        ]
    return "\n".join(out)
