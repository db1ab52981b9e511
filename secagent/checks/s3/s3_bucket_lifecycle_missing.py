"""No lifecycle rules."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_lifecycle_missing",
    title="Bucket has no lifecycle rules",
    severity=Severity.LOW,
    rationale="Without lifecycle rules, incomplete uploads and noncurrent versions accumulate forever "
    "(cost, and data kept longer than intended).",
    controls=["FSBP:S3.13"],
    remediation_id="s3.add_lifecycle_abort_incomplete_uploads",
    requires=["lifecycle_rules"],
)
PHASE = 80
RULE_ID = "secagent-abort-incomplete-multipart-uploads"


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    rules = snapshot.config.lifecycle_rules.value or []
    enabled = [r.get("ID") for r in rules if r.get("Status") == "Enabled"]
    return passed(enabledRules=enabled) if enabled else failed(rules=rules)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    return add_lifecycle_rule(state)


def add_lifecycle_rule(state: BucketPlanningState) -> Draft | None:
    """Planned once for both lifecycle checks (S3.13, S3.10). Conservative on purpose: only
    abandoned multipart uploads are removed, never objects or versions."""
    if "lifecycle" in state.done:
        return None
    state.done.add("lifecycle")
    rule = {
        "ID": RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
    previous = state.snapshot.config.lifecycle_rules.value
    return Draft(
        title="Add a lifecycle rule aborting incomplete multipart uploads after 7 days",
        api_call=state.s3(
            "PutBucketLifecycleConfiguration", LifecycleConfiguration={"Rules": [*(previous or []), rule]}
        ),
        risk="Low: multipart uploads idle for over 7 days are discarded.",
        reversible=True,
        rollback=state.s3("DeleteBucketLifecycle")
        if not previous
        else state.s3("PutBucketLifecycleConfiguration", LifecycleConfiguration={"Rules": previous}),
        previous_config=previous,
    )
