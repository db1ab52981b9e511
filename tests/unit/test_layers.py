"""Layers point one way: handlers -> workflow/api -> remediation -> checks -> fixes -> models.

Every import of every module under secagent/ and lambdas/ is read from its source (ast: module
level, inside functions, under TYPE_CHECKING) and folded to the unit it belongs to: a package or a
top-level module of secagent (`secagent.checks`, `secagent.aws`; `secagent.scan` whether it is a
module or a package), or `lambdas`. A failure names each offending edge and where it is written.
"""

import ast
import sys
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("secagent", "lambdas")
MODELS = "secagent.models"
FIXES = "secagent.fixes"  # the fix builders and policy edits: a leaf over the models
CLI = "secagent.cli"
NOT_THE_CLI = ("secagent.ui", "secagent.mcp", "secagent.api")

Edges = dict[tuple[str, str], list[str]]  # (importer unit, imported unit) -> ["file:line module", ...]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file; `from a import b` names a.b when it is a module."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if _is_module(sub) else base))
    return found


def _unit(module: str) -> str | None:
    """The layer a module belongs to, or None outside our code (stdlib, third party)."""
    top, _, rest = module.partition(".")
    if top == "lambdas":
        return "lambdas"
    if top != "secagent":
        return None
    return f"secagent.{rest.split('.')[0]}" if rest else "secagent"


@cache
def _all_imports() -> tuple[tuple[str, str, str], ...]:
    """(importer unit, imported module, "file:line") for every import in our sources."""
    rows: dict[tuple[str, str, str], None] = {}  # ordered, each import once
    for source in SOURCES:
        for path in sorted((ROOT / source).rglob("*.py")):
            unit = _unit(_module_name(path))
            assert unit is not None
            for line, imported in _imported(path):
                rows[unit, imported, f"{path.relative_to(ROOT)}:{line}"] = None
    return tuple(rows)


def _edges() -> Edges:
    edges: Edges = defaultdict(list)
    for unit, imported, where in _all_imports():
        target = _unit(imported)
        if target is not None and target not in (unit, "secagent"):  # secagent/__init__: the version
            edges[unit, target].append(f"{where} imports {imported}")
    return edges


def _shown(edges: Edges, pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"  {a} -> {b}:\n" + "\n".join(f"    {w}" for w in edges[a, b]) for a, b in pairs)


def _cycles(edges: Edges) -> list[list[str]]:
    """One cycle (a list of units, first repeated last) per strongly connected group of units."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while (member := stack.pop()) != node:
                group.add(member)
            groups.append(group | {node})

    for node in sorted(graph):
        if node not in index:
            visit(node)
    cycles: list[list[str]] = []
    for group in (g for g in groups if len(g) > 1):
        start = min(group)
        path, seen = [start], {start}
        while True:  # walk inside the group until a unit repeats: that closes a cycle
            nxt = min(n for n in graph[path[-1]] if n in group)
            if nxt in seen:
                cycles.append([*path[path.index(nxt) :], nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return cycles


def _edges_from(edges: Edges, importer: str, to: Callable[[str], bool]) -> str:
    return _shown(edges, sorted((a, b) for a, b in edges if a == importer and to(b)))


def _allowed_in_fixes(imported: str) -> bool:
    unit = _unit(imported)
    if unit is None:  # not ours: the standard library and pydantic only
        return imported.split(".")[0] in {*sys.stdlib_module_names, "pydantic"}
    return unit in (MODELS, FIXES)


def test_the_sources_are_read() -> None:
    units = {unit for unit, _, _ in _all_imports()}
    assert {MODELS, FIXES, "secagent.checks", "secagent.remediation", "lambdas"} <= units


def test_no_import_cycle_between_packages() -> None:
    edges = _edges()
    cycles = _cycles(edges)
    shown = "\n".join(" -> ".join(cycle) + "\n" + _shown(edges, list(pairwise(cycle))) for cycle in cycles)
    assert not cycles, f"import cycles between packages:\n{shown}"


def test_the_models_import_no_other_package() -> None:
    offending = _edges_from(_edges(), MODELS, lambda _: True)
    assert not offending, f"{MODELS} must stand alone:\n{offending}"


def test_the_fix_builders_are_a_leaf_over_the_models() -> None:
    rows = [(imported, where) for unit, imported, where in _all_imports() if unit == FIXES]
    assert rows, f"no package {FIXES}: the fix builders and policy edits live there"
    offending = "\n".join(
        f"  {where} imports {imported}" for imported, where in rows if not _allowed_in_fixes(imported)
    )
    assert not offending, f"{FIXES} may import only {MODELS}, the standard library and pydantic:\n{offending}"


@pytest.mark.parametrize("importer", NOT_THE_CLI)
def test_the_console_mcp_and_api_never_import_the_cli(importer: str) -> None:
    offending = _edges_from(_edges(), importer, lambda target: target == CLI)
    assert not offending, (
        f"{importer} imports the CLI (share through secagent.aws or secagent.client):\n{offending}"
    )


def test_the_library_never_imports_the_lambda_handlers() -> None:
    edges = _edges()
    offending = _shown(edges, sorted((a, b) for a, b in edges if b == "lambdas"))
    assert not offending, f"the library imports the Lambda handlers:\n{offending}"
