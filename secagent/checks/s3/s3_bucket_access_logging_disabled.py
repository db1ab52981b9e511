"""Server access logging is off."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_access_logging_disabled",
    title="Bucket server access logging is not enabled",
    severity=Severity.MEDIUM,
    rationale="Access logs record every request (who, what, when): needed for incident response and audits.",
    controls=["FSBP:S3.9"],
    remediation_id="s3.enable_access_logging",
    requires=["logging"],
)
PHASE = 80


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    log = snapshot.config.logging.value
    return failed(logging=None) if log is None else passed(logging=log.to_json_dict())


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    target = state.settings.access_log_bucket
    manual = (
        []
        if target and target != state.bucket
        else ["TargetBucket: a separate bucket that accepts S3 log delivery"]
    )
    enabled = {"TargetBucket": target or "<access-log-bucket>", "TargetPrefix": f"{state.bucket}/"}
    return Draft(
        title="Enable server access logging",
        api_call=state.s3("PutBucketLogging", BucketLoggingStatus={"LoggingEnabled": enabled}),
        risk="Low: log storage costs; the target bucket must allow logging.s3.amazonaws.com to write.",
        reversible=True,
        rollback=state.s3("PutBucketLogging", BucketLoggingStatus={}),
        previous_config=None,
        manual_inputs=manual,
    )
