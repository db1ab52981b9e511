"""CORS allows any origin to use write methods."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot, CorsRule

META = CheckMeta(
    id="s3_bucket_cors_wildcard_write",
    title="Bucket CORS allows any origin to PUT/POST/DELETE",
    severity=Severity.MEDIUM,
    rationale="A CORS rule with origin '*' and write methods lets any web page drive writes from a victim's "
    "browser with whatever presigned URL or credentials it holds. (No FSBP/CIS control maps to this.)",
    controls=[],
    remediation_id="s3.remove_wildcard_cors_write_rules",
    requires=["cors"],
)
PHASE = 80
WRITE_METHODS = {"PUT", "POST", "DELETE"}


def offending(rule: CorsRule) -> bool:
    return "*" in rule.allowed_origins and bool(WRITE_METHODS & {m.upper() for m in rule.allowed_methods})


def to_api(rule: CorsRule) -> dict[str, object]:
    data: dict[str, object] = {"AllowedMethods": rule.allowed_methods, "AllowedOrigins": rule.allowed_origins}
    if rule.allowed_headers:
        data["AllowedHeaders"] = rule.allowed_headers
    if rule.expose_headers:
        data["ExposeHeaders"] = rule.expose_headers
    if rule.max_age_seconds is not None:
        data["MaxAgeSeconds"] = rule.max_age_seconds
    if rule.id:
        data["ID"] = rule.id
    return data


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    bad = [to_api(r) for r in snapshot.config.cors.value or [] if offending(r)]
    return failed(rules=bad) if bad else passed(rules=[])


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    rules = state.snapshot.config.cors.value or []
    keep = [to_api(r) for r in rules if not offending(r)]
    previous = [to_api(r) for r in rules]
    return Draft(
        title="Remove CORS rules that allow write methods from any origin",
        api_call=state.s3("PutBucketCors", CORSConfiguration={"CORSRules": keep})
        if keep
        else state.s3("DeleteBucketCors"),
        risk="Browser apps uploading from other origins get CORS errors until their origin is listed.",
        reversible=True,
        rollback=state.s3("PutBucketCors", CORSConfiguration={"CORSRules": previous}),
        previous_config=previous,
    )
