"""`secagent approve ID` / `secagent reject ID [--comment ...]`: a person's decision on the plans."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Literal, TextIO

from secagent.cli.common import EXIT_OK, AuditApi, Globals, connect, expect
from secagent.cli.watch import conclude, follow, interrupted

Decision = Literal["approve", "reject"]


def decide(
    api: AuditApi,
    audit_id: str,
    decision: Decision,
    *,
    comment: str | None = None,
    wait: bool = False,
    out: TextIO = sys.stdout,
    poll_interval: float = 0.5,
) -> int:
    expect(
        api.decide(audit_id, decision, comment=comment),
        200,
        what=f"{decision} audit {audit_id}",
        audit_id=audit_id,
    )
    if decision == "approve":
        out.write(f"Approved audit {audit_id}: the fixes are being applied and verified.\n")
    else:
        out.write(f"Rejected audit {audit_id}: nothing will be changed.\n")
    if not wait:
        out.write(f"Follow it: secagent status {audit_id}\n")
        return EXIT_OK
    with interrupted(audit_id):
        body = follow(api, audit_id, out, poll_interval=poll_interval)
    return conclude(body, out)


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    for decision, summary in (
        ("approve", "approve the proposed fixes of an audit awaiting approval"),
        ("reject", "reject the proposed fixes of an audit awaiting approval"),
    ):
        parser = subparsers.add_parser(
            decision,
            parents=parents,
            help=summary,
            description=summary[0].upper() + summary[1:] + ". Exits 3 (409) when the audit is not "
            "awaiting approval or was already decided.",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("audit_id", metavar="ID", help="the audit id")
        parser.add_argument("--comment", help="why (kept in the report)")
        parser.add_argument(
            "--wait", action="store_true", help="follow the audit to its end and print the report"
        )
        parser.set_defaults(handler=_run, decision=decision)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return decide(connect(options), args.audit_id, args.decision, comment=args.comment, wait=args.wait)
