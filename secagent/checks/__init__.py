from secagent.checks.controls import control_verdicts
from secagent.checks.registry import Check, analyze, get_check, list_checks, registry, run_check

__all__ = ["Check", "analyze", "control_verdicts", "get_check", "list_checks", "registry", "run_check"]
