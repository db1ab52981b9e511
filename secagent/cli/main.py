"""`secagent`: argparse with one subcommand per module; the one place errors become exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from secagent.cli import (
    audit,
    checks,
    decide,
    exempt,
    list_audits,
    report,
    resume,
    rollback,
    status,
    sweep,
)
from secagent.cli.common import (
    DEFAULT_STACK_NAME,
    EXIT_CODES_HELP,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    SEVERITIES,
    CliError,
    Globals,
)
from secagent.cli.forward import FORWARDED as FORWARDED_COMMANDS

FORWARDED: dict[str, Callable[[Sequence[str]], int]] = {c.command: c.run for c in FORWARDED_COMMANDS}
GLOBAL_WITH_VALUE = ("--endpoint-url", "--region", "--profile", "--stack-name", "--api-url", "--fail-on")

DESCRIPTION = """\
Infrastructure Security Agent: audit S3 buckets and EC2 security groups, review the proposed
fixes, approve them, read the report. Talks to the deployed stack's API (found from the
CloudFormation stack's outputs), signing with the usual AWS credential chain.

examples:
  secagent audit my-bucket --wait              # plan mode: findings and proposed fixes
  secagent audit sg-0123abcd --wait            # a security group (the id says so)
  secagent audit my-bucket --remediate --wait  # fixes applied after 'secagent approve ID'
  secagent audit sg-0123abcd --type bucket     # a bucket named like a group id
  secagent --endpoint-url http://localhost:4566 list
  secagent sweep start --wait                  # every account's buckets and groups, read-only
"""


class Parser(argparse.ArgumentParser):
    """Usage errors are one line (and exit 2), pointing at --help."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """Accepted before and after the command; the subcommands' copies must not reset the values."""
    default = argparse.SUPPRESS if suppress else None
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("global options")
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        default=default,
        help="AWS endpoint, e.g. LocalStack's http://localhost:4566 (default: $AWS_ENDPOINT_URL)",
    )
    group.add_argument("--region", default=default, help="AWS region (default: the AWS config)")
    group.add_argument("--profile", default=default, help="AWS profile (default: $AWS_PROFILE)")
    group.add_argument(
        "--stack-name",
        metavar="NAME",
        default=default,
        help=f"the deployed stack (default: $SECAGENT_STACK_NAME or {DEFAULT_STACK_NAME})",
    )
    group.add_argument(
        "--api-url",
        metavar="URL",
        default=default,
        help="the API's base URL; skips the stack lookup (default: $SECAGENT_API_URL)",
    )
    group.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        type=str.lower,
        choices=SEVERITIES,
        default=default,
        help="an audit exits 1 when a finding of this severity or worse still fails "
        "(critical, high, medium, low, info; default: $SECAGENT_FAIL_ON or high)",
    )
    return parser


def build_parser() -> Parser:
    parser = Parser(
        prog="secagent",
        description=DESCRIPTION,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[global_options(suppress=False)],
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    parents = [global_options(suppress=True)]
    audit.add_parser(commands, parents)
    status.add_parser(commands, parents)
    list_audits.add_parser(commands, parents)
    decide.add_parsers(commands, parents)
    resume.add_parser(commands, parents)
    rollback.add_parser(commands, parents)
    exempt.add_parser(commands, parents)
    report.add_parser(commands, parents)
    checks.add_parser(commands, parents)
    sweep.add_parser(commands, parents)
    for forwarded in FORWARDED_COMMANDS:
        forwarded.add_parser(commands, parents)
    return parser


def _split_forwarded(argv: list[str]) -> tuple[str, list[str], list[str]] | None:
    """(command, global options before it, the rest) when the command is forwarded, else None."""
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in FORWARDED:
            return arg, argv[:i], argv[i + 1 :]
        if arg in ("-h", "--help") or not arg.startswith("-"):
            return None
        i += 2 if arg in GLOBAL_WITH_VALUE else 1
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if forwarded := _split_forwarded(args_list):
            command, before, rest = forwarded
            options = Parser(prog="secagent", parents=[global_options(suppress=False)]).parse_args(before)
            Globals.from_namespace(options).export()
            return FORWARDED[command](rest)
        args = build_parser().parse_args(args_list)
    except SystemExit as exc:  # --help (0) or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return int(args.handler(args, Globals.from_namespace(args)))
    except CliError as exc:
        return _fail(exc.message, exc.code)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except Exception as exc:
        if (translated := translate(exc, Globals.from_namespace(args))) is None:
            raise  # a bug: let the traceback show
        return _fail(translated.message, translated.code)


def _fail(message: str, code: int) -> int:
    print(f"secagent: error: {message}", file=sys.stderr)
    return code


def translate(exc: Exception, options: Globals) -> CliError | None:
    """The AWS SDK's and the network's expected failures as one line and an exit code; None = a bug."""
    import botocore.exceptions as bce

    from secagent.client import ApiUnreachable

    where = options.endpoint_url or "AWS"
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return CliError(f"no usable AWS credentials: {exc}", EXIT_FAILED)
    if isinstance(exc, bce.NoRegionError):
        return CliError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION", EXIT_USAGE)
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectTimeoutError):
        return CliError(f"could not reach {where}: {exc}", EXIT_FAILED)
    if isinstance(exc, bce.HTTPClientError):
        return CliError(f"connection to {where} failed: {exc}", EXIT_FAILED)
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "AWS call")
        return CliError(f"{operation}: {error.get('Code')}: {error.get('Message')}", EXIT_FAILED)
    if isinstance(exc, bce.BotoCoreError):
        return CliError(str(exc), EXIT_FAILED)
    if isinstance(exc, ApiUnreachable):
        return CliError(str(exc), EXIT_FAILED)
    if isinstance(exc, OSError):  # network trouble below urllib/botocore
        return CliError(f"network error: {exc}", EXIT_FAILED)
    return None


if __name__ == "__main__":
    sys.exit(main())
