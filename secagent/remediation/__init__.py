from secagent.remediation.apply import execute_api_call
from secagent.remediation.cli import cli_command
from secagent.remediation.planner import plan_remediations

__all__ = ["cli_command", "execute_api_call", "plan_remediations"]
