"""`secagent status ID`: where an audit is, its steps, what it waits for."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, Globals, audit_id_arg, connect, expect


def status(api: AuditApi, audit_id: str, *, fmt: str = "table", out: TextIO = sys.stdout) -> int:
    """Exit 0 whenever the audit was found (whatever its outcome); `secagent report` exits by outcome."""
    body = expect(api.get_audit(audit_id), 200, what=f"status of audit {audit_id}", audit_id=audit_id)
    if fmt == "json":
        out.write(json.dumps(body, indent=2) + "\n")
    else:
        from secagent.render import render_status

        out.write(render_status(body) + "\n")
    return EXIT_OK


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "status",
        parents=parents,
        help="show where an audit is and its steps",
        description="Show an audit's status, current step, steps with attempts and timings, and the "
        "plans awaiting approval, grouped by severity, worst first: each with its remediation id (what "
        "`approve --only` takes), whether it is reversible and whether it needs naming (not in the "
        "default selection). Exits 0 when the audit was found.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("audit_id", metavar="ID", type=audit_id_arg, help="the audit id")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="default: table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return status(connect(options), args.audit_id, fmt=args.format)
