"""`secagent audit RESOURCE [--type TYPE] [--remediate] [--wait]`: start an audit of an S3 bucket or
an EC2 security group, optionally follow it to its report."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, EXIT_USAGE, FAIL_ON_DEFAULT, CliError, Globals, connect, expect
from secagent.cli.watch import Style, conclude, follow, interrupted
from secagent.resources import KINDS, TYPE_OPTIONS, InvalidResourceId, checked_resource

if TYPE_CHECKING:
    from secagent.models.snapshot import ResourceRef


def audit(
    api: AuditApi,
    resource: ResourceRef,
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
    shown = KINDS[resource.type].show(resource.id)
    started = expect(
        api.start_audit(
            resource.id, mode=mode, approval_timeout_seconds=approval_timeout, resource_type=resource.type
        ),
        202,
        what=f"audit of {shown}",
    )
    audit_id = str(started["auditId"])
    if not wait:
        out.write(f"{audit_id}\n")
        err.write(f"Audit of {shown} started ({mode}). Follow it: secagent status {audit_id}\n")
        return EXIT_OK
    out.write(f"Audit {audit_id} of {shown} ({mode})\n")
    out.flush()
    with interrupted(audit_id):
        body = follow(api, audit_id, out, style=style, poll_interval=poll_interval, sleep=sleep)
    return conclude(body, out, fail_on)


def resource_to_audit(resource_id: str, type_option: str | None) -> ResourceRef:
    """The resource the arguments name: of the --type given, else of the type the id reads as.
    A usage error (exit 2, nothing sent) when the id cannot name one."""
    resource_type = TYPE_OPTIONS[type_option] if type_option else None
    try:
        return checked_resource(resource_id, resource_type)
    except InvalidResourceId as exc:
        given = f"--type {type_option}: " if type_option else ""
        raise CliError(f"{given}{exc.message} (see 'secagent audit --help')", EXIT_USAGE) from None


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    kinds = " or ".join(kind.label for kind in KINDS.values())
    parser = subparsers.add_parser(
        "audit",
        parents=parents,
        help=f"audit an {kinds} (plan mode unless --remediate)",
        description=f"Audit an {kinds}: discover its configuration, run the checks, propose fixes. "
        "The type is read from the id (sg- and 8 or 17 hex digits: a security group; anything else: "
        "a bucket) unless --type names it. With --remediate the fixes are applied after a person "
        "approves them (secagent approve ID). Without --wait prints the audit id and returns.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "resource_id",
        metavar="RESOURCE",
        help="a bucket name (my-team-logs) or a security group id (sg-0123abcd)",
    )
    parser.add_argument(
        "--type",
        dest="type_option",
        choices=sorted(TYPE_OPTIONS),
        help="what RESOURCE names, when its id alone does not say (a bucket named like a group id)",
    )
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
    resource = resource_to_audit(args.resource_id, args.type_option)  # before connecting: nothing sent
    return audit(
        connect(options),
        resource,
        remediate=args.remediate,
        wait=args.wait,
        approval_timeout=args.approval_timeout,
        fail_on=options.fail_on,
    )
