"""Per-control verdicts: one status per standard control, from one resource's findings.

A check declares every control it can fail (``CheckMeta.controls``); each FAIL finding
names exactly the controls its evidence fails (``Finding.controls``). A control then:

- FAILs when any finding fails it;
- is EXEMPT when it would fail but every failing finding is exempted;
- is UNKNOWN when a check that implements it could not decide and nothing fails it;
- PASSes otherwise (every check implementing it ran and none failed it).

Controls that no check of the run implements are absent: "not evaluated" is not PASS.
"""

from collections.abc import Iterable, Mapping
from typing import Protocol

from secagent.checks.registry import list_checks
from secagent.models.findings import CheckMeta, Status


class Verdict(Protocol):
    """What a per-control verdict needs of a finding (a Finding, or a report's finding)."""

    @property
    def check_id(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def controls(self) -> list[str]: ...


_RANK = {Status.PASS: 0, Status.UNKNOWN: 1, Status.EXEMPT: 2, Status.FAIL: 3}


def _worse(a: Status, b: Status) -> Status:
    return a if _RANK[a] >= _RANK[b] else b


def control_verdicts(
    findings: Iterable[Verdict], checks: Mapping[str, CheckMeta] | None = None
) -> dict[str, Status]:
    """control id -> verdict. ``checks``: check id -> metadata (default: the registry)."""
    checks = {m.id: m for m in list_checks()} if checks is None else checks
    verdicts: dict[str, Status] = {}
    for finding in findings:
        declared = checks[finding.check_id].controls
        if finding.status in (Status.FAIL, Status.EXEMPT):
            failing = set(finding.controls)
            for control in declared:
                status = finding.status if control in failing else Status.PASS
                verdicts[control] = _worse(verdicts.get(control, Status.PASS), status)
        else:
            for control in declared:
                verdicts[control] = _worse(verdicts.get(control, Status.PASS), finding.status)
    return dict(sorted(verdicts.items()))
