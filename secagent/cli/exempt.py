"""`secagent exempt`: accept a finding for a reason until a day, list a bucket's exemptions, revoke one.

The API governs them as it governs bucket tags: a reason, an expiry at most 90 days ahead, never a
CRITICAL finding; it records who granted each (as STS proves the caller). The next audit of the
bucket reports the named checks EXEMPT, with the reason and the person, until the day passes.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import EXIT_OK, Globals, bucket_name_arg, connect, expect


def grant(api: AuditApi, bucket: str, check_ids: list[str], reason: str, until: str, out: TextIO) -> int:
    body = expect(api.grant_exemption(bucket, check_ids, reason, until), 201, what=f"exemption on {bucket}")
    out.write(
        f"Exemption {body['exemptionId']} granted: {', '.join(body['checkIds'])} on {body['bucket']} "
        f"until {body['until']} (UTC), by {body['grantedBy']}.\n"
        f"The next audit of {bucket} reports these checks EXEMPT. Revoke: secagent exempt revoke "
        f"{body['exemptionId']}\n"
    )
    return EXIT_OK


def show(api: AuditApi, bucket: str, out: TextIO) -> int:
    body = expect(api.list_exemptions(bucket), 200, what=f"exemptions of {bucket}")
    exemptions = body.get("exemptions") or []
    if not exemptions:
        out.write(f"No exemptions granted through the API on {bucket}.\n")
        return EXIT_OK
    for e in exemptions:
        out.write(f"{e['status']:<8} {e['exemptionId']}\n")
        out.write(f"         checks  {', '.join(e['checkIds'])}\n")
        out.write(f"         until   {e['until']}   granted by {e['grantedBy']} at {e['grantedAt']}\n")
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
        help="accept a finding until a day, for a reason (grant, list, revoke)",
        description=__doc__,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    granting = actions.add_parser("grant", parents=parents, help="exempt checks on a bucket")
    granting.add_argument("bucket", metavar="BUCKET", type=bucket_name_arg)
    granting.add_argument(
        "check_ids", metavar="CHECK", nargs="+", help="check ids (secagent checks lists them)"
    )
    granting.add_argument("--reason", required=True, help="why the failure is accepted (required)")
    granting.add_argument(
        "--until", required=True, metavar="YYYY-MM-DD", help="last day (UTC), at most 90 ahead"
    )
    granting.set_defaults(handler=_grant)
    listing = actions.add_parser("list", parents=parents, help="a bucket's exemptions, newest first")
    listing.add_argument("bucket", metavar="BUCKET", type=bucket_name_arg)
    listing.set_defaults(handler=_list)
    revoking = actions.add_parser("revoke", parents=parents, help="end an exemption now")
    revoking.add_argument("exemption_id", metavar="ID")
    revoking.set_defaults(handler=_revoke)


def _grant(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return grant(connect(options), args.bucket, args.check_ids, args.reason, args.until, out)


def _list(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return show(connect(options), args.bucket, out)


def _revoke(args: argparse.Namespace, options: Globals, out: TextIO = sys.stdout) -> int:
    return revoke(connect(options), args.exemption_id, out)
