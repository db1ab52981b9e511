"""Exemptions on the deployed stack: a bucket tagged `secagent:exempt` is reported EXEMPT, not remediated."""

from __future__ import annotations

import json

from tests.integration.test_audit_workflow import (  # noqa: F401  (fixtures)
    POLICY_CHECK,
    api,
    finished_report,
    public_bucket,
    wait_status,
)

REASON = "public website by design: static assets only - TICKET-42"


def tag(aws, bucket: str, **tags: str) -> None:
    aws("s3").put_bucket_tagging(
        Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
    )


def exempt_tags(checks: str, until: str | None = None) -> dict[str, str]:
    tags = {"secagent:exempt": checks, "secagent:exempt-reason": REASON}
    if until:
        tags["secagent:exempt-until"] = until
    return tags


def run_audit(api, aws, outputs, bucket: str, mode: str) -> dict:  # noqa: F811
    started = api.start_audit(bucket, mode=mode)
    assert started.status == 202, started.body
    done = wait_status(api, started.body["auditId"], {"SUCCEEDED", "FAILED", "AWAITING_APPROVAL"})
    assert done["status"] == "SUCCEEDED", done
    return finished_report(aws, outputs, started.body["auditId"])


def test_exempt_public_bucket_is_compliant_in_remediate_mode_without_asking(
    api,  # noqa: F811
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given a public-policy bucket tagged exempt for every check it fails, with a reason
    tag(aws, public_bucket, **exempt_tags("all"), team="web")
    before = json.loads(aws("s3").get_bucket_policy(Bucket=public_bucket)["Policy"])
    # When it is audited in remediate mode
    report = run_audit(api, aws, outputs, public_bucket, "remediate")
    # Then it is COMPLIANT: its failures are EXEMPT with the reason, nothing proposed, nobody asked
    assert report["outcome"] == "COMPLIANT", [f for f in report["findings"] if f["status"] == "FAIL"]
    findings = {f["checkId"]: f for f in report["findings"]}
    assert findings[POLICY_CHECK]["status"] == "EXEMPT"
    assert findings[POLICY_CHECK]["evidence"]["exemption"] == {
        "source": "tag",
        "reason": REASON,
        "until": None,
    }
    assert findings[POLICY_CHECK]["evidence"]["publicStatements"]  # the original evidence is kept
    exempt = [f for f in report["findings"] if f["status"] == "EXEMPT"]
    assert all(f["evidence"]["exemption"]["reason"] == REASON for f in exempt)
    assert report["remediations"] == [] and report["approval"] is None
    assert "Await Approval" not in {step["name"] for step in report["steps"]}
    # and the bucket is untouched: its public policy is still there
    assert json.loads(aws("s3").get_bucket_policy(Bucket=public_bucket)["Policy"]) == before


def test_exemption_of_one_check_leaves_the_others_to_remediation(
    api,  # noqa: F811
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given the bucket tagged exempt for the public-policy check only, until a day far ahead
    tag(aws, public_bucket, **exempt_tags(POLICY_CHECK, until="2099-12-31"))
    # When it is audited in plan mode
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then that check is EXEMPT and no plan targets it; the other failures are still planned
    findings = {f["checkId"]: f for f in report["findings"]}
    assert findings[POLICY_CHECK]["status"] == "EXEMPT"
    assert findings[POLICY_CHECK]["evidence"]["exemption"]["until"] == "2099-12-31"
    assert report["outcome"] == "NON_COMPLIANT"
    planned = {c for r in report["remediations"] for c in r["plan"]["checkIds"]}
    assert planned and POLICY_CHECK not in planned


def test_expired_exemption_does_not_apply(
    api,  # noqa: F811
    aws,
    outputs,
    public_bucket,  # noqa: F811
):
    # Given the bucket tagged exempt for everything, but until a day in the past
    tag(aws, public_bucket, **exempt_tags("all", until="2020-01-31"))
    # When it is audited
    report = run_audit(api, aws, outputs, public_bucket, "plan")
    # Then nothing is exempt: the public policy FAILs, says the exemption expired, and gets a plan
    assert report["outcome"] == "NON_COMPLIANT"
    findings = {f["checkId"]: f for f in report["findings"]}
    assert not [f for f in report["findings"] if f["status"] == "EXEMPT"]
    assert findings[POLICY_CHECK]["status"] == "FAIL"
    assert findings[POLICY_CHECK]["evidence"]["exemptionExpired"] == {"until": "2020-01-31", "source": "tag"}
    assert any(POLICY_CHECK in r["plan"]["checkIds"] for r in report["remediations"])
