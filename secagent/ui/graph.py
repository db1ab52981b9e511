"""The audit workflow as a graph, generated from its ASL (statemachine/audit.asl.json).

`workflow_graph()` reads the state machine definition and returns its states as nodes and every
transition as an edge: `Next`, each Choice rule and its `Default`, and each `Catch` (dashed when
drawn). `fold()` keeps the steps a person cares about: Pass states that only move data become
words on the arrow through them ("otherwise → outcome REJECTED"), and the failure bookkeeping
(every state from which each path ends in a Fail state) becomes that Fail state. `layout()`
places the nodes in layers, top to bottom, as the Step Functions console's graph view does (a
small Sugiyama-style layout: longest-path layers, dummy points for long edges, barycentre
ordering); a labelled edge gets a layer of its own for its label, so labels are never cut and
never overlap. The console draws the result as SVG and colours each state from the audit's
execution. `to_mermaid()` gives the unfolded graph as a Mermaid flowchart (README,
docs/workflow-graph.md):

    python -m secagent.ui.graph --mermaid     # Mermaid flowchart (every state)
    python -m secagent.ui.graph --json        # the folded graph and its layout, as the console uses it

The ASL is read from the copy packaged with the console (`static/audit.asl.json`), so an installed
wheel can draw it; a unit test proves the copy is the file the stack deploys.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ASL_PATH = Path(__file__).resolve().parent / "static" / "audit.asl.json"

# Layout metrics (SVG user units).
NODE_HEIGHT = 34
RANK_GAP = 26
NODE_GAP = 18
DUMMY_WIDTH = 12
EXIT_ROOM = 30  # right of a state with an exit (a Catch of any error into the failure)
MARGIN = 16
CHAR_WIDTH = 7.4  # 12.5px sans-serif, generous (DejaVu Sans is wide; bold when running)
LABEL_CHAR_WIDTH = 6.3  # 11px edge labels
LABEL_LINE_HEIGHT = 13
LABEL_WRAP = 30  # characters per line of an edge label
# Parameters every tool receives that say nothing about the step (docs/workflow.md).
PLUMBING = frozenset({"executionArn.$"})


@dataclass
class Node:
    id: str
    type: str  # Task, Pass, Choice, Succeed, Fail, Wait, Parallel, Map
    start: bool = False
    end: bool = False
    retry: bool = False  # has a Retry policy
    max_attempts: int = 0  # 1 + the largest MaxAttempts of its Retry rules
    comment: str | None = None
    # What the definition hands the state (its Parameters without the plumbing) and where its
    # result goes: the console shows them, since it never reads an execution's data.
    input: Any = None
    plumbing: list[str] = field(default_factory=list)
    result_path: str | None = None
    members: list[str] = field(default_factory=list)  # states folded into this one (fold())
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
    title: str = ""  # the full description (tooltip), also when no label is drawn
    via: list[str] = field(default_factory=list)  # Pass states folded into this edge
    # A Catch of any error into the failure (fold()): drawn as a short dashed exit beside its
    # source, not routed across the graph (every Task has one).
    exit: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)
    label_at: tuple[float, float] | None = None  # centre of the label's box
    label_lines: list[str] = field(default_factory=list)

    @property
    def dashed(self) -> bool:
        return self.kind == "catch"


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    width: float = 0.0
    height: float = 0.0
    # Every state of the ASL -> the node it is drawn as (None: folded into the edges through it).
    aliases: dict[str, str | None] = field(default_factory=dict)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.id == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "nodes": [asdict(n) for n in self.nodes],
            "edges": [{**asdict(e), "dashed": e.dashed} for e in self.edges],
            "width": self.width,
            "height": self.height,
            "aliases": self.aliases,
        }


def load_definition(path: Path = ASL_PATH) -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(path.read_text())
    return definition


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


def _state_input(state: dict[str, Any]) -> tuple[Any, list[str]]:
    """A state's Parameters as a person reads them (the Lambda payload), and the plumbing left out."""
    parameters = state.get("Parameters")
    if isinstance(parameters, dict) and isinstance(parameters.get("Payload"), dict):
        parameters = parameters["Payload"]  # lambda:invoke: the payload is what the tool receives
    if isinstance(parameters, dict):
        plumbing = sorted(k for k in parameters if k in PLUMBING or k == "taskToken.$")
        return {k: v for k, v in parameters.items() if k not in plumbing}, plumbing
    if "InputPath" in state:
        return {"InputPath": state["InputPath"]}, []
    return None, []


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
                edge.title = edge.label
                return
        edges.append(Edge(source, target, kind, label, title=label))

    for name, state in states.items():
        retries = state.get("Retry") or []
        shown_input, plumbing = _state_input(state)
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
                input=shown_input,
                plumbing=plumbing,
                result_path=state.get("ResultPath"),
                members=[name],
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
    return Graph(nodes, edges, aliases={n.id: n.id for n in nodes})


# --- folding the plumbing ------------------------------------------------------------------------


def _pass_effect(state: dict[str, Any]) -> str:
    """What a Pass state does, in a few words for the arrow through it ("outcome REJECTED")."""
    target = _short_path(str(state.get("ResultPath", ""))) if state.get("ResultPath") else ""
    if "Result" in state and not isinstance(state["Result"], dict | list) and target:
        return f"{target} {state['Result']}"
    if "InputPath" in state and target:
        return f"{target} from {_short_path(str(state['InputPath']))}"
    return ""  # it only reshapes the data


def fold(graph: Graph, definition: dict[str, Any] | None = None) -> Graph:
    """The graph a person reads: data-moving Pass states and failure bookkeeping folded away.

    - A state from which every transition leads (in the end) to a Fail state is failure
      bookkeeping (marking, writing the failure report, summarising): it is drawn as that Fail
      state, listed in its `members`.
    - A Pass state with a `Next` becomes words on the arrows through it: "default" into
      "Mark Rejected" (which sets outcome REJECTED) then "Write Report" is one arrow "otherwise →
      outcome REJECTED" into "Write Report". The start state, when a Pass, hands `start` on.
    - "default" reads "otherwise"; a Catch of any error into the failure is an `exit`: drawn as a
      short dashed mark beside its state (dashed says it), not as an arrow across the graph.
    `aliases` maps every state to the node that shows it (None: folded into an arrow), so an
    execution's history colours the folded graph (`fold_history`).
    """
    definition = definition if definition is not None else load_definition()
    states: dict[str, dict[str, Any]] = definition["States"]
    successors: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    for edge in graph.edges:
        successors[edge.source].add(edge.target)
    start = next((n.id for n in graph.nodes if n.start), graph.nodes[0].id)

    fails = [n.id for n in graph.nodes if n.type == "Fail"]
    doomed: dict[str, int] = {name: 0 for name in fails}  # state -> order it was found in
    found = True
    while found:
        found = False
        for node in graph.nodes:
            nexts = successors[node.id]
            if node.id not in doomed and node.id != start and nexts and nexts <= doomed.keys():
                doomed[node.id] = len(doomed)
                found = True
    into: dict[str, str] = {}
    for name in doomed:
        target = name
        while target not in fails:  # toward the Fail state it ends in, through earlier finds
            target = min(successors[target], key=doomed.__getitem__)
        into[name] = target

    folded_pass = {
        n.id for n in graph.nodes if n.type == "Pass" and n.id not in into and "Next" in states.get(n.id, {})
    }
    aliases: dict[str, str | None] = {}
    for node in graph.nodes:
        aliases[node.id] = into.get(node.id, None if node.id in folded_pass else node.id)

    new_start = start
    while new_start in folded_pass:
        new_start = states[new_start]["Next"]
    new_start = into.get(new_start, new_start)

    def words(edge: Edge) -> str:
        if edge.kind == "default":
            return "otherwise"
        if edge.kind == "catch" and edge.label == "any error":
            return ""
        return edge.label

    edges: list[Edge] = []
    for edge in graph.edges:
        if aliases[edge.source] != edge.source:  # inside a folded node, or a folded Pass's own exit
            continue
        target, via, effects = edge.target, [], []
        while target in folded_pass:
            via.append(target)
            if effect := _pass_effect(states[target]):
                effects.append(effect)
            target = states[target]["Next"]
        target = into.get(target, target)
        if target == edge.source:
            continue
        label = " → ".join(part for part in [words(edge), *effects] if part)
        title = " → ".join(part for part in [edge.label, *effects] if part)
        merged = next(
            (e for e in edges if (e.source, e.target, e.kind) == (edge.source, target, edge.kind)), None
        )
        if merged is None:
            is_exit = edge.kind == "catch" and edge.label == "any error" and target in fails
            edges.append(Edge(edge.source, target, edge.kind, label, title=title, via=via, exit=is_exit))
        else:
            merged.label = " or ".join(p for p in (merged.label, label) if p)
            merged.title = " or ".join(p for p in (merged.title, title) if p)
            merged.via += via

    nodes: list[Node] = []
    for node in graph.nodes:
        if aliases[node.id] != node.id:
            continue
        members = [name for name, alias in aliases.items() if alias == node.id]
        nodes.append(
            Node(
                **{
                    **asdict(node),
                    "start": node.id == new_start,
                    "members": members,
                }
            )
        )
    return Graph(nodes, edges, aliases=aliases)


def fold_history(
    graph: Graph, executions: list[list[tuple[str, dict[str, Any]]]]
) -> tuple[dict[str, dict[str, Any]], list[list[str]]]:
    """States entered (per execution, in order: (state name, record)) as the folded graph shows them.

    A node shows the record of the last of its members entered; a transition is
    ``[source, target, *the Pass states folded into the arrow that were entered]``, so of two arrows
    between the same nodes (Verify's outcome, or a resource gone) only the one taken is drawn so.
    """
    states: dict[str, dict[str, Any]] = {}
    transitions: list[list[str]] = []
    for entries in executions:
        previous: str | None = None
        between: list[str] = []
        for name, record in entries:
            node = graph.aliases.get(name, name)
            if node is None:
                between.append(name)
                continue
            states[node] = record
            taken = [previous, node, *between] if previous is not None else None
            if taken is not None and previous != node and taken not in transitions:
                transitions.append(taken)
            previous, between = node, []
    return states, transitions


# --- layout ------------------------------------------------------------------------------------


def _node_width(label: str) -> float:
    return max(96.0, round(len(label) * CHAR_WIDTH + 34))


def _wrap(label: str) -> list[str]:
    return textwrap.wrap(label, LABEL_WRAP, break_long_words=False, break_on_hyphens=False) or [label]


def _ranks(graph: Graph, start: str, length: dict[int, int]) -> dict[str, int]:
    """Longest path from the start, each edge at least its length (back edges of a loop ignored).

    `length` names the edges laid out (exits are not); a Fail state reached by exits only goes to
    the last layer, beside the other ends.
    """
    successors: dict[str, list[tuple[str, int]]] = {n.id: [] for n in graph.nodes}
    for index, edge in enumerate(graph.edges):
        if index in length:
            successors[edge.source].append((edge.target, length[index]))
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done
    back: set[tuple[str, str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        for nxt, _ in successors[name]:
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
        for nxt, span in successors[name]:
            if (name, nxt) not in back:
                rank[nxt] = max(rank[nxt], rank[name] + span)
    reached = {target for nexts in successors.values() for target, _ in nexts}
    last = max(rank.values())
    for node in graph.nodes:
        if node.type == "Fail" and node.id not in reached and node.id != start:
            rank[node.id] = last
    return rank


def layout(graph: Graph) -> Graph:
    """Give every node x/y/width and every edge its polyline and label box (top-to-bottom layers).

    A labelled edge spans at least two layers: its label sits in the layer between, as a box of its
    own that the ordering keeps apart from every other box (so no label is cut or overlaps).
    """
    start = next((n.id for n in graph.nodes if n.start), graph.nodes[0].id)
    for edge in graph.edges:
        edge.label_lines = _wrap(edge.label) if edge.label else []
    length = {i: 2 if edge.label else 1 for i, edge in enumerate(graph.edges) if not edge.exit}
    rank = _ranks(graph, start, length)
    for node in graph.nodes:
        node.rank = rank[node.id]
        node.width = _node_width(node.id)
    # A state with an exit keeps room for it on its right.
    room = {e.source: EXIT_ROOM for e in graph.edges if e.exit}
    widths: dict[str, float] = {n.id: n.width + room.get(n.id, 0) for n in graph.nodes}
    label_of: dict[str, int] = {}  # label dummy -> its edge's index
    heights: dict[str, float] = {n.id: NODE_HEIGHT for n in graph.nodes}

    # Long edges go through one dummy point per layer they cross; a label is the first of them.
    chains: list[list[str]] = []
    neighbours_up: dict[str, list[str]] = {n: [] for n in widths}
    neighbours_down: dict[str, list[str]] = {n: [] for n in widths}
    layer_of = dict(rank)
    for index, edge in enumerate(graph.edges):
        lo, hi = rank[edge.source], rank[edge.target]
        chain = [edge.source]
        if edge.exit:
            chains.append([edge.source, edge.target])
            continue
        if hi > lo:
            for r in range(lo + 1, hi):
                dummy = f"\0{index}:{r}"
                layer_of[dummy] = r
                widths[dummy] = DUMMY_WIDTH
                heights[dummy] = 0.0
                if r == lo + 1 and edge.label_lines:
                    label_of[dummy] = index
                    widths[dummy] = round(max(len(line) for line in edge.label_lines) * LABEL_CHAR_WIDTH + 12)
                    heights[dummy] = len(edge.label_lines) * LABEL_LINE_HEIGHT + 6
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
    for sweep in range(16):
        downward = sweep % 2 == 0
        indices = range(1, depth) if downward else range(depth - 2, -1, -1)
        for r in indices:
            fixed = {n: i for i, n in enumerate(layers[r - 1 if downward else r + 1])}
            neighbours = neighbours_up if downward else neighbours_down
            keys: dict[str, float] = {}
            for i, name in enumerate(layers[r]):
                above = [fixed[n] for n in neighbours[name] if n in fixed]
                keys[name] = sum(above) / len(above) if above else float(i)
            layers[r].sort(key=keys.__getitem__)
        now = crossings(layers)
        if now < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], now
    layers = best

    def is_dummy(name: str) -> bool:
        return name.startswith("\0")

    def is_bare(name: str) -> bool:  # a bend of a long edge, no label
        return is_dummy(name) and name not in label_of

    # x: start packed, then pull each item toward its neighbours' mean, keeping order and gaps.
    x: dict[str, float] = {}
    for layer in layers:
        cursor = 0.0
        for name in layer:
            x[name] = cursor + widths[name] / 2
            cursor += widths[name] + NODE_GAP

    def gap(a: str, b: str) -> float:
        return (widths[a] + widths[b]) / 2 + (6 if is_bare(a) and is_bare(b) else NODE_GAP)

    # Priority method: dummies (long edges) first so they run straight, then the best connected.
    for sweep in range(12):
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

    # y: a layer is as tall as its tallest box (a layer of labels only is shorter than one of states).
    tall = [max([heights[n] for n in layer] + [8.0]) for layer in layers]
    top: list[float] = []
    cursor = float(MARGIN)
    for r in range(depth):
        top.append(cursor)
        cursor += tall[r] + RANK_GAP

    def middle(r: int) -> float:
        return top[r] + tall[r] / 2

    for node in graph.nodes:
        x[node.id] -= room.get(node.id, 0) / 2  # the state's own centre, its exit to the right
        node.x = round(x[node.id] - node.width / 2, 1)
        node.y = round(middle(node.rank) - NODE_HEIGHT / 2, 1)
    for index, (edge, chain) in enumerate(zip(graph.edges, chains, strict=True)):
        if edge.exit:
            source = graph.node(edge.source)
            right, level = source.x + source.width, source.y + NODE_HEIGHT / 2
            edge.points = [(round(right, 1), level), (round(right + EXIT_ROOM - 8, 1), level)]
            continue
        points = [(round(x[edge.source], 1), round(middle(rank[edge.source]) + NODE_HEIGHT / 2, 1))]
        points += [(round(x[d], 1), round(middle(layer_of[d]), 1)) for d in chain[1:-1]]
        points.append((round(x[edge.target], 1), round(middle(rank[edge.target]) - NODE_HEIGHT / 2, 1)))
        edge.points = points
        label_dummy = next((d for d in chain[1:-1] if label_of.get(d) == index), None)
        if label_dummy is not None:
            edge.label_at = (round(x[label_dummy], 1), round(middle(layer_of[label_dummy]), 1))
        elif edge.label_lines:  # a back edge: its label where it leaves
            edge.label_at = (points[0][0], points[0][1] + RANK_GAP / 2)
    graph.width = round(max(x[n] + widths[n] / 2 for n in x) + MARGIN, 1)
    graph.height = round(cursor - RANK_GAP + MARGIN, 1)
    return graph


def label_box(edge: Edge) -> tuple[float, float, float, float] | None:
    """(left, top, right, bottom) of an edge's label as layout() sized it; None without a label."""
    if not edge.label_at or not edge.label_lines:
        return None
    width = max(len(line) for line in edge.label_lines) * LABEL_CHAR_WIDTH + 12
    height = len(edge.label_lines) * LABEL_LINE_HEIGHT + 6
    cx, cy = edge.label_at
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def console_graph(definition: dict[str, Any] | None = None) -> Graph:
    """What the console draws: the folded graph, laid out."""
    definition = definition if definition is not None else load_definition()
    return layout(fold(workflow_graph(definition), definition))


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
    output.add_argument("--json", action="store_true", help="print the folded graph and its layout as JSON")
    args = parser.parse_args(argv)
    definition = load_definition(args.asl)
    if args.json:
        print(json.dumps(console_graph(definition).to_json(), indent=2))
    else:
        sys.stdout.write(to_mermaid(workflow_graph(definition)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
