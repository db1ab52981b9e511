"""The audit workflow as a graph, generated from its ASL (statemachine/audit.asl.json).

`workflow_graph()` reads the state machine definition and returns its states as nodes and every
transition as an edge: `Next`, each Choice rule and its `Default`, and each `Catch` (dashed when
drawn). `layout()` places them in layers, top to bottom, as the Step Functions console's graph
view does (a small Sugiyama-style layout: longest-path layers, dummy points for long edges,
barycentre ordering); the console draws the result as SVG and colours each state from the
audit's execution. `to_mermaid()` gives the same graph as a Mermaid flowchart (README,
docs/workflow-graph.md):

    python -m secagent.ui.graph --mermaid     # Mermaid flowchart
    python -m secagent.ui.graph --json        # nodes, edges and layout as the console uses them
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).resolve().parents[2] / "statemachine" / "audit.asl.json"

# Layout metrics (SVG user units).
NODE_HEIGHT = 34
RANK_GAP = 30
NODE_GAP = 16
DUMMY_WIDTH = 12
MARGIN = 16
CHAR_WIDTH = 6.7  # ~12.5px sans-serif


@dataclass
class Node:
    id: str
    type: str  # Task, Pass, Choice, Succeed, Fail, Wait, Parallel, Map
    start: bool = False
    end: bool = False
    retry: bool = False  # has a Retry policy
    max_attempts: int = 0  # 1 + the largest MaxAttempts of its Retry rules
    comment: str | None = None
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = NODE_HEIGHT
    rank: int = 0


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # next | choice | default | catch
    label: str = ""
    points: list[tuple[float, float]] = field(default_factory=list)

    @property
    def dashed(self) -> bool:
        return self.kind == "catch"


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.id == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [{**asdict(e), "dashed": e.dashed} for e in self.edges],
            "width": self.width,
            "height": self.height,
        }


def load_definition(path: Path = ASL_PATH) -> dict[str, Any]:
    return json.loads(path.read_text())


# --- nodes and edges ---------------------------------------------------------------------------

_OPERATORS = {
    "StringEquals": "=",
    "NumericEquals": "=",
    "BooleanEquals": "=",
    "TimestampEquals": "=",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": ">=",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "<=",
    "StringGreaterThan": ">",
    "StringLessThan": "<",
    "StringMatches": "~",
}


def _short_path(variable: str) -> str:
    parts = [p for p in re.split(r"\.", variable.removeprefix("$").lstrip(".")) if p]
    return ".".join(parts[-2:]) if parts else variable


def describe_rule(rule: dict[str, Any]) -> str:
    """A Choice rule in a few words: `summary.fail > 0`, `request.mode = plan`, `... present`."""
    for combinator, word in (("And", " and "), ("Or", " or ")):
        if combinator in rule:
            return word.join(describe_rule(r) for r in rule[combinator])
    if "Not" in rule:
        return f"not ({describe_rule(rule['Not'])})"
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"]).strip("{}% ")
    variable = _short_path(str(rule.get("Variable", "?")))
    if "IsPresent" in rule:
        return f"{variable} {'present' if rule['IsPresent'] else 'absent'}"
    for key, value in rule.items():
        if key in {"Variable", "Next", "Comment"}:
            continue
        operator = _OPERATORS.get(key.removesuffix("Path"), key)
        shown = json.dumps(value) if not isinstance(value, str) else value
        if isinstance(value, bool):
            shown = "true" if value else "false"
        return f"{variable} {operator} {shown}"
    return variable


def _describe_errors(errors: list[str]) -> str:
    names = {"States.ALL": "any error", "States.Timeout": "timeout", "States.TaskFailed": "task failed"}
    return ", ".join(names.get(e, e) for e in errors)


def workflow_graph(definition: dict[str, Any] | None = None) -> Graph:
    """Every top-level state a node; every Next, Choice rule, Default and Catch an edge."""
    definition = definition if definition is not None else load_definition()
    states: dict[str, dict[str, Any]] = definition["States"]
    nodes: list[Node] = []
    edges: list[Edge] = []

    def add_edge(source: str, target: str, kind: str, label: str = "") -> None:
        for edge in edges:  # two rules to the same state: one arrow, both conditions
            if edge.source == source and edge.target == target and edge.kind == kind:
                edge.label = f"{edge.label} or {label}" if label and label not in edge.label else edge.label
                return
        edges.append(Edge(source, target, kind, label))

    for name, state in states.items():
        retries = state.get("Retry") or []
        nodes.append(
            Node(
                id=name,
                type=state["Type"],
                start=name == definition["StartAt"],
                end=bool(state.get("End")) or state["Type"] in {"Succeed", "Fail"},
                retry=bool(retries),
                max_attempts=1 + max((int(r.get("MaxAttempts", 3)) for r in retries), default=0)
                if retries
                else 0,
                comment=state.get("Comment"),
            )
        )
        if "Next" in state:
            add_edge(name, state["Next"], "next")
        for rule in state.get("Choices") or []:
            add_edge(name, rule["Next"], "choice", describe_rule(rule))
        if "Default" in state:
            add_edge(name, state["Default"], "default", "default")
        for catcher in state.get("Catch") or []:
            add_edge(name, catcher["Next"], "catch", _describe_errors(catcher.get("ErrorEquals") or []))
    unknown = {e.target for e in edges} - set(states)
    if unknown:
        raise ValueError(f"transitions to states that do not exist: {sorted(unknown)}")
    return Graph(nodes, edges)


# --- layout ------------------------------------------------------------------------------------


def _node_width(label: str) -> float:
    return max(96.0, min(240.0, round(len(label) * CHAR_WIDTH + 28)))


def _ranks(graph: Graph, start: str) -> dict[str, int]:
    """Longest path from the start (back edges of a loop ignored)."""
    successors: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    back: set[tuple[str, str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        for nxt in successors[name]:
            if state.get(nxt) == 1:
                back.add((name, nxt))
            elif nxt not in state:
                visit(nxt)
        state[name] = 2
        order.append(name)

    sys.setrecursionlimit(max(1000, 4 * len(graph.nodes)))
    visit(start)
    for node in graph.nodes:  # unreachable states still get drawn
        if node.id not in state:
            visit(node.id)
    rank = {name: 0 for name in successors}
    for name in reversed(order):
        for nxt in successors[name]:
            if (name, nxt) not in back:
                rank[nxt] = max(rank[nxt], rank[name] + 1)
    return rank


def layout(graph: Graph) -> Graph:
    """Give every node x/y/width and every edge its polyline (top-to-bottom layers)."""
    start = next((n.id for n in graph.nodes if n.start), graph.nodes[0].id)
    rank = _ranks(graph, start)
    for node in graph.nodes:
        node.rank = rank[node.id]
        node.width = _node_width(node.id)
    widths: dict[str, float] = {n.id: n.width for n in graph.nodes}

    # Long edges go through one dummy point per layer they cross.
    chains: list[list[str]] = []
    neighbours_up: dict[str, list[str]] = {n: [] for n in widths}
    neighbours_down: dict[str, list[str]] = {n: [] for n in widths}
    layer_of = dict(rank)
    for index, edge in enumerate(graph.edges):
        lo, hi = rank[edge.source], rank[edge.target]
        chain = [edge.source]
        if hi > lo:
            for r in range(lo + 1, hi):
                dummy = f"\0{index}:{r}"
                layer_of[dummy] = r
                widths[dummy] = DUMMY_WIDTH
                neighbours_up[dummy], neighbours_down[dummy] = [], []
                chain.append(dummy)
        chain.append(edge.target)
        for a, b in itertools.pairwise(chain):
            if layer_of[b] > layer_of[a]:
                neighbours_down[a].append(b)
                neighbours_up[b].append(a)
        chains.append(chain)

    depth = max(layer_of.values()) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    # Initial order: definition order of nodes, dummies after their source.
    for name in [n.id for n in graph.nodes] + [d for d in layer_of if d.startswith("\0")]:
        layers[layer_of[name]].append(name)

    def crossings(current: list[list[str]]) -> int:
        total = 0
        for upper, lower in itertools.pairwise(current):
            position = {n: i for i, n in enumerate(lower)}
            pairs = [(i, position[d]) for i, n in enumerate(upper) for d in neighbours_down[n]]
            total += sum(1 for a in pairs for b in pairs if a[0] < b[0] and a[1] > b[1])
        return total

    best = [list(layer) for layer in layers]
    best_crossings = crossings(best)
    for sweep in range(12):
        downward = sweep % 2 == 0
        indices = range(1, depth) if downward else range(depth - 2, -1, -1)
        for r in indices:
            fixed = {n: i for i, n in enumerate(layers[r - 1 if downward else r + 1])}
            neighbours = neighbours_up if downward else neighbours_down
            keys: dict[str, float] = {}
            for i, name in enumerate(layers[r]):
                around = [fixed[n] for n in neighbours[name] if n in fixed]
                keys[name] = sum(around) / len(around) if around else float(i)
            layers[r].sort(key=keys.__getitem__)
        now = crossings(layers)
        if now < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], now
    layers = best

    # x: start packed, then pull each item toward its neighbours' mean, keeping order and gaps.
    x: dict[str, float] = {}
    for layer in layers:
        cursor = 0.0
        for name in layer:
            x[name] = cursor + widths[name] / 2
            cursor += widths[name] + NODE_GAP

    def gap(a: str, b: str) -> float:
        return (widths[a] + widths[b]) / 2 + (NODE_GAP if not (a[0] == "\0" and b[0] == "\0") else 4)

    def is_dummy(name: str) -> bool:
        return name.startswith("\0")

    # Priority method: dummies (long edges) first so they run straight, then the best connected.
    for sweep in range(10):
        downward = sweep % 2 == 0
        neighbours = neighbours_up if downward else neighbours_down
        for layer in layers if downward else list(reversed(layers)):
            priority = [
                (
                    10_000
                    if is_dummy(name)
                    else len(neighbours[name]) * 10 + len(neighbours_up[name]) + len(neighbours_down[name])
                )
                for name in layer
            ]
            placed_high: set[int] = set()
            for i in sorted(range(len(layer)), key=lambda k: -priority[k]):
                around = sorted(x[n] for n in neighbours[layer[i]])
                if not around:
                    placed_high.add(i)
                    continue
                mid = len(around) // 2
                wanted = around[mid] if len(around) % 2 else (around[mid - 1] + around[mid]) / 2
                if wanted > x[layer[i]]:
                    limit = float("inf")
                    offset = 0.0
                    for j in range(i + 1, len(layer)):
                        offset += gap(layer[j - 1], layer[j])
                        if j in placed_high:
                            limit = x[layer[j]] - offset
                            break
                    x[layer[i]] = min(wanted, limit)
                    for j in range(i + 1, len(layer)):
                        x[layer[j]] = max(x[layer[j]], x[layer[j - 1]] + gap(layer[j - 1], layer[j]))
                elif wanted < x[layer[i]]:
                    limit = float("-inf")
                    offset = 0.0
                    for j in range(i - 1, -1, -1):
                        offset += gap(layer[j], layer[j + 1])
                        if j in placed_high:
                            limit = x[layer[j]] + offset
                            break
                    x[layer[i]] = max(wanted, limit)
                    for j in range(i - 1, -1, -1):
                        x[layer[j]] = min(x[layer[j]], x[layer[j + 1]] - gap(layer[j], layer[j + 1]))
                placed_high.add(i)
    left = min(x[n] - widths[n] / 2 for n in x)
    for name in x:
        x[name] += MARGIN - left

    def y(r: int) -> float:
        return MARGIN + r * (NODE_HEIGHT + RANK_GAP)

    for node in graph.nodes:
        node.x = round(x[node.id] - node.width / 2, 1)
        node.y = y(node.rank)
    for edge, chain in zip(graph.edges, chains, strict=True):
        points = [(round(x[edge.source], 1), y(rank[edge.source]) + NODE_HEIGHT)]
        points += [(round(x[d], 1), y(layer_of[d]) + NODE_HEIGHT / 2) for d in chain[1:-1]]
        points.append((round(x[edge.target], 1), y(rank[edge.target])))
        edge.points = points
    graph.width = round(max(x[n] + widths[n] / 2 for n in x) + MARGIN, 1)
    graph.height = y(depth - 1) + NODE_HEIGHT + MARGIN
    return graph


# --- Mermaid -----------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: Task boxes (retry marked ↻), Choice diamonds, Catch edges dashed."""
    ids = {node.id: f"s{i}" for i, node in enumerate(graph.nodes)}
    shapes = {
        "Choice": ('{"', '"}'),
        "Pass": ('("', '")'),
        "Succeed": ('(["', '"])'),
        "Fail": ('(["', '"])'),
    }
    lines = ["flowchart TD"]
    for node in graph.nodes:
        left, right = shapes.get(node.type, ('["', '"]'))
        label = _mermaid_text(node.id) + (" ↻" if node.retry else "")
        lines.append(f"    {ids[node.id]}{left}{label}{right}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    by_type: dict[str, list[str]] = {}
    for node in graph.nodes:
        by_type.setdefault(node.type.lower(), []).append(ids[node.id])
    lines += [
        "    classDef task fill:#e8f0fe,stroke:#1a56db,color:#111",
        "    classDef choice fill:#fff8e1,stroke:#8a6d00,color:#111",
        "    classDef pass fill:#f3f4f6,stroke:#6b7280,color:#111",
        "    classDef succeed fill:#e6f4ea,stroke:#137333,color:#111",
        "    classDef fail fill:#fce8e6,stroke:#b3261e,color:#111",
    ]
    lines += [f"    class {','.join(members)} {kind}" for kind, members in by_type.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m secagent.ui.graph", description=__doc__.split("\n\n")[0])
    parser.add_argument("--asl", type=Path, default=ASL_PATH, help="the ASL file (default: %(default)s)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--mermaid", action="store_true", help="print a Mermaid flowchart (default)")
    output.add_argument("--json", action="store_true", help="print nodes, edges and their layout as JSON")
    args = parser.parse_args(argv)
    graph = workflow_graph(load_definition(args.asl))
    if args.json:
        print(json.dumps(layout(graph).to_json(), indent=2))
    else:
        sys.stdout.write(to_mermaid(graph))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
