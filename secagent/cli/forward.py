"""Commands built elsewhere (`secagent scan`, `secagent mcp`): forward the rest of the line to them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

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
