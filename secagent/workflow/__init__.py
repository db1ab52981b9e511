"""Workflow tools after Remediate: approval, apply, verify, report; execution timeline."""

from secagent.workflow.timeline import build_timeline, current_step

__all__ = ["build_timeline", "current_step"]
