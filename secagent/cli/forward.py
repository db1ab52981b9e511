"""Commands built elsewhere (`secagent scan`, `mcp`, `ui`): forward the rest of the line to them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from secagent.cli.common import EXIT_USAGE


def forward(command: str, module_name: str, function: str, argv: Sequence[str]) -> int:
    """Call `module_name.function(argv) -> int`; one line and exit 2 when it is not installed."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or module_name
        what = "is not available in this version" if missing.startswith("secagent") else f"needs {missing!r}"
        print(f"secagent: error: 'secagent {command}' {what} (no module {missing})", file=sys.stderr)
        return EXIT_USAGE
    entry = getattr(module, function, None)
    if not callable(entry):
        print(
            f"secagent: error: 'secagent {command}' is not available ({module_name}.{function})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return int(entry(list(argv)) or 0)


@dataclass(frozen=True)
class ForwardedCommand:
    """Listed in `secagent --help`; main() hands it the rest of the line before argparse sees it."""

    command: str
    module: str
    function: str
    summary: str

    def add_parser(self, subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
        subparsers.add_parser(
            self.command, add_help=False, help=f"{self.summary} (see 'secagent {self.command} --help')"
        )

    def run(self, argv: Sequence[str]) -> int:
        return forward(self.command, self.module, self.function, argv)


FORWARDED = [
    ForwardedCommand("scan", "secagent.scan.cli", "cli_main", "scan many buckets of the account"),
    ForwardedCommand("mcp", "secagent.mcp.server", "main", "run the MCP server for AI assistants"),
    ForwardedCommand("ui", "secagent.ui.server", "main", "serve the web console on 127.0.0.1"),
]
