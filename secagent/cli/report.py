"""`secagent report ID [--format table|json|markdown|ocsf|asff]`: the report of a finished audit."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from secagent.audit_api import AuditApi
from secagent.cli.common import (
    EXIT_FAILED,
    FAIL_ON_DEFAULT,
    CliError,
    Globals,
    audit_exit_code,
    audit_id_arg,
    connect,
    expect,
)

FORMATS = ("table", "json", "markdown", "ocsf", "asff")


def report(
    api: AuditApi,
    audit_id: str,
    *,
    fmt: str = "table",
    fail_on: str = FAIL_ON_DEFAULT,
    out: TextIO = sys.stdout,
) -> int:
    """Prints the report; exits 3 when the audit failed, 1 when findings at or above ``fail_on``
    still fail, else 0."""
    body = expect(api.get_audit(audit_id), 200, what=f"report of audit {audit_id}", audit_id=audit_id)
    data = body.get("report")
    if not isinstance(data, dict):
        if body.get("status") in ("RUNNING", "AWAITING_APPROVAL"):
            raise CliError(
                f"audit {audit_id} is {body['status']}: its report is written when it ends "
                f"(secagent status {audit_id})"
            )
        raise CliError(f"audit {audit_id} ended {body.get('status')} without a report")
    if fmt == "json":
        out.write(json.dumps(data, indent=2) + "\n")
    elif fmt in ("ocsf", "asff"):
        out.write(json.dumps(_standard_findings(data, fmt), indent=2) + "\n")
    else:
        from secagent.models.report import Report
        from secagent.render import render_markdown_report, render_report

        parsed = Report.model_validate(data)
        out.write(render_markdown_report(parsed) if fmt == "markdown" else render_report(parsed) + "\n")
    code = audit_exit_code(data, str(data.get("outcome")), fail_on)
    return EXIT_FAILED if code is None else code


def _standard_findings(data: dict[str, Any], fmt: str) -> Any:
    """OCSF: a JSON array of Compliance Findings; ASFF: BatchImportFindings' ``{"Findings": [...]}``."""
    from secagent.models.report import Report
    from secagent.outputs import OutputError
    from secagent.outputs.asff import asff_of_report
    from secagent.outputs.ocsf import ocsf_of_report

    try:
        parsed = Report.model_validate(data)
        return ocsf_of_report(parsed) if fmt == "ocsf" else {"Findings": asff_of_report(parsed)}
    except OutputError as err:
        raise CliError(f"cannot render the report as {fmt.upper()}: {err}") from err


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    from secagent.cli.common import EXIT_CODES_HELP

    parser = subparsers.add_parser(
        "report",
        parents=parents,
        help="print the report of a finished audit",
        description="Print the report of a finished audit: as a table (default), as the report's JSON "
        "(docs/report.schema.json), as Markdown, or as standard findings: OCSF Compliance Findings "
        '(a JSON array) or ASFF for Security Hub ({"Findings": [...]}; docs/outputs.md). '
        "Exits with the outcome's code.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("audit_id", metavar="ID", type=audit_id_arg, help="the audit id")
    parser.add_argument("--format", choices=FORMATS, default="table", help="default: table")
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace, options: Globals) -> int:
    return report(connect(options), args.audit_id, fmt=args.format, fail_on=options.fail_on)
