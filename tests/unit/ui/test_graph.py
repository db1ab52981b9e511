"""The workflow graph is generated from the ASL: every state a node, every transition an edge."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from secagent.ui.graph import describe_rule, layout, load_definition, main, to_mermaid, workflow_graph


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return load_definition()


def transitions(definition: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(source, target, kind) for every transition the ASL declares."""
    found: set[tuple[str, str, str]] = set()
    for name, state in definition["States"].items():
        if "Next" in state:
            found.add((name, state["Next"], "next"))
        for rule in state.get("Choices", []):
            found.add((name, rule["Next"], "choice"))
        if "Default" in state:
            found.add((name, state["Default"], "default"))
        for catcher in state.get("Catch", []):
            found.add((name, catcher["Next"], "catch"))
    return found


def test_every_state_is_a_node(definition):
    graph = workflow_graph(definition)
    assert [n.id for n in graph.nodes] == list(definition["States"])
    types = {n.id: n.type for n in graph.nodes}
    assert all(types[name] == state["Type"] for name, state in definition["States"].items())
    assert [n.id for n in graph.nodes if n.start] == [definition["StartAt"]]


def test_every_next_default_choice_and_catch_is_an_edge(definition):
    graph = workflow_graph(definition)
    assert {(e.source, e.target, e.kind) for e in graph.edges} == transitions(definition)
    catches = [e for e in graph.edges if e.kind == "catch"]
    assert catches and all(e.dashed for e in catches)
    assert not any(e.dashed for e in graph.edges if e.kind != "catch")


def test_retry_policies_and_labels(definition):
    graph = workflow_graph(definition)
    retried = {n.id for n in graph.nodes if n.retry}
    assert retried == {name for name, state in definition["States"].items() if state.get("Retry")}
    assert graph.node("Discover Bucket").max_attempts == 4  # 1 + MaxAttempts 3
    approval = [e for e in graph.edges if e.source == "Await Approval" and e.kind == "catch"]
    assert {e.label for e in approval} == {"timeout", "any error"}
    plan_only = [e for e in graph.edges if e.source == "Plan Only?" and e.kind == "choice"]
    assert len(plan_only) == 1  # two rules to one state: one arrow, both conditions
    assert plan_only[0].label == "request.mode = plan or remediation.plans[0] absent"


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({"Variable": "$.analysis.summary.fail", "NumericGreaterThan": 0}, "summary.fail > 0"),
        ({"Variable": "$.verification.allFixed", "BooleanEquals": True}, "verification.allFixed = true"),
        ({"Variable": "$.a.b", "IsPresent": False}, "a.b absent"),
        ({"Not": {"Variable": "$.x", "StringEquals": "y"}}, "not (x = y)"),
        (
            {"And": [{"Variable": "$.x", "IsPresent": True}, {"Variable": "$.y", "NumericEquals": 2}]},
            "x present and y = 2",
        ),
    ],
)
def test_describe_rule(rule, text):
    assert describe_rule(rule) == text


def test_layout_places_every_node_without_overlap(definition):
    graph = layout(workflow_graph(definition))
    assert graph.width > 0 and graph.height > 0
    for node in graph.nodes:
        assert node.x >= 0 and node.x + node.width <= graph.width
        assert node.y >= 0 and node.y + node.height <= graph.height
    by_row: dict[float, list] = {}
    for node in graph.nodes:
        by_row.setdefault(node.y, []).append(node)
    for row in by_row.values():
        row.sort(key=lambda n: n.x)
        for left, right in itertools.pairwise(row):
            assert left.x + left.width <= right.x, (left.id, right.id)
    positions = {n.id: n for n in graph.nodes}
    for edge in graph.edges:
        assert positions[edge.target].rank > positions[edge.source].rank  # top to bottom
        assert len(edge.points) >= 2


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="Nowhere"):
        workflow_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})


def test_mermaid_has_every_state_and_transition(definition):
    graph = workflow_graph(definition)
    text = to_mermaid(graph)
    assert text.startswith("flowchart TD\n")
    for name in definition["States"]:
        assert f'"{name}' in text
    arrows = [line for line in text.splitlines() if "-->" in line or "-.->" in line]
    assert len(arrows) == len(graph.edges)
    assert sum("-.->" in line for line in arrows) == sum(e.kind == "catch" for e in graph.edges)


@pytest.mark.parametrize("document", ["docs/workflow-graph.md", "README.md"])
def test_docs_graph_is_up_to_date(definition, document):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / document).read_text()
    assert to_mermaid(workflow_graph(definition)) in doc, "regenerate: python -m secagent.ui.graph --mermaid"


def test_main_prints_mermaid_and_json(capsys):
    assert main(["--mermaid"]) == 0
    assert capsys.readouterr().out.startswith("flowchart TD")
    assert main(["--json"]) == 0
    assert '"nodes"' in capsys.readouterr().out
