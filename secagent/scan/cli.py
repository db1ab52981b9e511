"""`secagent scan`: the command line over secagent.scan.domain, printed by secagent.scan.render.

Exit status: 0 no failing check, 1 failing checks found, 3 AWS could not be reached or a bucket
could not be read (the scan is incomplete), 2 usage errors (argparse, settings).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from secagent.cli.common import EXIT_FAILED, EXIT_USAGE
from secagent.models import AgentSettings
from secagent.scan.domain import DEFAULT_CONCURRENCY, scan
from secagent.scan.render import render_table, scan_json


def build_parser(prog: str = "secagent scan") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Discover and analyze every S3 bucket of the account (or the named ones) in-process, "
        "concurrently, and print the failing checks; those of the account itself (its Block Public "
        "Access) once, for the account.",
    )
    parser.add_argument(
        "--bucket", action="append", default=None, metavar="NAME", help="only this bucket (repeatable)"
    )
    parser.add_argument("--prefix", help="only buckets whose name starts with PREFIX")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("SECAGENT_SCAN_CONCURRENCY", DEFAULT_CONCURRENCY)),
        help=f"buckets read at once (default {DEFAULT_CONCURRENCY}, or SECAGENT_SCAN_CONCURRENCY)",
    )
    parser.add_argument("--endpoint-url", help="AWS endpoint (e.g. LocalStack); default: AWS_ENDPOINT_URL")
    parser.add_argument("--region", help="home region (default: the usual AWS configuration)")
    parser.add_argument("--profile", help="AWS named profile")
    parser.add_argument(
        "--all-fields",
        action="store_true",
        help="read every configuration field (default: only those a check uses) and HeadBucket each bucket",
    )
    parser.add_argument(
        "--failing-only", action="store_true", help="JSON: list only FAIL/UNKNOWN findings per bucket"
    )
    return parser


def cli_main(argv: list[str]) -> int:
    """`secagent scan ARGV...` -> its exit status (what `secagent scan` calls)."""
    args = build_parser().parse_args(argv)
    if args.concurrency < 1:
        print("error: --concurrency must be at least 1", file=sys.stderr)
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
            prefix=args.prefix,
            session=session,
            endpoint_url=args.endpoint_url,
            settings=settings,
            concurrency=args.concurrency,
            all_fields=args.all_fields,
        )
    except (BotoCoreError, ClientError) as err:
        print(f"error: cannot list the buckets: {type(err).__name__}: {err}", file=sys.stderr)
        return EXIT_FAILED
    if args.format == "json":
        print(json.dumps(scan_json(result, all_findings=not args.failing_only)))
    else:
        print(render_table(result))
    for b in result.errors:
        print(f"error: {b.bucket}: {b.error}", file=sys.stderr)
    return result.exit_code()
