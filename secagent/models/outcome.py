"""How an audit ended: the one definition every client (report, CLI, console, MCP) reads.

Each outcome carries what a person and a CI gate need: its wording, its console style and its
exit code. An outcome never claims more than Verify saw: REMEDIATED only when every approved
fix took effect and nothing fails any more; PARTIALLY_REMEDIATED when the approved fixes took
effect but findings remain (not approved, or no fix exists).
"""

from collections.abc import Iterable
from enum import StrEnum
from typing import Literal, Protocol

from secagent.models.findings import Severity, Status

Style = Literal["ok", "warn", "bad"]

EXIT_OK = 0  # nothing at or above the --fail-on severity fails
EXIT_FINDINGS = 1  # findings at or above the --fail-on severity remain
EXIT_FAILED = 3  # the audit failed, or found no resource, or was denied: nothing can be said
DEFAULT_FAIL_ON = Severity.HIGH  # a CI gate fails on any CRITICAL or HIGH finding left


class Outcome(StrEnum):
    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    REMEDIATED = "REMEDIATED"
    PARTIALLY_REMEDIATED = "PARTIALLY_REMEDIATED"
    ROLLED_BACK = "ROLLED_BACK"
    REJECTED = "REJECTED"
    APPROVAL_EXPIRED = "APPROVAL_EXPIRED"
    STALE_PLAN = "STALE_PLAN"
    APPROVAL_INVALID = "APPROVAL_INVALID"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    ACCESS_DENIED = "ACCESS_DENIED"
    FAILED = "FAILED"

    @property
    def wording(self) -> str:
        return _WORDING[self]

    @property
    def style(self) -> Style:
        if self in (Outcome.COMPLIANT, Outcome.REMEDIATED, Outcome.ROLLED_BACK):
            return "ok"
        if self in (Outcome.REJECTED, Outcome.APPROVAL_INVALID) or self.ended_unjudged:
            return "bad"
        return "warn"

    @property
    def ended_unjudged(self) -> bool:
        """The audit stopped before it could judge the resource: a failure, a resource that is not
        there, or one the agent may not read or change. The report names the step and why."""
        return self in (Outcome.FAILED, Outcome.RESOURCE_NOT_FOUND, Outcome.ACCESS_DENIED)

    def exit_code(self, findings: "Iterable[Judged]" = (), fail_on: Severity = DEFAULT_FAIL_ON) -> int:
        """The process exit status: 3 when the audit ended unjudged; else 1 when a finding at or above
        ``fail_on`` still FAILs (the findings as last seen: Verify's, else Analyze's), else 0."""
        if self.ended_unjudged:
            return EXIT_FAILED
        worst = [f for f in findings if f.status is Status.FAIL and f.severity.rank <= fail_on.rank]
        return EXIT_FINDINGS if worst else EXIT_OK


class Judged(Protocol):
    @property
    def status(self) -> Status: ...
    @property
    def severity(self) -> Severity: ...


_WORDING = {
    Outcome.COMPLIANT: "every check passed; nothing to change",
    Outcome.NON_COMPLIANT: (
        "findings remain, or checks could not judge; fixes were proposed, "
        "or an approved fix did not take effect"
    ),
    Outcome.REMEDIATED: "the approved fixes were applied and verified; no finding fails any more",
    Outcome.PARTIALLY_REMEDIATED: "the approved fixes were applied and verified; other findings still fail",
    Outcome.ROLLED_BACK: "the earlier fixes were rolled back and the previous configuration verified",
    Outcome.REJECTED: "the fixes were rejected; nothing was changed",
    Outcome.APPROVAL_EXPIRED: "nobody decided in time; nothing was changed",
    Outcome.STALE_PLAN: "the configuration changed after approval; nothing was applied (audit again)",
    Outcome.APPROVAL_INVALID: "the approval did not match what storage says; nothing was applied",
    Outcome.RESOURCE_NOT_FOUND: "the resource does not exist (any more); audit it again once it does",
    Outcome.ACCESS_DENIED: "the agent was denied an access it needs; nothing more was done (see the failure)",
    Outcome.FAILED: "the audit failed; nothing can be said about the resource",
}
