"""`secagent list`: recent audits, newest first (one page; --next-token for the next).

The filter applies to the whole history (the API reads on until it has `--limit` audits); its
next-page hint repeats the filter, which the token also keeps.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, Globals, connect, expect, resource_id_arg

STATUSES = ("RUNNING", "AWAITING_APPROVAL", "SUCCEEDED", "FAILED")


def list_audits(
    api: AuditApi,
    *,
    status: str | None = None,
    resource: str | None = None,
    limit: int | None = None,
    next_token: str | None = None,
    fmt: str = "table",
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    body = expect(
        api.list_audits(status=status, resource=resource, limit=limit, next_token=next_token),
        200,
        what="list of audits",
    )
    if fmt == "json":
        out.write(json.dumps(body, indent=2) + "\n")
        return EXIT_OK
    from secagent.render import render_audit_list

    audits, token = body.get("audits") or [], body.get("nextToken")
    if audits:
        out.write(render_audit_list(audits) + "\n")
    else:
        out.write(_none(status, resource, more=bool(token)) + "\n")
    if token:
        # The API keeps the filter in its token; the hint shows it too, so what follows is clear.
        shown = [("--status", status), ("--resource", resource), ("--limit", limit), ("--next-token", token)]
        err.write("More audits: secagent list " + " ".join(f"{o} {v}" for o, v in shown if v) + "\n")
    return EXIT_OK


def _none(status: str | None, resource: str | None, *, more: bool) -> str:
    """What an empty page says: "No RUNNING audits for my-bucket." (the API found none in the part
    of the history it read when there is more)."""
    what = f"No {status + ' ' if status else ''}audits" + (f" for {resource}" if resource else "")
    return f"{what} in the part of the history read so far." if more else f"{what}."


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive.__name__ = "positive integer"  # argparse names the type in its error


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "list",
        parents=parents,
        help="list audits",
        description="List audits, newest first. --status and --resource filter the whole history: "
        "each page has up to --limit matching audits, and its next-page hint keeps the filter.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--status", choices=STATUSES, help="only audits in this status")
    parser.add_argument(
        "--resource",
        metavar="RESOURCE",
        type=resource_id_arg,
        help="only audits of this bucket (name) or security group (id)",
    )
    parser.add_argument(
        "--limit", type=_positive, metavar="N", help="at most N audits (default 20, up to 50)"
    )
    parser.add_argument("--next-token", metavar="TOKEN", help="the next page of an earlier listing")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="default: table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return list_audits(
        connect(options),
        status=args.status,
        resource=args.resource,
        limit=args.limit,
        next_token=args.next_token,
        fmt=args.format,
    )
