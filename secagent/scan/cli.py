"""`secagent scan`: the command line over secagent.scan.domain, printed by secagent.scan.render.

Exit status: 0 no failing check, 1 failing checks found, 3 AWS could not be reached or a resource
could not be read (the scan is incomplete), 2 usage errors (argparse, settings, a bad --group id).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.cli.common import EXIT_FAILED, EXIT_USAGE
from secagent.discovery.names import ID_KINDS, security_group_id_problem
from secagent.models import AgentSettings
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceType
from secagent.resources import TYPE_OPTIONS, shown_value
from secagent.scan.domain import DEFAULT_CONCURRENCY, ListingFailed, scan, scanned_types
from secagent.scan.render import plural_noun, render_table, scan_json

ALL_TYPES = "all"
# --type -> the types it scans
TYPE_CHOICES: dict[str, tuple[ResourceType, ...]] = {
    **{option: (resource_type,) for option, resource_type in TYPE_OPTIONS.items()},
    ALL_TYPES: tuple(TYPE_OPTIONS.values()),
}
# The option naming resources of each type, one at a time.
NAMING_OPTIONS: dict[ResourceType, str] = {BUCKET: "--bucket", SECURITY_GROUP: "--group"}


def build_parser(prog: str = "secagent scan") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Discover and analyze every S3 bucket of the account, or every security group of "
        "its region (or the named ones), in-process, concurrently, and print the failing checks; those "
        "of the account itself (its Block Public Access) once, for the account.",
    )
    parser.add_argument(
        "--type",
        choices=TYPE_CHOICES,
        help="what to scan (default: the types --bucket and --group name, else bucket)",
    )
    parser.add_argument(
        "--bucket", action="append", default=None, metavar="NAME", help="only this bucket (repeatable)"
    )
    parser.add_argument(
        "--group",
        action="append",
        default=None,
        metavar="ID",
        help="only this security group, sg-... (repeatable; scans security groups)",
    )
    parser.add_argument("--prefix", help="only buckets whose name starts with PREFIX")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("SECAGENT_SCAN_CONCURRENCY", DEFAULT_CONCURRENCY)),
        help=f"resources read at once (default {DEFAULT_CONCURRENCY}, or SECAGENT_SCAN_CONCURRENCY)",
    )
    parser.add_argument("--endpoint-url", help="AWS endpoint (e.g. LocalStack); default: AWS_ENDPOINT_URL")
    parser.add_argument(
        "--region",
        help="home region, where the security groups are read (default: the usual AWS configuration)",
    )
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--all-fields",
        action="store_true",
        help="read every bucket configuration field (default: only those a check uses) and HeadBucket "
        "each bucket",
    )
    parser.add_argument(
        "--failing-only", action="store_true", help="JSON: list only FAIL/UNKNOWN findings per resource"
    )
    return parser


def _nouns(types: Sequence[ResourceType]) -> str:
    """The types as a sentence names them: "buckets and security groups"."""
    return " and ".join(plural_noun(t) for t in types)


def _named(args: argparse.Namespace) -> dict[ResourceType, list[str] | None]:
    """The ids named on the command line, per type (None: that type not named)."""
    return {BUCKET: args.bucket, SECURITY_GROUP: args.group}


def usage_problem(args: argparse.Namespace, types: Sequence[ResourceType]) -> str | None:
    """Why the options given cannot make the scan of `types`, or None when they can."""
    for group_id in args.group or []:
        if problem := security_group_id_problem(group_id):
            return f"--group {shown_value(group_id)} is not a valid {ID_KINDS[SECURITY_GROUP]}: {problem}"
    for resource_type, ids in _named(args).items():
        if ids and resource_type not in types:  # only when --type leaves out a type named
            option, nouns = NAMING_OPTIONS[resource_type], _nouns([resource_type])
            return f"{option} names {nouns}, which --type {args.type} leaves out"
    if args.prefix and BUCKET not in types:
        return "--prefix keeps the buckets whose name starts with it, and no bucket is scanned"
    if args.concurrency < 1:
        return "--concurrency must be at least 1"
    return None


def cli_main(argv: list[str]) -> int:
    """`secagent scan ARGV...` -> its exit status (what `secagent scan` calls)."""
    args = build_parser().parse_args(argv)
    types = scanned_types(TYPE_CHOICES.get(args.type), _named(args))
    if problem := usage_problem(args, types):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = AgentSettings.from_env()
    except ValueError as err:
        print(f"error: SECAGENT_* settings: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        if session.region_name is None:
            session = boto3.Session(profile_name=args.profile, region_name="us-east-1")
        result = scan(
            args.bucket,
            security_groups=args.group,
            types=types,
            prefix=args.prefix,
            session=session,
            endpoint_url=args.endpoint_url,
            settings=settings,
            concurrency=args.concurrency,
            all_fields=args.all_fields,
        )
    except ListingFailed as err:
        print(f"error: cannot list the {_nouns([err.resource_type])}: {_shown(err.cause)}", file=sys.stderr)
        return EXIT_FAILED
    except (BotoCoreError, ClientError) as err:  # before any listing: the session (an unknown profile)
        print(f"error: cannot list the {_nouns(types)}: {_shown(err)}", file=sys.stderr)
        return EXIT_FAILED
    if args.format == "json":
        print(json.dumps(scan_json(result, all_findings=not args.failing_only)))
    else:
        print(render_table(result))
    for r in result.errors:
        print(f"error: {r.resource.id}: {r.error}", file=sys.stderr)
    return result.exit_code()


def _shown(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"
