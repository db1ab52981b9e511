"""`secagent resume ID`: run a failed audit again from the step that failed."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, FAIL_ON_DEFAULT, Globals, audit_id_arg, connect, expect
from secagent.cli.watch import follow_to_the_end


def resume(
    api: AuditApi,
    audit_id: str,
    *,
    wait: bool = False,
    out: TextIO = sys.stdout,
    poll_interval: float = 0.5,
    fail_on: str = FAIL_ON_DEFAULT,
) -> int:
    body = expect(api.resume(audit_id), 202, what=f"resume audit {audit_id}", audit_id=audit_id)
    reused = body.get("reusedSteps") or []
    out.write(
        f"Resumed audit {audit_id} from {body.get('resumeFrom') or 'the failed step'}"
        + (f" (execution {body['execution']})" if body.get("execution") else "")
        + (f"; reusing {', '.join(map(str, reused))}" if reused else "")
        + ".\n"
    )
    if not wait:
        out.write(f"Follow it: secagent status {audit_id}\n")
        return EXIT_OK
    return follow_to_the_end(api, audit_id, out, poll_interval=poll_interval, fail_on=fail_on)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "resume",
        parents=parents,
        help="run a failed audit again from the step that failed",
        description="Resume a FAILED audit: a new execution starts at the step that failed and reuses "
        "the results of the steps before it. Exits 3 (409) when the audit did not fail.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("audit_id", metavar="ID", type=audit_id_arg, help="the audit id")
    parser.add_argument("--wait", action="store_true", help="follow it to its end and print the report")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return resume(connect(options), args.audit_id, wait=args.wait, fail_on=options.fail_on)
