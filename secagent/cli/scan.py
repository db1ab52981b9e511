"""`secagent scan ...`: forwarded to `secagent.scan.cli_main(argv) -> int` (built separately)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from secagent.cli.forward import forward

COMMAND, MODULE, FUNCTION = "scan", "secagent.scan", "cli_main"


def add_parser(subparsers: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Listed in `secagent --help`; main() forwards `secagent scan ARGS...` before argparse sees ARGS."""
    subparsers.add_parser(
        COMMAND, add_help=False, help="scan many buckets of the account (see 'secagent scan --help')"
    )


def run(argv: Sequence[str]) -> int:
    return forward(COMMAND, MODULE, FUNCTION, argv)
