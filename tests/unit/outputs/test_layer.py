"""secagent.outputs renders models: it may import the models and the check registry, nothing else of
ours (no AWS client module, no workflow), so any Lambda or command can use it."""

from __future__ import annotations

from tests.unit.test_layers import _all_imports, _unit

ALLOWED = {"secagent", "secagent.models", "secagent.checks", "secagent.outputs"}


def test_the_outputs_import_only_the_models_and_the_checks() -> None:
    rows = [(imported, where) for unit, imported, where in _all_imports() if unit == "secagent.outputs"]
    assert rows, "no package secagent.outputs"
    offending = [
        f"{where} imports {imported}" for imported, where in rows if _unit(imported) not in {None, *ALLOWED}
    ]
    assert offending == []
