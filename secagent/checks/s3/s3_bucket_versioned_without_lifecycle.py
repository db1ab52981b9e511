"""A versioned bucket has no lifecycle rule (FSBP S3.10).

Config rule s3-version-lifecycle-policy-check: a bucket with versioning enabled is
NON_COMPLIANT without an enabled lifecycle rule. Buckets without versioning are not in
scope (PASS here). Noncurrent versions otherwise pile up forever.
"""

from secagent.checks.base import Result, failed, passed
from secagent.checks.s3.s3_bucket_lifecycle_missing import add_lifecycle_rule
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_versioned_without_lifecycle",
    title="Versioned bucket has no lifecycle rule",
    severity=Severity.MEDIUM,
    rationale="Every overwrite and delete of a versioned bucket keeps the old version; without a lifecycle "
    "rule they are kept (and billed) forever.",
    controls=["FSBP:S3.10"],
    remediation_id="s3.add_lifecycle_abort_incomplete_uploads",
    requires=["versioning", "lifecycle_rules"],
)
PHASE = 80


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    versioning = snapshot.config.versioning.value
    status = None if versioning is None else versioning.status
    if status != "Enabled":
        return passed(versioning=status, inScope=False)
    rules = snapshot.config.lifecycle_rules.value or []
    enabled = [r.get("ID") for r in rules if r.get("Status") == "Enabled"]
    return (
        passed(versioning=status, enabledRules=enabled) if enabled else failed(versioning=status, rules=rules)
    )


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return add_lifecycle_rule(state)
