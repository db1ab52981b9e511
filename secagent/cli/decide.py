"""`secagent approve ID` / `secagent reject ID [--comment ...]`: a person's decision on the plans.

An approval is a person's: `approve` shows what approving the selection would apply (the API's
preview of it, re-planned for a subset), asks on the terminal, and quotes the digest of exactly
what it showed. A script passes `--yes --digest D`, D being the digest someone reviewed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, Literal, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    FAIL_ON_DEFAULT,
    CliError,
    Globals,
    audit_id_arg,
    connect,
    expect,
)
from secagent.cli.watch import follow_to_the_end
from secagent.resources import shown_resource

if TYPE_CHECKING:
    pass

Decision = Literal["approve", "reject"]
YES = frozenset({"y", "yes"})


def decide(
    api: AuditApi,
    audit_id: str,
    decision: Decision,
    *,
    comment: str | None = None,
    plan_digest: str | None = None,
    only: list[str] | None = None,
    yes: bool = False,
    wait: bool = False,
    out: TextIO = sys.stdout,
    stdin: TextIO | None = None,
    poll_interval: float = 0.5,
    fail_on: str = FAIL_ON_DEFAULT,
) -> int:
    """Reject at once; approve only what was shown and confirmed (`yes`: with the reviewed `plan_digest`)."""
    if decision == "approve":
        confirmed = _confirm(
            api, audit_id, reviewed=plan_digest, only=only, yes=yes, out=out, stdin=stdin or sys.stdin
        )
        if confirmed is None:
            out.write(f"Not approved: nothing was sent; audit {audit_id} still awaits a decision.\n")
            return EXIT_FINDINGS
        plan_digest = confirmed
    expect(
        api.decide(audit_id, decision, comment=comment, plan_digest=plan_digest, remediation_ids=only),
        200,
        what=f"{decision} audit {audit_id}",
        audit_id=audit_id,
    )
    if decision == "approve":
        out.write(f"Approved audit {audit_id}: the fixes are being applied and verified.\n")
    else:
        out.write(f"Rejected audit {audit_id}: nothing will be changed.\n")
    if not wait:
        out.write(f"Follow it: secagent status {audit_id}\n")
        return EXIT_OK
    return follow_to_the_end(api, audit_id, out, poll_interval=poll_interval, fail_on=fail_on)


def _confirm(
    api: AuditApi,
    audit_id: str,
    *,
    reviewed: str | None,
    only: list[str] | None,
    yes: bool,
    out: TextIO,
    stdin: TextIO,
) -> str | None:
    """The digest to approve with, once a person said yes to what it covers; None: they did not."""
    check_who_confirms(audit_id, yes=yes, reviewed=reviewed, stdin=stdin)
    preview = expect(
        api.preview_approval(audit_id, only),
        200,
        what=f"preview the approval of audit {audit_id}",
        audit_id=audit_id,
    )
    digest, plans = preview.get("planDigest"), preview.get("plans") or []
    if not isinstance(digest, str) or not digest or not plans:
        raise CliError(f"audit {audit_id}: the API previewed nothing to approve; nothing was sent")
    # Which plans a plain approval covers, and why the others need naming: the audit's status says
    audit = expect(api.get_audit(audit_id), 200, what=f"status of audit {audit_id}", audit_id=audit_id)
    target = shown_resource(audit.get("resource"))
    _show(preview, audit, target, out)
    if reviewed and reviewed != digest:
        raise CliError(
            f"the plans this approval would apply now (planDigest {digest}) are not the ones reviewed "
            f"(--digest {reviewed}): review them again; nothing was sent",
            EXIT_FAILED,
        )
    if yes:
        out.write(f"Approving with --yes: the digest given is the one shown ({digest}).\n")
        return digest
    out.write(f"Apply these {len(plans)} change(s) to {target}? [y/N] ")
    out.flush()
    answer = stdin.readline()
    if not answer.endswith("\n"):
        out.write("\n")  # end of input: the prompt's line is still open
    return digest if answer.strip().lower() in YES else None


def check_who_confirms(audit_id: str, *, yes: bool, reviewed: str | None, stdin: TextIO) -> None:
    """A person at the terminal, or --yes with the digest someone reviewed; else exit 2, nothing sent."""
    if yes and not reviewed:
        raise CliError(
            "--yes needs --digest D, the planDigest of the plans someone reviewed (`secagent approve "
            f"{audit_id}` in a terminal shows it; answer N to only look); nothing was sent",
            EXIT_USAGE,
        )
    if not yes and not _is_terminal(stdin):
        raise CliError(
            "stdin is not a terminal, so nobody can confirm the approval: pass --yes --digest D "
            f"(the planDigest you reviewed, shown by `secagent approve {audit_id}` in a terminal); "
            "nothing was sent",
            EXIT_USAGE,
        )


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or a stand-in without isatty
        return False


def _show(preview: dict[str, Any], audit: dict[str, Any], target: str, out: TextIO) -> None:
    """The plans the approval applies, grouped by severity (worst first) and numbered in the order
    they apply, each with its remediation id and whether it is in the default selection; what is
    left out, with why and its severity; the digest."""
    from secagent.render import audit_findings, plan_severity, render_pending_plans

    pending = {p.get("remediationId"): p for p in audit.get("pendingPlans") or []}
    defaults = audit.get("defaultRemediationIds")
    plans = [_as_pending(plan, pending, defaults) for plan in preview.get("plans") or []]
    findings = audit_findings(audit)
    named = preview.get("selection") == "named"
    selection = "the ones named with --only" if named else "the default: reversible, scoped to the resource"
    lines = [
        f"Approving audit {preview.get('auditId')} applies {len(plans)} change(s) to {target} "
        f"({selection}), worst first:",
        render_pending_plans(plans, findings),
    ]
    left_out = preview.get("leftOut") or []
    if left_out:
        lines.append("Left out (not applied; name a plan's id with --only to choose it):")
        for item in left_out:
            rid = item.get("remediationId")
            severity = plan_severity(pending[rid], findings) if rid in pending else None
            lines.append(f"  - {rid} ({severity or 'severity unknown'}): {item.get('reason')}")
    lines.append(f"planDigest: {preview.get('planDigest')}")
    out.write("\n".join(lines) + "\n")


def _as_pending(
    plan: dict[str, Any], pending: dict[Any, dict[str, Any]], defaults: list[str] | None
) -> dict[str, Any]:
    """A previewed plan with what the audit's status tells of it: its severity (the API rates the
    pending plans by the audit's findings), in the default selection or not, and why."""
    rid, shown = plan.get("remediationId"), pending.get(plan.get("remediationId")) or {}
    in_default = rid in defaults if defaults is not None else shown.get("approvedByDefault", True)
    return {
        **plan,
        "severity": plan.get("severity") or shown.get("severity"),
        "approvedByDefault": in_default,
        "namedOnlyReason": shown.get("namedOnlyReason"),
    }


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    for decision, summary in (
        ("approve", "approve the proposed fixes of an audit awaiting approval"),
        ("reject", "reject the proposed fixes of an audit awaiting approval"),
    ):
        confirm = (
            " Shows what approving would apply, grouped by severity, worst first (each plan's title, "
            "remediation id, whether it is reversible and in the default selection, the checks it "
            "fixes, risk, AWS CLI command; what is left out and why; the planDigest), then asks "
            "[y/N] on the terminal. Without a terminal: --yes --digest D (exit 2 otherwise). Exits 1 "
            "when you answer no (nothing is sent)."
            if decision == "approve"
            else ""
        )
        parser = subparsers.add_parser(
            decision,
            parents=parents,
            help=summary,
            description=summary[0].upper() + summary[1:] + "." + confirm + " Exits 3 (409) when the "
            "audit is not awaiting approval or was already decided.",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("audit_id", metavar="ID", type=audit_id_arg, help="the audit id")
        parser.add_argument("--comment", help="why (kept in the report)")
        if decision == "approve":
            parser.add_argument(
                "--only",
                action="append",
                type=_remediation_ids,
                metavar="ID[,ID...]",
                help="approve exactly these remediations (their ids as `secagent status ID` shows them; "
                "comma-separated, repeatable), re-planned alone; "
                "needed for irreversible and account-wide plans (default: the reversible plans scoped "
                "to the audited resource)",
            )
            parser.add_argument(
                "--digest",
                help="the planDigest of the plans you reviewed (as this command shows it): approve only "
                "if the selection would still apply exactly those",
            )
            parser.add_argument(
                "--yes",
                action="store_true",
                help="for scripts: do not ask; requires --digest (without a terminal, --yes --digest "
                "is the only way to approve)",
            )
        parser.add_argument(
            "--wait", action="store_true", help="follow the audit to its end and print the report"
        )
        parser.set_defaults(handler=_run, decision=decision)


def _remediation_ids(value: str) -> list[str]:
    """argparse type of --only: "a,b" -> ["a", "b"]; an empty id is a usage error."""
    ids = [i.strip() for i in value.split(",")]
    if not all(ids):
        raise argparse.ArgumentTypeError(f"{value!r}: name remediation ids separated by commas")
    return ids


def _run(args: argparse.Namespace, options: Globals) -> int:
    only = getattr(args, "only", None)
    if args.decision == "approve":  # before connecting: a usage error needs no stack lookup
        check_who_confirms(args.audit_id, yes=args.yes, reviewed=args.digest, stdin=sys.stdin)
    return decide(
        connect(options),
        args.audit_id,
        args.decision,
        comment=args.comment,
        plan_digest=getattr(args, "digest", None),
        only=list(dict.fromkeys(i for group in only for i in group)) if only else None,
        yes=getattr(args, "yes", False),
        wait=args.wait,
        fail_on=options.fail_on,
    )
