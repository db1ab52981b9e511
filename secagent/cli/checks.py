"""`secagent checks`: the check registry (id, severity, controls, remediation). Local, no AWS."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from secagent.cli.common import EXIT_OK, Globals


def checks(*, fmt: str = "table", out: TextIO = sys.stdout) -> int:
    from secagent.checks.registry import list_checks
    from secagent.models import Severity

    metas = sorted(list_checks(), key=lambda c: (Severity(c.severity).rank, c.id))
    if fmt == "json":
        fields = {"id", "title", "severity", "controls", "remediation_id", "rationale"}
        payload = [m.model_dump(mode="json", by_alias=True, include=fields) for m in metas]
        out.write(json.dumps(payload, indent=2) + "\n")
    else:
        from secagent.render import render_checks

        out.write(render_checks(metas) + f"\n\n{len(metas)} checks\n")
    return EXIT_OK


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "checks",
        parents=parents,
        help="list the checks with their controls and severities (local, no AWS)",
        description="List the registered checks: id, severity, the FSBP/CIS controls they map to, the "
        "remediation they propose. Reads the local registry; the deployed stack may disable some "
        "(deploy-time disabledChecks).",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="default: table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return checks(fmt=args.format)
