"""Fix builders: how a check turns a failing verdict into a Draft (an API call, its rollback, its
risk), editing the documents a PlanningState tracks so that fixes build on each other.

A leaf over secagent.models: the checks (secagent.checks.s3) call these builders, and the planner
(secagent.remediation) orders their drafts into plans; neither is imported here.
"""
