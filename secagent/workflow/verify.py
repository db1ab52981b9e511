"""Verify Fixes: discover and analyze again, compare per check with the first analysis."""

from collections.abc import Iterable

import boto3

from secagent.aws import ClientFactory
from secagent.checks import analyze
from secagent.discovery import discover
from secagent.models.exemption import ExemptionRecord
from secagent.models.findings import Finding, Status, Summary
from secagent.models.outcome import Outcome
from secagent.models.report import AppliedSummary, ApplyStatus, CheckComparison, Verification
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import ResourceRef


def _by_check(findings: Iterable[Finding]) -> dict[str, tuple[str, Status]]:
    """check id -> (title, status); a check with several findings takes the worst
    (FAIL > UNKNOWN > EXEMPT > PASS)."""
    out: dict[str, tuple[str, Status]] = {}
    for f in findings:
        _, seen = out.get(f.check_id, (f.title, Status.PASS))
        out[f.check_id] = (f.title, max(seen, f.status, key=_rank))
    return out


def _rank(status: Status) -> int:
    return {Status.PASS: 0, Status.EXEMPT: 1, Status.UNKNOWN: 2, Status.FAIL: 3}[status]


def compare(
    before: list[Finding],
    after: list[Finding],
    applied: AppliedSummary,
    expected: dict[str, Status] | None = None,
) -> Verification:
    """Pure part of verify: the comparison and verdicts given both analyses' findings.

    `expected` (a rollback): the verdict each targeted check must have again, instead of PASS.
    """
    was, now = _by_check(before), _by_check(after)
    comparison = [
        CheckComparison(
            check_id=check_id,
            title=(now.get(check_id) or was[check_id])[0],
            before=was[check_id][1] if check_id in was else None,
            after=now[check_id][1] if check_id in now else None,
            fixed=check_id in was and check_id in now and was[check_id][1] is Status.FAIL
            and now[check_id][1] is Status.PASS,
        )
        for check_id in [*was, *(c for c in now if c not in was)]
    ]  # fmt: skip
    # EXEMPT checks are never planned, so never targeted, and are not still failing.
    targeted = {c for r in applied.results if r.status is ApplyStatus.APPLIED for c in r.check_ids}
    # Nothing applied means nothing was fixed: allFixed must not turn a no-op into REMEDIATED.
    wanted = expected or {}
    # A plan that failed leaves its change undone: never all fixed (nor all rolled back) then.
    failed = any(r.status is ApplyStatus.FAILED for r in applied.results)
    all_fixed = (
        bool(targeted)
        and not failed
        and all(c in now and now[c][1] is wanted.get(c, Status.PASS) for c in targeted)
    )
    # A check that failed before and cannot judge now is not fixed: it is still failing, as far
    # as anyone can tell.
    still_failing = [
        c
        for c, (_, status) in now.items()
        if status is Status.FAIL or (status is Status.UNKNOWN and c in was and was[c][1] is Status.FAIL)
    ]
    return Verification(
        findings=after,
        summary=Summary.of(after),
        comparison=comparison,
        all_fixed=all_fixed,
        still_failing=still_failing,
        outcome=verified_outcome(all_fixed, still_failing, rollback=expected is not None),
    )


def verified_outcome(all_fixed: bool, still_failing: list[str], *, rollback: bool) -> Outcome:
    """Never more than Verify saw: REMEDIATED only when nothing fails any more."""
    if not all_fixed:
        return Outcome.NON_COMPLIANT
    if rollback:
        return Outcome.ROLLED_BACK
    return Outcome.PARTIALLY_REMEDIATED if still_failing else Outcome.REMEDIATED


def verify(
    resource: ResourceRef,
    before_findings: list[Finding],
    applied: AppliedSummary,
    session: boto3.Session,
    settings: AgentSettings,
    *,
    clients: ClientFactory | None = None,
    expected: dict[str, Status] | None = None,
    exemptions: list[ExemptionRecord] | None = None,
) -> Verification:
    """Re-run Discover + Analyze on ``resource`` and compare with ``before_findings``.

    ``exemptions``: a bucket's sealed API exemptions, read again as Discover reads them."""
    snapshot = discover(resource, session, clients=clients)
    snapshot.exemptions = list(exemptions or [])
    result = analyze(snapshot, settings)
    return compare(before_findings, result.findings, applied, expected)
