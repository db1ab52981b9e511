"""`secagent approve ID` / `secagent reject ID [--comment ...]`: a person's decision on the plans."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Literal, TextIO

from secagent.cli.common import EXIT_OK, AuditApi, CliError, Globals, connect, expect
from secagent.cli.watch import conclude, follow, interrupted

Decision = Literal["approve", "reject"]


def decide(
    api: AuditApi,
    audit_id: str,
    decision: Decision,
    *,
    comment: str | None = None,
    plan_digest: str | None = None,
    only: list[str] | None = None,
    wait: bool = False,
    out: TextIO = sys.stdout,
    poll_interval: float = 0.5,
) -> int:
    if decision == "approve" and plan_digest is None:
        # Approve what is pending now, and say what that is: the API binds it to this digest.
        pending = expect(api.get_audit(audit_id), 200, what=f"read audit {audit_id}", audit_id=audit_id)
        if pending.get("status") != "AWAITING_APPROVAL" or not pending.get("planDigest"):
            raise CliError(f"audit {audit_id} is not awaiting approval (it is {pending.get('status')})")
        plan_digest = pending["planDigest"]
        chosen = [p for p in pending.get("pendingPlans") or [] if not only or p.get("remediationId") in only]
        out.write(f"Approving {len(chosen)} plan(s) of audit {audit_id} (planDigest {plan_digest[:12]}…):\n")
        for plan in chosen:
            out.write(f"  {plan.get('order')}. {plan.get('title')}\n")
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
    with interrupted(audit_id):
        body = follow(api, audit_id, out, poll_interval=poll_interval)
    return conclude(body, out)


def add_parsers(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    for decision, summary in (
        ("approve", "approve the proposed fixes of an audit awaiting approval"),
        ("reject", "reject the proposed fixes of an audit awaiting approval"),
    ):
        parser = subparsers.add_parser(
            decision,
            parents=parents,
            help=summary,
            description=summary[0].upper() + summary[1:] + ". Exits 3 (409) when the audit is not "
            "awaiting approval or was already decided.",
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("audit_id", metavar="ID", help="the audit id")
        parser.add_argument("--comment", help="why (kept in the report)")
        if decision == "approve":
            parser.add_argument(
                "--digest",
                help="the planDigest shown by `secagent status ID`: approve only if the pending plans "
                "are still exactly those (default: the plans pending now, listed before approving)",
            )
            parser.add_argument(
                "--only",
                action="append",
                metavar="REMEDIATION_ID",
                help="approve only this remediation (repeatable); the others are not applied",
            )
        parser.add_argument(
            "--wait", action="store_true", help="follow the audit to its end and print the report"
        )
        parser.set_defaults(handler=_run, decision=decision)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return decide(
        connect(options),
        args.audit_id,
        args.decision,
        comment=args.comment,
        plan_digest=getattr(args, "digest", None),
        only=getattr(args, "only", None),
        wait=args.wait,
    )
