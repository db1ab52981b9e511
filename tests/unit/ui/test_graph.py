"""The workflow graph is generated from the ASL: every state a node, every transition an edge."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from secagent.ui.graph import (
    console_graph,
    describe_rule,
    fold,
    fold_history,
    label_box,
    layout,
    load_definition,
    main,
    to_mermaid,
    workflow_graph,
)


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
    assert plan_only[0].label == "request.mode = plan or remediation.planCount = 0"


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


# --- the graph the console draws: plumbing folded, labels whole and apart ------------------------


def _resolve(definition: dict[str, Any], folded, name: str) -> str | None:
    """Where an arrow into `name` ends in the folded graph (through folded Pass states)."""
    states = definition["States"]
    while folded.aliases[name] is None:
        name = states[name]["Next"]
    return folded.aliases[name]


def test_fold_keeps_tasks_and_decisions_and_folds_the_plumbing(definition):
    folded = fold(workflow_graph(definition), definition)
    states = definition["States"]
    kept = {n.id for n in folded.nodes}
    assert {name for name, s in states.items() if s["Type"] in ("Task", "Choice")} - kept == {
        "Write Failure Report"  # failure bookkeeping: drawn as Audit Failed
    }
    assert not [n for n in folded.nodes if n.type == "Pass"]  # every Pass only moves data here
    assert set(folded.aliases) == set(states)  # every state is shown somewhere
    failed = folded.node("Audit Failed")
    assert set(failed.members) == {"Mark Failed", "Write Failure Report", "Summarize Failure", "Audit Failed"}
    assert [n.id for n in folded.nodes if n.start] == ["Discover Bucket"]  # Start Audit only moves data


def test_fold_keeps_every_transition_between_the_states_it_shows(definition):
    graph = workflow_graph(definition)
    folded = fold(graph, definition)
    drawn = {(e.source, e.target) for e in folded.edges}
    for edge in graph.edges:
        if folded.aliases[edge.source] != edge.source:
            continue  # leaves a folded state: drawn from the state before it
        target = _resolve(definition, folded, edge.target)
        if target != edge.source:
            assert (edge.source, target) in drawn, edge


def test_folded_arrows_say_what_the_pass_states_did(definition):
    folded = fold(workflow_graph(definition), definition)
    labels = {(e.source, e.target, e.kind): e for e in folded.edges}
    rejected = labels[("Approved?", "Write Report", "default")]
    assert rejected.label == "otherwise → outcome REJECTED" and rejected.via == ["Mark Rejected"]
    expired = labels[("Await Approval", "Write Report", "catch")]
    assert expired.label == "timeout → outcome APPROVAL_EXPIRED"
    # A Catch of any error into the failure is an exit beside its state, not an arrow across
    exits = {e.source for e in folded.edges if e.exit}
    assert exits == {name for name, s in definition["States"].items() if s["Type"] == "Task"} - {
        "Write Failure Report"
    }
    assert all(e.target == "Audit Failed" and not e.label for e in folded.edges if e.exit)


def _boxes_overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_console_layout_labels_are_whole_and_never_overlap(definition):
    graph = console_graph(definition)
    nodes = {n.id: (n.x, n.y, n.x + n.width, n.y + n.height) for n in graph.nodes}
    labels = [(e, label_box(e)) for e in graph.edges if e.label]
    assert labels and all(box is not None for _, box in labels)
    for edge, box in labels:
        assert " ".join(edge.label_lines) == edge.label  # wrapped, never cut
        assert box[0] >= 0 and box[2] <= graph.width and box[3] <= graph.height
        for name, node_box in nodes.items():
            assert not _boxes_overlap(box, node_box), (edge.label, name)
    for (a, box_a), (b, box_b) in itertools.combinations(labels, 2):
        assert not _boxes_overlap(box_a, box_b), (a.label, b.label)
    for node in graph.nodes:  # room for the whole name
        assert node.width >= len(node.id) * 7
    for left, right in itertools.combinations(graph.nodes, 2):
        assert not _boxes_overlap(nodes[left.id], nodes[right.id]), (left.id, right.id)
    for edge in graph.edges:
        if edge.exit:  # a short mark to the right of its state
            source = nodes[edge.source]
            assert edge.points[0][0] == round(source[2], 1) and edge.points[1][0] > source[2]


def test_console_graph_nodes_carry_what_the_panel_shows(definition):
    graph = console_graph(definition)
    discover = graph.node("Discover Bucket")
    assert discover.input == {"auditId.$": "$.auditId", "input.$": "$$.Execution.Input"}
    assert discover.plumbing == ["executionArn.$"]
    assert discover.result_path == "$.discovery"
    approval = graph.node("Await Approval")
    assert "taskToken.$" not in approval.input and "taskToken.$" in approval.plumbing


def test_history_is_folded_onto_the_drawn_graph(definition):
    graph = console_graph(definition)
    sequence = [
        "Start Audit",
        "Discover Bucket",
        "Analyze Configuration",
        "Any Failing Checks?",
        "Propose Fixes",
        "Plan Only?",
        "Await Approval",
        "Approved?",
        "Mark Rejected",
        "Write Report",
        "Audit Complete",
    ]
    states, transitions = fold_history(graph, [[(name, {"state": name}) for name in sequence]])
    assert "Start Audit" not in states and "Mark Rejected" not in states
    assert ["Approved?", "Write Report", "Mark Rejected"] in transitions
    drawn = {(e.source, e.target) for e in graph.edges}
    assert all((t[0], t[1]) in drawn for t in transitions)


def test_of_two_arrows_between_two_steps_the_one_taken_is_told_by_the_states_entered(definition):
    # Verify Fixes reaches Write Report through Record Verified Outcome, or through Mark Resource
    # Not Found / Mark Access Denied (a Catch): two arrows between the same two steps
    graph = console_graph(definition)
    arrows = [e for e in graph.edges if (e.source, e.target) == ("Verify Fixes", "Write Report")]
    assert sorted(e.kind for e in arrows) == ["catch", "next"]
    verified = ["Verify Fixes", "Record Verified Outcome", "Write Report"]
    gone = ["Verify Fixes", "Mark Resource Not Found", "Write Report"]
    for sequence, kind in ((verified, "next"), (gone, "catch")):
        _, transitions = fold_history(graph, [[(name, {}) for name in sequence]])
        ((_source, _target, *via),) = transitions
        taken = [e for e in arrows if via and set(via) <= set(e.via)]
        assert [e.kind for e in taken] == [kind]


def test_the_packaged_asl_is_the_deployed_one():
    """An installed wheel draws the graph from its own copy: it must be the file the stack deploys."""
    import fnmatch
    import tomllib
    from pathlib import Path

    from secagent.ui.graph import ASL_PATH

    root = Path(__file__).resolve().parents[3]
    deployed = root / "statemachine" / "audit.asl.json"
    assert ASL_PATH.read_bytes() == deployed.read_bytes(), (
        "copy statemachine/audit.asl.json to secagent/ui/static/audit.asl.json"
    )
    package = root / "secagent" / "ui"
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "secagent.ui"
    ]
    relative = ASL_PATH.relative_to(package).as_posix()
    assert any(fnmatch.fnmatch(relative, glob) for glob in globs), "the ASL is not package data"
    assert load_definition() == json.loads(deployed.read_text())
