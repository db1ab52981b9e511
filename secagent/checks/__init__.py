from secagent.checks.registry import Check, analyze, get_check, list_checks, registry, run_check

__all__ = ["Check", "analyze", "get_check", "list_checks", "registry", "run_check"]
