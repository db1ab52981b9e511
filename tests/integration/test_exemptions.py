"""Exemptions on the deployed stack: a bucket tagged `secagent:exempt` (with a reason and an expiry at
most 90 days ahead) has its non-CRITICAL failures reported EXEMPT, not remediated; CRITICAL ones stay FAIL."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.test_audit_workflow import (  # noqa: F401  (fixtures)
    POLICY_CHECK,
    finished_report,
    public_bucket,
    wait_status,
)

LIFECYCLE_CHECK = "s3_bucket_lifecycle_missing"  # LOW: a tag may exempt it

REASON = "public website by design: static assets only - TICKET-42"
TAG_GRANTED_BY = "bucket tags secagent:exempt, secagent:exempt-reason, secagent:exempt-until"
CRITICAL_WHY = (
    "a bucket tag cannot exempt a CRITICAL finding; only the deploy-time exemptions setting "
    "(SECAGENT_EXEMPTIONS) can"
)


def in_days(days: int) -> str:
    """A UTC day relative to today, as the exempt-until tag wants it (tags may expire in <= 90 days)."""
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def tag(aws, bucket: str, **tags: str) -> None:
    aws("s3").put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )


def exempt_tags(checks: str, until: str | None) -> dict[str, str]:
    tags = {"secagent:exempt": checks, "secagent:exempt-reason": REASON}
    if until:
        tags["secagent:exempt-until"] = until
    return tags


def run_audit(api, aws, outputs, bucket: str, mode: str) -> dict:
    started = api.start_audit(bucket, mode=mode)
    assert started.status == 202, started.body
    done = wait_status(api, started.body["auditId"], {"SUCCEEDED", "FAILED", "AWAITING_APPROVAL"})
    assert done["status"] == "SUCCEEDED", done
    return finished_report(aws, outputs, started.body["auditId"])


def test_exempt_bucket_is_compliant_in_remediate_mode_without_asking(api, aws, outputs):
    # Given a bare (private) bucket, whose failures are all below CRITICAL, tagged exempt for every
    # check with a reason and an expiry 30 days from today
    s3 = aws("s3")
    bucket = f"audit-exempt-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    until = in_days(30)
    tag(aws, bucket, **exempt_tags("all", until=until), team="web")
    # When it is audited in remediate mode
    report = run_audit(api, aws, outputs, bucket, "remediate")
    # Then it is COMPLIANT: its failures are EXEMPT with the reason and the tags that granted them,
    # nothing is proposed, nobody is asked
    assert report["outcome"] == "COMPLIANT", [f for f in report["findings"] if f["status"] == "FAIL"]
    exempt = [f for f in report["findings"] if f["status"] == "EXEMPT"]
    assert exempt
    for finding in exempt:
        assert finding["severity"] != "CRITICAL"
        assert finding["evidence"]["exemption"] == {
            "source": "tag",
            "reason": REASON,
            "until": until,
            "grantedBy": TAG_GRANTED_BY,
        }
    assert report["remediations"] == [] and report["approval"] is None
    assert "Await Approval" not in {step["name"] for step in report["steps"]}
    # and the bucket is untouched: versioning, for one, is still not enabled
    assert s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled"


def test_tag_never_exempts_the_critical_public_policy(
    api,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given a public-policy bucket tagged exempt for every check, with a reason and an expiry
    tag(aws, public_bucket, **exempt_tags("all", until=in_days(30)), team="web")
    # When it is audited in plan mode
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then the CRITICAL public-policy finding still FAILs, says a tag cannot exempt it, and is planned
    assert report["outcome"] == "NON_COMPLIANT"
    findings = {f["checkId"]: f for f in report["findings"]}
    policy = findings[POLICY_CHECK]
    assert (policy["severity"], policy["status"]) == ("CRITICAL", "FAIL")
    assert policy["evidence"]["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert policy["evidence"]["publicStatements"]  # the original evidence is kept
    assert any(POLICY_CHECK in r["plan"]["checkIds"] for r in report["remediations"])
    # while its non-critical failures are EXEMPT, and only CRITICAL findings are left failing
    exempt = [f for f in report["findings"] if f["status"] == "EXEMPT"]
    assert exempt and all(f["evidence"]["exemption"]["grantedBy"] == TAG_GRANTED_BY for f in exempt)
    assert {f["severity"] for f in report["findings"] if f["status"] == "FAIL"} == {"CRITICAL"}


def test_exemption_of_one_check_leaves_the_others_to_remediation(
    api,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given the bucket tagged exempt for the (LOW) lifecycle check only, until 30 days from today
    until = in_days(30)
    tag(aws, public_bucket, **exempt_tags(LIFECYCLE_CHECK, until=until))
    # When it is audited in plan mode
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then that check is EXEMPT and no plan targets it; the other failures are still planned
    findings = {f["checkId"]: f for f in report["findings"]}
    assert findings[LIFECYCLE_CHECK]["status"] == "EXEMPT"
    assert findings[LIFECYCLE_CHECK]["evidence"]["exemption"]["until"] == until
    assert report["outcome"] == "NON_COMPLIANT"
    planned = {c for r in report["remediations"] for c in r["plan"]["checkIds"]}
    assert POLICY_CHECK in planned and LIFECYCLE_CHECK not in planned


@pytest.mark.parametrize(("days", "why"), [(None, "is missing or empty"), (91, "more than 90 days")])
def test_tag_without_expiry_or_too_far_ahead_does_not_apply(
    api,
    aws,
    outputs,
    public_bucket,  # noqa: F811
    days: int | None,
    why: str,
):
    # Given the bucket tagged exempt for the lifecycle check with no expiry, or one 91 days ahead
    tag(aws, public_bucket, **exempt_tags(LIFECYCLE_CHECK, until=None if days is None else in_days(days)))
    # When it is audited
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then nothing is exempt, and the lifecycle finding says why and gets a plan
    assert not [f for f in report["findings"] if f["status"] == "EXEMPT"]
    lifecycle = {f["checkId"]: f for f in report["findings"]}[LIFECYCLE_CHECK]
    assert lifecycle["status"] == "FAIL"
    assert lifecycle["evidence"]["exemptionNotApplied"]["source"] == "tag"
    assert why in lifecycle["evidence"]["exemptionNotApplied"]["why"]
    assert any(LIFECYCLE_CHECK in r["plan"]["checkIds"] for r in report["remediations"])


def test_expired_exemption_does_not_apply(
    api,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given the bucket tagged exempt for everything, but until a day in the past
    tag(aws, public_bucket, **exempt_tags("all", until="2020-01-31"))
    # When it is audited
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then nothing is exempt: the lifecycle check FAILs, says the exemption expired, and gets a plan
    assert report["outcome"] == "NON_COMPLIANT"
    findings = {f["checkId"]: f for f in report["findings"]}
    assert not [f for f in report["findings"] if f["status"] == "EXEMPT"]
    assert findings[LIFECYCLE_CHECK]["status"] == "FAIL"
    assert findings[LIFECYCLE_CHECK]["evidence"]["exemptionExpired"] == {
        "until": "2020-01-31",
        "source": "tag",
    }
    assert any(LIFECYCLE_CHECK in r["plan"]["checkIds"] for r in report["remediations"])
    # and the CRITICAL public policy says a tag cannot exempt it at all, and is planned too
    assert findings[POLICY_CHECK]["evidence"]["exemptionNotApplied"] == {"source": "tag", "why": CRITICAL_WHY}
    assert any(POLICY_CHECK in r["plan"]["checkIds"] for r in report["remediations"])


# -- exemptions granted through the API (POST /exemptions) ---------------------------------------


def test_api_exemption_asked_by_one_person_applies_once_another_approves_and_ends_when_revoked(
    api,
    approver,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given a person asks to exempt the (LOW) lifecycle check on a public bucket through the API
    until = in_days(14)
    asked = api.request_exemption(public_bucket, [LIFECYCLE_CHECK], REASON, until)
    assert asked.status == 201 and asked.body["status"] == "PENDING", asked.body
    exemption_id = asked.body["exemptionId"]
    # Then a pending request exempts nothing, and its requester cannot approve it
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    assert {f["checkId"]: f["status"] for f in report["findings"]}[LIFECYCLE_CHECK] == "FAIL"
    own = api.approve_exemption(exemption_id)
    assert own.status == 403 and "four-eyes" in own.body["message"], own.body
    # When another person approves it and the bucket is audited
    approved = approver.approve_exemption(exemption_id)
    assert approved.status == 200 and approved.body["status"] == "ACTIVE", approved.body
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then that check is EXEMPT, naming both people and the record; nothing plans it
    findings = {f["checkId"]: f for f in report["findings"]}
    assert findings[LIFECYCLE_CHECK]["status"] == "EXEMPT"
    assert findings[LIFECYCLE_CHECK]["evidence"]["exemption"] == {
        "source": "api",
        "reason": REASON,
        "until": until,
        "grantedBy": approved.body["approvedBy"],
        "requestedBy": asked.body["requestedBy"],
        "exemptionId": exemption_id,
    }
    assert LIFECYCLE_CHECK not in {c for r in report["remediations"] for c in r["plan"]["checkIds"]}
    # and a CRITICAL check cannot be exempted this way at all
    refused = api.request_exemption(public_bucket, [POLICY_CHECK], REASON, until)
    assert refused.status == 400 and refused.body["field"] == "checkIds", refused.body
    # When it is revoked, the next audit judges the check again
    revoked = api.revoke_exemption(exemption_id)
    assert revoked.status == 200 and revoked.body["status"] == "REVOKED", revoked.body
    listed = api.list_exemptions(public_bucket)
    assert [(e["exemptionId"], e["status"]) for e in listed.body["exemptions"]] == [(exemption_id, "REVOKED")]
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    assert {f["checkId"]: f["status"] for f in report["findings"]}[LIFECYCLE_CHECK] == "FAIL"


def test_api_exemption_holds_through_verify_after_the_approved_fixes(
    api,
    approver,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given the lifecycle check exempted through the API, and a remediate audit of the bucket
    asked = api.request_exemption(public_bucket, [LIFECYCLE_CHECK], REASON, in_days(7))
    assert asked.status == 201, asked.body
    assert approver.approve_exemption(asked.body["exemptionId"]).status == 200
    started = api.start_audit(public_bucket, mode="remediate")
    assert started.status == 202, started.body
    audit_id = started.body["auditId"]
    waiting = wait_status(api, audit_id, {"AWAITING_APPROVAL"})
    # When another person approves the default selection
    decided = approver.decide(audit_id, "approve", plan_digest=waiting["planDigest"])
    assert decided.status == 200, decided.body
    wait_status(api, audit_id, {"SUCCEEDED", "FAILED"}, timeout=180)
    # Then Verify judged the check as Analyze did (it read the same sealed record): EXEMPT, not failing
    report = finished_report(aws, outputs, audit_id)
    after = {f["checkId"]: f for f in report["verification"]["findings"]}
    assert after[LIFECYCLE_CHECK]["status"] == "EXEMPT"
    assert after[LIFECYCLE_CHECK]["evidence"]["exemption"]["source"] == "api"
    assert LIFECYCLE_CHECK not in report["verification"]["stillFailing"]


def test_attack_a_planted_exemption_record_exempts_nothing(
    api,
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    """Defence: Discover verifies the API's KMS seal on every record (LocalStack does not enforce the
    bucket policy that, on AWS, already refuses this write to anyone but the API's role)."""
    record = {
        "exemptionId": f"{public_bucket}.{'c' * 32}",
        "bucket": public_bucket,
        "checkIds": [LIFECYCLE_CHECK],
        "reason": "planted",
        "until": in_days(10),
        "requestedBy": "arn:aws:iam::000000000000:user/mallory",
        "requestedByPrincipal": "arn:aws:iam::000000000000:user/mallory",
        "requestedAt": datetime.now(UTC).isoformat(),
        "approvedBy": "arn:aws:iam::000000000000:user/trent",
        "approvedAt": datetime.now(UTC).isoformat(),
    }
    aws("s3").put_object(
        Bucket=outputs["ReportBucketName"],
        Key=f"exemptions/{public_bucket}/{record['exemptionId']}.json",
        Body=json.dumps({"record": record, "seal": "Zm9yZ2Vk"}).encode(),
    )
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    assert {f["checkId"]: f["status"] for f in report["findings"]}[LIFECYCLE_CHECK] == "FAIL"
    assert api.list_exemptions(public_bucket).body == {"exemptions": []}
