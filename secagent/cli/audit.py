"""`secagent audit BUCKET [--remediate] [--wait]`: start an audit, optionally follow it to its report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, FAIL_ON_DEFAULT, Globals, bucket_name_arg, connect, expect
from secagent.cli.watch import Style, conclude, follow, interrupted


def audit(
    api: AuditApi,
    bucket: str,
    *,
    remediate: bool = False,
    wait: bool = False,
    approval_timeout: int | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    style: Style | None = None,
    poll_interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    fail_on: str = FAIL_ON_DEFAULT,
) -> int:
    """Without `wait`: prints the audit id alone on stdout (for scripts), exit 0.

    With `wait`: prints each step as it ends, the approval request, then the report; the exit code
    is the outcome's.
    """
    mode = "remediate" if remediate else "plan"
    started = expect(
        api.start_audit(bucket, mode=mode, approval_timeout_seconds=approval_timeout),
        202,
        what=f"audit of {bucket}",
    )
    audit_id = str(started["auditId"])
    if not wait:
        out.write(f"{audit_id}\n")
        err.write(f"Audit of s3://{bucket} started ({mode}). Follow it: secagent status {audit_id}\n")
        return EXIT_OK
    out.write(f"Audit {audit_id} of s3://{bucket} ({mode})\n")
    out.flush()
    with interrupted(audit_id):
        body = follow(api, audit_id, out, style=style, poll_interval=poll_interval, sleep=sleep)
    return conclude(body, out, fail_on)


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "audit",
        parents=parents,
        help="audit an S3 bucket (plan mode unless --remediate)",
        description="Audit an S3 bucket: discover its configuration, run the checks, propose fixes. "
        "With --remediate the fixes are applied after a person approves them "
        "(secagent approve ID). Without --wait prints the audit id and returns.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bucket", metavar="BUCKET", type=bucket_name_arg, help="name of the S3 bucket")
    parser.add_argument("--remediate", action="store_true", help="apply the fixes once approved")
    parser.add_argument(
        "--wait", action="store_true", help="follow the steps live and print the report at the end"
    )
    parser.add_argument(
        "--approval-timeout",
        type=int,
        metavar="SECONDS",
        help="how long the approval request stays open (the API's default otherwise)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return audit(
        connect(options),
        args.bucket,
        remediate=args.remediate,
        wait=args.wait,
        approval_timeout=args.approval_timeout,
        fail_on=options.fail_on,
    )
