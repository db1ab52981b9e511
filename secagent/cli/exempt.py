"""`secagent exempt`: accept a finding for a reason until a day; one person asks, another approves.

The API governs them as it governs bucket tags: a reason, an expiry at most 90 days ahead, never a
CRITICAL finding; and as it governs fixes: a request stays PENDING, exempting nothing, until a
person with another IAM principal approves it. The next audit of the bucket then reports the
named checks EXEMPT, with the reason and both people, until the day passes or it is revoked.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, Globals, bucket_name_arg, connect, expect


def request(api: AuditApi, bucket: str, check_ids: list[str], reason: str, until: str, out: TextIO) -> int:
    body = expect(api.request_exemption(bucket, check_ids, reason, until), 201, what=f"exemption on {bucket}")
    out.write(
        f"Exemption {body['exemptionId']} requested: {', '.join(body['checkIds'])} on {body['bucket']} "
        f"until {body['until']} (UTC), by {body['requestedBy']}.\n"
        "It exempts nothing until another person approves it: "
        f"secagent exempt approve {body['exemptionId']}\n"
    )
    return EXIT_OK


def approve(api: AuditApi, exemption_id: str, out: TextIO) -> int:
    body = expect(api.approve_exemption(exemption_id), 200, what=f"approve exemption {exemption_id}")
    out.write(
        f"Exemption {exemption_id} approved by {body['approvedBy']}: the next audit of {body['bucket']} "
        f"reports {', '.join(body['checkIds'])} EXEMPT until {body['until']} (UTC).\n"
    )
    return EXIT_OK


def show(api: AuditApi, bucket: str, out: TextIO) -> int:
    body = expect(api.list_exemptions(bucket), 200, what=f"exemptions of {bucket}")
    exemptions = body.get("exemptions") or []
    if not exemptions:
        out.write(f"No exemptions requested through the API on {bucket}.\n")
        return EXIT_OK
    for e in exemptions:
        out.write(f"{e['status']:<8} {e['exemptionId']}\n")
        out.write(f"         checks  {', '.join(e['checkIds'])}\n")
        out.write(f"         until   {e['until']}   requested by {e['requestedBy']} at {e['requestedAt']}\n")
        if e.get("approvedBy"):
            out.write(f"         approved by {e['approvedBy']} at {e['approvedAt']}\n")
        out.write(f"         reason  {e['reason']}\n")
        if e.get("revokedBy"):
            out.write(f"         revoked by {e['revokedBy']} at {e['revokedAt']}\n")
    return EXIT_OK


def revoke(api: AuditApi, exemption_id: str, out: TextIO) -> int:
    body = expect(api.revoke_exemption(exemption_id), 200, what=f"revoke exemption {exemption_id}")
    out.write(
        f"Exemption {exemption_id} revoked by {body['revokedBy']}; the next audit judges its checks again.\n"
    )
    return EXIT_OK


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "exempt",
        parents=parents,
        help="accept a finding until a day, for a reason (request, approve, list, revoke)",
        description=__doc__,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    asking = actions.add_parser("request", parents=parents, help="ask to exempt checks on a bucket")
    asking.add_argument("bucket", metavar="BUCKET", type=bucket_name_arg)
    asking.add_argument(
        "check_ids", metavar="CHECK", nargs="+", help="check ids (secagent checks lists them)"
    )
    asking.add_argument("--reason", required=True, help="why the failure is accepted (required)")
    asking.add_argument(
        "--until", required=True, metavar="YYYY-MM-DD", help="last day (UTC), at most 90 ahead"
    )
    asking.set_defaults(handler=_request)
    approving = actions.add_parser("approve", parents=parents, help="approve another person's request")
    approving.add_argument("exemption_id", metavar="ID")
    approving.set_defaults(handler=_approve)
    listing = actions.add_parser("list", parents=parents, help="a bucket's exemptions, newest first")
    listing.add_argument("bucket", metavar="BUCKET", type=bucket_name_arg)
    listing.set_defaults(handler=_list)
    revoking = actions.add_parser("revoke", parents=parents, help="end an exemption now")
    revoking.add_argument("exemption_id", metavar="ID")
    revoking.set_defaults(handler=_revoke)


def _request(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return request(connect(options), args.bucket, args.check_ids, args.reason, args.until, out)


def _approve(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return approve(connect(options), args.exemption_id, out)


def _list(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return show(connect(options), args.bucket, out)


def _revoke(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return revoke(connect(options), args.exemption_id, out)
