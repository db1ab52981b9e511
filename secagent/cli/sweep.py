"""`secagent sweep start|status|report|list|remediate`: Discover + Analyze every bucket and security
group of several accounts, read-only, and read its posture report.

A sweep changes nothing. To fix a resource it found, `secagent sweep remediate SWEEP RESOURCE`
starts an audit of it (of the deployment's own account), which waits for a person's approval
like any audit.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    FAIL_ON_DEFAULT,
    SEVERITIES,
    CliError,
    Globals,
    connect,
    expect,
    polled,
)
from secagent.resources import KINDS, TYPE_OPTIONS, kind_of, shown_value

# The API's sweep id (secagent.models.sweep.SWEEP_ID, kept here so `--help` needs no pydantic) and
# account id, matched whole.
SWEEP_ID = re.compile(r"[A-Za-z0-9-]{1,80}")
ACCOUNT_ID = re.compile(r"\d{12}")
ENDED = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
REPORT_FORMATS = ("table", "json", "markdown", "ocsf", "asff")
FIRST_PAGE = 0  # GET /sweeps/{id}/findings?page=0 is the first page; each names its `nextPage`
MAX_PAGES = 10_000  # a paging that does not end is the API's bug, not a reason to loop forever
TYPE_ALL = "all"

EXIT_CODES_HELP = f"""\
exit codes:
  0    done; for a finished sweep's report (report, start --wait): no resource fails a check
       at or above --fail-on (default {FAIL_ON_DEFAULT}) and every account was listed
  1    the finished sweep's report: a resource fails a check at or above --fail-on
  2    usage error (bad arguments, or a request the API refused as invalid)
  3    the sweep ended FAILED, TIMED_OUT or ABORTED, or an account could not be listed (nothing
       is known of its resources), or its report was asked for while it runs, or the API could
       not be reached or answered an error
  130  interrupted (Ctrl-C); a started sweep keeps running
"""


# --- argument types --------------------------------------------------------------------------------


def sweep_id_arg(value: str) -> str:
    if not SWEEP_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{shown_value(value)} is not a sweep id (1 to 80 letters, digits or hyphens)"
        )
    return value


def account_id_arg(value: str) -> str:
    if not ACCOUNT_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{shown_value(value)} is not an AWS account id (12 digits)")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_positive.__name__ = "positive integer"  # argparse names the type in its error


# --- commands ------------------------------------------------------------------------------------


def start(
    api: AuditApi,
    *,
    accounts: list[str] | None = None,
    resource_types: list[str] | None = None,
    wait: bool = False,
    fmt: str = "table",
    fail_on: str = FAIL_ON_DEFAULT,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Without `wait`: the sweep id alone on stdout (the whole answer with --format json), exit 0.
    With `wait`: its progress, then its report, and the exit code of the report."""
    started = expect(api.start_sweep(accounts, resource_types), 202, what="sweep")
    sweep_id = str(started.get("sweepId"))
    if not wait:
        out.write(json.dumps(started, indent=2) + "\n" if fmt == "json" else f"{sweep_id}\n")
        err.write(
            f"Sweep {sweep_id} started (read-only: it changes nothing). "
            f"Follow it: secagent sweep status {sweep_id} --watch\n"
        )
        return EXIT_OK
    err.write(f"Sweep {sweep_id} started (read-only: it changes nothing)\n")
    with interrupted(sweep_id):
        body = follow(api, sweep_id, err, poll_interval=poll_interval, sleep=sleep)
    if body.get("status") == "SUCCEEDED":
        write_report(api, sweep_id, fmt, out)
    else:
        out.write(render_status(body) + "\n")
    return sweep_exit_code(body, fail_on, err)


def status(
    api: AuditApi,
    sweep_id: str,
    *,
    watch: bool = False,
    fmt: str = "table",
    out: TextIO = sys.stdout,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Exit 0 whenever the sweep was found; with `watch`, followed to its end: 0 when it SUCCEEDED,
    3 when it ended otherwise."""
    if watch:
        with interrupted(sweep_id):
            body = follow(api, sweep_id, out, poll_interval=poll_interval, sleep=sleep)
        out.write("\n")
    else:
        body = _expect(api.get_sweep(sweep_id), 200, what=f"status of sweep {sweep_id}", sweep_id=sweep_id)
    out.write(json.dumps(body, indent=2) + "\n" if fmt == "json" else render_status(body) + "\n")
    if watch and body.get("status") != "SUCCEEDED":
        return EXIT_FAILED
    return EXIT_OK


def report(
    api: AuditApi,
    sweep_id: str,
    *,
    fmt: str = "table",
    fail_on: str = FAIL_ON_DEFAULT,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Prints the posture report (or its findings as OCSF / ASFF, every page); the exit code of
    the finished sweep (sweep_exit_code)."""
    body = _expect(api.get_sweep(sweep_id), 200, what=f"report of sweep {sweep_id}", sweep_id=sweep_id)
    if body.get("status") == "RUNNING":
        raise CliError(
            f"sweep {sweep_id} is RUNNING: its report is written when it ends "
            f"(secagent sweep status {sweep_id} --watch)"
        )
    try:
        write_report(api, sweep_id, fmt, out)
    except CliError as exc:
        if body.get("status") == "SUCCEEDED":
            raise
        raise CliError(f"sweep {sweep_id} ended {body.get('status')}: {exc.message}", exc.code) from None
    return sweep_exit_code(body, fail_on, err)


def list_sweeps(
    api: AuditApi,
    *,
    limit: int | None = None,
    next_token: str | None = None,
    fmt: str = "table",
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    body = expect(api.list_sweeps(limit, next_token), 200, what="list of sweeps")
    if fmt == "json":
        out.write(json.dumps(body, indent=2) + "\n")
        return EXIT_OK
    from secagent.render import short_time, table

    sweeps, token = body.get("sweeps") or [], body.get("nextToken")
    if sweeps:
        rows = [
            (
                s.get("sweepId"),
                s.get("status"),
                short_time(s.get("requestedAt")),
                s.get("requestedBy") or "",
                _accounts_cell(s.get("accounts")),
            )
            for s in sweeps
        ]
        out.write(table(["sweep", "status", "requested", "by", "accounts"], rows) + "\n")
    else:
        out.write("No sweeps." if not token else "No sweeps in this page.")
        out.write("\n")
    if token:
        shown = [("--limit", limit), ("--next-token", token)]
        err.write("More sweeps: secagent sweep list " + " ".join(f"{o} {v}" for o, v in shown if v) + "\n")
    return EXIT_OK


def remediate(
    api: AuditApi,
    sweep_id: str,
    resource_id: str,
    *,
    type_option: str | None = None,
    account_id: str | None = None,
    mode: str = "remediate",
    approval_timeout: int | None = None,
    wait: bool = False,
    fail_on: str = FAIL_ON_DEFAULT,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    poll_interval: float = 0.5,
) -> int:
    """Start an audit of a resource the sweep found: the audit id alone on stdout; the approval it
    waits for and the next commands on stderr. With `wait`, followed like `secagent audit --wait`."""
    from secagent.cli.audit import resource_to_audit

    resource = resource_to_audit(resource_id, type_option)  # a usage error before anything is sent
    shown = KINDS[resource.type].show(resource.id)
    started = _expect(
        api.start_sweep_audit(
            sweep_id,
            resource.type,
            resource.id,
            account_id=account_id,
            mode=mode,
            approval_timeout_seconds=approval_timeout,
        ),
        202,
        what=f"audit of {shown} from sweep {sweep_id}",
        sweep_id=None,
    )
    audit_id = str(started.get("auditId"))
    if wait:
        from secagent.cli.watch import follow_to_the_end

        out.write(f"Audit {audit_id} of {shown} ({mode}), from sweep {sweep_id}\n")
        out.flush()
        return follow_to_the_end(api, audit_id, out, poll_interval=poll_interval, fail_on=fail_on)
    out.write(f"{audit_id}\n")
    if mode == "remediate":
        err.write(
            f"Audit {audit_id} of {shown} started (remediate), from sweep {sweep_id}. It changes "
            "nothing until a person approves its fixes: it waits for approval once it has proposed "
            f"them.\n  follow it: secagent status {audit_id}\n"
            f"  approve:   secagent approve {audit_id}  (a person other than the one who started it)\n"
            f"  reject:    secagent reject {audit_id} --comment '...'\n"
        )
    else:
        err.write(
            f"Audit {audit_id} of {shown} started (plan: it proposes fixes, applies none), from "
            f"sweep {sweep_id}. Follow it: secagent status {audit_id}\n"
        )
    return EXIT_OK


# --- the report, its exit code -------------------------------------------------------------------


def write_report(api: AuditApi, sweep_id: str, fmt: str, out: TextIO) -> None:
    what = f"report of sweep {sweep_id}"
    if fmt in ("ocsf", "asff"):
        findings = all_findings(api, sweep_id, fmt)
        document: Any = findings if fmt == "ocsf" else {"Findings": findings}
        out.write(json.dumps(document, indent=2) + "\n")
    elif fmt == "markdown":
        answer = _expect(api.sweep_report(sweep_id, "markdown"), 200, what=what, sweep_id=None)
        text = str((answer or {}).get("body") or "")
        out.write(text if text.endswith("\n") else text + "\n")
    else:
        data = _expect(api.sweep_report(sweep_id), 200, what=what, sweep_id=None)
        if fmt == "json":
            out.write(json.dumps(data, indent=2) + "\n")
        else:
            from secagent.models.posture import PostureReport
            from secagent.sweep.posture import render_table

            out.write(render_table(PostureReport.model_validate(data)).rstrip("\n") + "\n")


def all_findings(api: AuditApi, sweep_id: str, fmt: str) -> list[Any]:
    """Every page of the sweep's findings in `fmt` (ocsf, asff), in the API's order."""
    findings: list[Any] = []
    page: int | None = FIRST_PAGE
    read: set[int] = set()
    while page is not None:
        if page in read or len(read) >= MAX_PAGES:
            raise CliError(f"findings of sweep {sweep_id}: the API's paging does not end (page {page} again)")
        read.add(page)
        body = _expect(
            api.sweep_findings(sweep_id, fmt, page),
            200,
            what=f"findings of sweep {sweep_id} (page {page})",
            sweep_id=None,
        )
        findings += body.get("findings") or []
        following = body.get("nextPage")
        page = following if isinstance(following, int) and not isinstance(following, bool) else None
    return findings


def sweep_exit_code(body: dict[str, Any], fail_on: str, err: TextIO) -> int:
    """3 when the sweep did not succeed; 1 when a resource fails a check at or above `fail_on`;
    3 when an account could not be listed or the sweep is otherwise incomplete (resources not
    judged, items failed, the map stopped: nothing is known of them); else 0."""
    sweep_id = body.get("sweepId", "?")
    ended = body.get("status")
    if ended != "SUCCEEDED":
        err.write(f"secagent: sweep {sweep_id} ended {ended}: its report is incomplete\n")
        return EXIT_FAILED
    summary = body.get("summary")
    if not isinstance(summary, dict):
        err.write(f"secagent: sweep {sweep_id} has no summary: nothing can be said about its resources\n")
        return EXIT_FAILED
    failing = summary.get("failingBySeverity") or {}
    gate = SEVERITIES[: SEVERITIES.index(fail_on) + 1] if fail_on in SEVERITIES else SEVERITIES
    if any(_count(failing.get(severity)) for severity in gate):
        return EXIT_FINDINGS
    broken = [entry for entry in body.get("listing") or [] if entry.get("status") == "FAILED"]
    if broken:
        names = ", ".join(str(entry.get("accountId")) for entry in broken)
        err.write(
            f"secagent: sweep {sweep_id} could not list account(s) {names}: nothing is known of "
            "their resources\n"
        )
        return EXIT_FAILED
    if summary.get("complete") is not True:  # resources unjudged, items failed, the map stopped
        err.write(
            f"secagent: sweep {sweep_id} is incomplete ({_count(summary.get('unjudged'))} resource(s) "
            "not judged): nothing can be said of what it did not see (secagent sweep report)\n"
        )
        return EXIT_FAILED
    return EXIT_OK


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _expect(response: Any, *ok: int, what: str, sweep_id: str | None) -> Any:
    """`expect`, with a 404 of a named sweep said as such; any other 404 with the API's message."""
    if response.status == 404:
        if sweep_id is not None:
            raise CliError(f"sweep {sweep_id} not found")
        body = response.body if isinstance(response.body, dict) else {}
        raise CliError(f"{what}: {body.get('message') or 'not found'}")
    return expect(response, *ok, what=what)


# --- following a sweep -----------------------------------------------------------------------------


@dataclass
class Progress:
    """What has been printed of a sweep's progress; `update` returns only what is new."""

    _accounts: dict[str, str] = field(default_factory=dict)
    _counts: tuple[Any, ...] | None = None

    def update(self, body: dict[str, Any]) -> list[str]:
        lines = []
        for entry in body.get("listing") or []:
            account, listed = str(entry.get("accountId")), str(entry.get("status"))
            if self._accounts.get(account) == listed:
                continue
            self._accounts[account] = listed
            lines.append(_listing_line(entry))
        progress = body.get("progress") or {}
        counts = tuple(progress.get(k) for k in ("total", "done", "failed", "remaining"))
        if counts != self._counts and progress.get("total") is not None:
            self._counts = counts
            lines.append("  " + progress_text(progress))
        return lines


def follow(
    api: AuditApi,
    sweep_id: str,
    out: TextIO,
    *,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    max_consecutive_errors: int = 5,
) -> dict[str, Any]:
    """Poll until the sweep has ended, printing each account's listing and the progress as they
    change; returns the last answer. A few 5xx answers or failed polls in a row are tolerated."""
    progress = Progress()
    for response in polled(
        lambda: api.get_sweep(sweep_id),
        interval=poll_interval,
        sleep=sleep,
        max_consecutive_errors=max_consecutive_errors,
    ):
        body: dict[str, Any] = _expect(response, 200, what=f"status of sweep {sweep_id}", sweep_id=sweep_id)
        lines = progress.update(body)
        if lines:
            out.write("\n".join(lines) + "\n")
        out.flush()
        if body.get("status") != "RUNNING":
            return body
    raise AssertionError("polled() ends only by raising")  # pragma: no cover


@contextmanager
def interrupted(sweep_id: str) -> Iterator[None]:
    """Ctrl-C while following: the sweep runs on; say how to follow it; exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        raise CliError(
            f"interrupted; sweep {sweep_id} keeps running: follow it with "
            f"'secagent sweep status {sweep_id} --watch'",
            EXIT_INTERRUPTED,
        ) from None


# --- rendering -----------------------------------------------------------------------------------


def progress_text(progress: dict[str, Any]) -> str:
    total, remaining = progress.get("total"), progress.get("remaining")
    if total is None:
        return "listing the accounts' resources..."
    left = "" if remaining is None else f", {remaining} remaining"
    return f"{progress.get('done', 0)}/{total} resources judged, {progress.get('failed', 0)} failed{left}"


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return ""
    name, message = error.get("error"), error.get("message")
    text = f"{name}: {message}" if name and message else str(name or message or "")
    return " ".join(text.split())[:200]


def _listing_line(entry: dict[str, Any]) -> str:
    account = entry.get("accountId")
    if entry.get("status") == "FAILED":
        why = _error_text(entry.get("error"))
        return f"  account {account} could not be listed" + (f": {why}" if why else "")
    return f"  account {account} listed: {entry.get('resources', 0)} resources"


def _accounts_cell(accounts: Any) -> str:
    names = [str(a) for a in accounts or []]
    return ", ".join(names) if len(names) <= 3 else f"{', '.join(names[:3])} (+{len(names) - 3})"


def render_status(body: dict[str, Any]) -> str:
    """A sweep's status: progress, each account's listing (a broken one named with why), the
    summary once it has ended, and the next commands."""
    from secagent.render import short_time, table

    sweep_id = body.get("sweepId", "?")
    ended = f"; ended {short_time(body['finishedAt'])}" if body.get("finishedAt") else ""
    types = [kind.label if (kind := kind_of(t)) else str(t) for t in body.get("resourceTypes") or []]
    lines = [
        f"Sweep {sweep_id}: {body.get('status')}",
        f"Requested by {body.get('requestedBy') or '?'} at {short_time(body.get('requestedAt'))}{ended}",
        f"Accounts: {', '.join(str(a) for a in body.get('accounts') or []) or '?'}   "
        f"types: {', '.join(types) or '?'}",
        f"Progress: {progress_text(body.get('progress') or {})}",
    ]
    listing = body.get("listing") or []
    if listing:
        rows = [
            (e.get("accountId"), e.get("status"), e.get("resources", 0), _error_text(e.get("error")))
            for e in listing
        ]
        lines += ["", table(["account", "listing", "resources", "error"], rows)]
    broken = [e for e in listing if e.get("status") == "FAILED"]
    if broken:
        lines.append("")
        lines += [
            f"! account {e.get('accountId')} could not be listed"
            + (f" ({why})" if (why := _error_text(e.get("error"))) else "")
            + ": nothing is known of its resources."
            for e in broken
        ]
    summary = body.get("summary")
    if isinstance(summary, dict):
        failing = summary.get("failingBySeverity") or {}
        lines += [
            "",
            f"Resources: {summary.get('resources', 0)}: {summary.get('compliant', 0)} compliant, "
            f"{summary.get('nonCompliant', 0)} non-compliant, {summary.get('unjudged', 0)} not judged",
            "Failing checks by severity: "
            + ", ".join(f"{severity} {_count(failing.get(severity))}" for severity in SEVERITIES),
        ]
    if body.get("status") in ENDED:
        lines += [
            "",
            f"Report: secagent sweep report {sweep_id}",
            f"Fix a resource of this account: secagent sweep remediate {sweep_id} RESOURCE",
        ]
    elif body.get("status") == "RUNNING":
        lines += ["", f"Follow it: secagent sweep status {sweep_id} --watch"]
    return "\n".join(lines)


# --- the parser ----------------------------------------------------------------------------------


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sweep",
        parents=parents,
        help="discover and judge every bucket and security group of several accounts, read-only",
        description=__doc__,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    formatter = argparse.RawDescriptionHelpFormatter
    types = sorted([*TYPE_OPTIONS, TYPE_ALL])

    starting = actions.add_parser(
        "start",
        parents=parents,
        help="start a sweep (read-only)",
        description="Start a sweep: list the accounts' buckets and security groups and judge each, "
        "changing nothing. Without --account: the deployment's own account and every configured "
        "member account. Without --wait prints the sweep id and returns.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    starting.add_argument(
        "--account",
        dest="accounts",
        metavar="ID",
        action="append",
        type=account_id_arg,
        help="an account to sweep (repeat for more; default: the deployment's and its members)",
    )
    starting.add_argument(
        "--type", dest="type_option", choices=types, default=TYPE_ALL, help="what to sweep (default: all)"
    )
    starting.add_argument("--wait", action="store_true", help="follow it, then print its report")
    starting.add_argument(
        "--format", choices=("table", "json"), default="table", help="of the answer or the report"
    )
    starting.set_defaults(handler=_start)

    showing = actions.add_parser(
        "status",
        parents=parents,
        help="a sweep's progress and each account's listing",
        description="Show a sweep's progress (judged, failed, remaining), each account's listing "
        "(an account that could not be listed is named with why) and, once ended, its summary. "
        "Exits 0 when the sweep was found; with --watch, 0 when it succeeded, 3 otherwise.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    showing.add_argument("sweep_id", metavar="ID", type=sweep_id_arg, help="the sweep id")
    showing.add_argument("--watch", action="store_true", help="follow it until it ends")
    showing.add_argument("--format", choices=("table", "json"), default="table", help="default: table")
    showing.set_defaults(handler=_status)

    reporting = actions.add_parser(
        "report",
        parents=parents,
        help="the posture report of a finished sweep",
        description="Print a finished sweep's posture report: per control and per account, the "
        "failing resources worst first (table, default), as JSON or Markdown; or its failing "
        'findings, every page, as OCSF (a JSON array) or ASFF ({"Findings": [...]}, as Security '
        "Hub's BatchImportFindings takes them). Exits 1 when a resource fails a check at or above "
        "--fail-on.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    reporting.add_argument("sweep_id", metavar="ID", type=sweep_id_arg, help="the sweep id")
    reporting.add_argument("--format", choices=REPORT_FORMATS, default="table", help="default: table")
    reporting.set_defaults(handler=_report)

    listing = actions.add_parser(
        "list",
        parents=parents,
        help="sweeps, newest first",
        description="List sweeps, newest first (one page; --next-token for the next).",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    listing.add_argument("--limit", type=_positive, metavar="N", help="at most N sweeps")
    listing.add_argument("--next-token", metavar="TOKEN", help="the next page of an earlier listing")
    listing.add_argument("--format", choices=("table", "json"), default="table", help="default: table")
    listing.set_defaults(handler=_list)

    fixing = actions.add_parser(
        "remediate",
        parents=parents,
        help="start an audit of a resource the sweep found (waits for approval)",
        description="Start an audit of a resource a finished sweep found, in the deployment's own "
        "account (a member account is swept read-only: deploy the agent there to fix it). In "
        "remediate mode (default) it proposes fixes and waits for a person's approval "
        "(secagent approve ID) before changing anything. Prints the audit id.",
        epilog=EXIT_CODES_HELP,
        formatter_class=formatter,
    )
    fixing.add_argument("sweep_id", metavar="ID", type=sweep_id_arg, help="the sweep id")
    fixing.add_argument(
        "resource_id", metavar="RESOURCE_ID", help="a bucket name or a security group id it found"
    )
    fixing.add_argument(
        "--type",
        dest="type_option",
        choices=sorted(TYPE_OPTIONS),
        help="what RESOURCE_ID names, when its id alone does not say (a bucket named like a group id)",
    )
    fixing.add_argument(
        "--account",
        type=account_id_arg,
        metavar="ID",
        help="the resource's account (default: the deployment's)",
    )
    fixing.add_argument(
        "--mode", choices=("plan", "remediate"), default="remediate", help="default: remediate"
    )
    fixing.add_argument(
        "--approval-timeout",
        type=int,
        metavar="SECONDS",
        help="how long the approval request stays open (the API's default otherwise)",
    )
    fixing.add_argument("--wait", action="store_true", help="follow the audit, as 'secagent audit --wait'")
    fixing.set_defaults(handler=_remediate)


def _types(option: str) -> list[str] | None:
    return None if option == TYPE_ALL else [TYPE_OPTIONS[option]]


def _start(args: argparse.Namespace, options: Globals) -> int:
    return start(
        connect(options),
        accounts=args.accounts,
        resource_types=_types(args.type_option),
        wait=args.wait,
        fmt=args.format,
        fail_on=options.fail_on,
    )


def _status(args: argparse.Namespace, options: Globals) -> int:
    return status(connect(options), args.sweep_id, watch=args.watch, fmt=args.format)


def _report(args: argparse.Namespace, options: Globals) -> int:
    return report(connect(options), args.sweep_id, fmt=args.format, fail_on=options.fail_on)


def _list(args: argparse.Namespace, options: Globals) -> int:
    return list_sweeps(connect(options), limit=args.limit, next_token=args.next_token, fmt=args.format)


def _remediate(args: argparse.Namespace, options: Globals) -> int:
    from secagent.cli.audit import resource_to_audit

    resource_to_audit(args.resource_id, args.type_option)  # before connecting: nothing sent
    return remediate(
        connect(options),
        args.sweep_id,
        args.resource_id,
        type_option=args.type_option,
        account_id=args.account,
        mode=args.mode,
        approval_timeout=args.approval_timeout,
        wait=args.wait,
        fail_on=options.fail_on,
    )
