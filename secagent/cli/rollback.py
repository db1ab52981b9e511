"""`secagent rollback ID`: undo the fixes an audit applied, through the approval gate.

The API starts a new audit (mode rollback) whose plans restore what each applied fix replaced,
read from the original audit's own Apply record. Like any audit it waits for a person other
than its requester to approve, is rechecked against the current configuration, then verified.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, FAIL_ON_DEFAULT, Globals, audit_id_arg, connect, expect
from secagent.cli.watch import follow_to_the_end


def rollback(
    api: AuditApi,
    audit_id: str,
    *,
    wait: bool = False,
    out: TextIO = sys.stdout,
    poll_interval: float = 0.5,
    fail_on: str = FAIL_ON_DEFAULT,
) -> int:
    body = expect(api.rollback(audit_id), 202, what=f"rollback of audit {audit_id}", audit_id=audit_id)
    rollback_id = str(body["auditId"])
    out.write(
        f"Rollback of audit {audit_id} started as audit {rollback_id}: it waits for another person "
        f"to approve the undo plans (secagent status {rollback_id}; secagent approve {rollback_id}).\n"
    )
    if not wait:
        return EXIT_OK
    return follow_to_the_end(api, rollback_id, out, poll_interval=poll_interval, fail_on=fail_on)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "rollback",
        parents=parents,
        help="undo the fixes an audit applied (a new audit, approved like any other)",
        description="Roll back the fixes an ended audit applied: a new audit (mode rollback) restores "
        "what each fix replaced, after a person other than you approves it, and verifies the result. "
        "Exits 3 (409) when the audit is running or applied nothing that can be rolled back.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("audit_id", metavar="ID", type=audit_id_arg, help="the audit whose fixes to undo")
    parser.add_argument(
        "--wait", action="store_true", help="follow the rollback audit to its end and print its report"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return rollback(connect(options), args.audit_id, wait=args.wait, fail_on=options.fail_on)
