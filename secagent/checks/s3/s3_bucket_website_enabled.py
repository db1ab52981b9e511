"""Static website hosting is on."""

from secagent.checks.base import Result, failed, passed
from secagent.fixes.planning import BucketPlanningState, Draft
from secagent.models.findings import CheckMeta, Finding, Severity
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import BucketSnapshot

META = CheckMeta(
    id="s3_bucket_website_enabled",
    title="Bucket static website hosting is enabled",
    severity=Severity.MEDIUM,
    rationale="Website endpoints serve content over plain HTTP to anonymous callers; public content is "
    "better served through CloudFront with a private bucket. (No FSBP/CIS control maps to this.)",
    controls=[],
    remediation_id="s3.delete_bucket_website",
    requires=["website"],
)
PHASE = 80


def evaluate(snapshot: BucketSnapshot, settings: AgentSettings) -> list[Result]:
    site = snapshot.config.website.value
    return passed(website=None) if site is None else failed(website=site)


def remediate(state: BucketPlanningState, finding: Finding) -> Draft | None:
    previous = state.snapshot.config.website.value
    if previous is None:
        return None
    return Draft(
        title="Turn off static website hosting",
        api_call=state.s3("DeleteBucketWebsite"),
        risk="The s3-website endpoint stops serving the site and its redirects.",
        reversible=True,
        rollback=state.s3("PutBucketWebsite", WebsiteConfiguration=previous),
        previous_config=previous,
    )
