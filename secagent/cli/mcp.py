"""`secagent mcp ...`: forwarded to `secagent.mcp.server.main(argv) -> int` (built separately)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from secagent.cli.forward import forward

COMMAND, MODULE, FUNCTION = "mcp", "secagent.mcp.server", "main"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Listed in `secagent --help`; main() forwards `secagent mcp ARGS...` before argparse sees ARGS."""
    subparsers.add_parser(
        COMMAND, add_help=False, help="run the MCP server for AI assistants (see 'secagent mcp --help')"
    )


def run(argv: Sequence[str]) -> int:
    return forward(COMMAND, MODULE, FUNCTION, argv)
