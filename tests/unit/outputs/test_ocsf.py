"""OCSF Compliance Findings: valid against OCSF 1.5.0's compliance_finding (cloud and datetime
profiles), and saying what the report says."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from secagent.models.report import Report
from secagent.outputs import OutputError
from secagent.outputs.ocsf import OCSF_VERSION, ocsf_of_report, ocsf_of_resource
from tests.unit.cli.conftest import load_report
from tests.unit.outputs.conftest import ACCOUNT, SWEPT_AT, swept_group

SCHEMA = Path(__file__).parent / "ocsf-1.5.0-compliance_finding.schema.json"


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(finding: dict[str, Any]) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator().iter_errors(finding)]


def by_check(findings: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["compliance"]["checks"][0]["uid"]: f for f in findings}


def test_the_schema_is_of_the_ocsf_version_the_library_writes() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$id"].startswith(f"https://schema.ocsf.io/{OCSF_VERSION}/classes/compliance_finding?")
    assert schema["properties"]["class_uid"]["enum"] == [2003]


def test_every_finding_of_an_audit_and_of_a_swept_resource_is_valid_ocsf(
    remediated: Report, planned: Report
) -> None:
    findings = [*ocsf_of_report(remediated), *ocsf_of_report(planned), *ocsf_of_resource(swept_group())]
    assert len(findings) == 16 + 16 + 2
    assert {f"{i}: {e}" for i, f in enumerate(findings) for e in errors(f)} == set()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda f: f.pop("class_uid"), "$"),  # required
        (lambda f: f.update(class_uid="2003"), "$.class_uid"),  # wrong type
        (lambda f: f.update(class_uid=2004), "$.class_uid"),  # another class
        (lambda f: f["compliance"].update(status_id=7), "$.compliance.status_id"),  # not in the enum
        (lambda f: f["cloud"].pop("provider"), "$.cloud"),  # required by the cloud profile
        (lambda f: f["finding_info"].pop("uid"), "$.finding_info"),
        (lambda f: f["compliance"].update(statuz="Pass"), "$.compliance"),  # not an OCSF attribute
        (lambda f: f["resources"][0].pop("uid") and f["resources"][0].pop("name"), "$.resources[0]"),
        (lambda f: f.update(time="2026-11-25T15:39:11Z"), "$.time"),  # epoch ms, not a string
    ],
)
def test_a_broken_finding_fails_validation(remediated: Report, change: Any, where: str) -> None:
    finding = copy.deepcopy(ocsf_of_report(remediated)[0])
    assert errors(finding) == []
    change(finding)
    assert any(e.startswith(where) for e in errors(finding)), errors(finding)


def test_the_class_and_its_ids(remediated: Report) -> None:
    finding = ocsf_of_report(remediated)[0]
    assert (finding["class_uid"], finding["category_uid"], finding["activity_id"]) == (2003, 2, 1)
    assert finding["type_uid"] == 2003 * 100 + 1
    assert finding["class_name"] == "Compliance Finding"
    assert finding["metadata"]["version"] == OCSF_VERSION
    assert finding["metadata"]["product"] == {
        "name": "secagent",
        "vendor_name": "secagent",
        "version": "0.1.0",
    }
    assert set(finding["metadata"]["profiles"]) == {"cloud", "datetime"}


def test_a_fixed_finding_says_pass_now_and_keeps_the_failing_evidence_before(remediated: Report) -> None:
    finding = by_check(ocsf_of_report(remediated))["s3_bucket_policy_public"]
    assert finding["compliance"]["status_id"] == 1 and finding["compliance"]["status"] == "Pass"
    before, after = finding["evidences"]
    assert (before["name"], before["data"]["status"]) == ("before", "FAIL")
    assert before["data"]["evidence"]["publicRead"] is True
    assert (after["name"], after["data"]["status"], after["data"]["step"]) == ("after", "PASS", "Verify")
    assert after["data"]["evidence"]["publicStatements"] == []
    assert finding["unmapped"]["remediationResult"] == "APPLIED"


def test_a_finding_still_failing_after_verify_is_fail(remediated: Report) -> None:
    finding = by_check(ocsf_of_report(remediated))["s3_bucket_access_logging_disabled"]
    assert (finding["compliance"]["status_id"], finding["compliance"]["status"]) == (3, "Fail")
    assert (finding["status_id"], finding["status"]) == (1, "New")
    assert [e["data"]["status"] for e in finding["evidences"]] == ["FAIL", "FAIL"]


def test_fail_is_never_pass_and_unknown_is_unknown(planned: Report) -> None:
    findings = by_check(ocsf_of_report(planned))
    statuses = {f.check_id: f.status for f in planned.findings}
    for check_id, finding in findings.items():
        if statuses[check_id] != "PASS":
            assert finding["compliance"]["status_id"] != 1, check_id
            assert finding["compliance"]["status"] != "Pass", check_id
    unknown = findings["s3_bucket_versioning_disabled"]
    assert (unknown["compliance"]["status_id"], unknown["compliance"]["status"]) == (0, "Unknown")
    assert "could not read versioning" in unknown["compliance"]["status_detail"]
    assert unknown["status_code"] == "UNKNOWN"
    assert len(unknown["evidences"]) == 1  # no Verify in a plan audit


def test_an_exempt_finding_stays_fail_and_is_suppressed_with_its_reason(planned: Report) -> None:
    exempt = by_check(ocsf_of_report(planned))["s3_bucket_lifecycle_missing"]
    assert (exempt["compliance"]["status_id"], exempt["compliance"]["status"]) == (3, "Fail")
    assert (exempt["status_id"], exempt["status"], exempt["status_code"]) == (3, "Suppressed", "EXEMPT")
    assert exempt["compliance"]["status_detail"] == (
        "EXEMPT: the check fails; exempted until 2027-01-31: logs expire elsewhere"
    )


def test_controls_standards_and_remediation(planned: Report) -> None:
    finding = by_check(ocsf_of_report(planned))["s3_account_block_public_access_off"]
    compliance = finding["compliance"]
    assert compliance["control"] == "S3.1"
    assert compliance["standards"] == [
        "aws-foundational-security-best-practices/v/1.0.0",
        "cis-aws-foundations-benchmark/v/3.0.0",
    ]
    assert compliance["requirements"] == [
        "aws-foundational-security-best-practices/v/1.0.0/S3.1",
        "cis-aws-foundations-benchmark/v/3.0.0/2.1.4",
    ]
    assert finding["remediation"]["references"] == [
        "https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html#s3-1"
    ]
    assert "aws s3control put-public-access-block" in finding["remediation"]["desc"]


def test_a_check_with_no_control_has_no_standard_or_control(planned: Report) -> None:
    finding = by_check(ocsf_of_report(planned))["s3_bucket_website_enabled"]
    assert not {"standards", "requirements", "control"} & set(finding["compliance"])
    assert errors(finding) == []


def test_the_resource_the_cloud_and_the_times(remediated: Report) -> None:
    finding = by_check(ocsf_of_report(remediated))["s3_bucket_policy_public"]
    assert finding["resources"] == [
        {
            "uid": "arn:aws:s3:::cli-demo-public-1",
            "name": "cli-demo-public-1",
            "type": "AWS::S3::Bucket",
            "region": "us-east-1",
            "cloud_partition": "aws",
        }
    ]
    assert finding["cloud"]["provider"] == "AWS"
    assert finding["cloud"]["account"]["uid"] == ACCOUNT
    assert finding["cloud"]["region"] == "us-east-1"
    info = finding["finding_info"]
    assert info["uid"] == remediated.findings[2].finding_id
    assert info["first_seen_time"] == 1795621145000  # 2026-11-25T15:39:05Z in epoch ms
    assert info["last_seen_time"] == finding["time"] == 1795621151000  # Verify's
    assert finding["time_dt"] == "2026-11-25T15:39:11Z"


def test_severity_ids() -> None:
    findings = by_check(ocsf_of_resource(swept_group()))
    ssh = findings["ec2_security_group_ssh_open_to_internet"]
    assert (ssh["severity_id"], ssh["severity"]) == (4, "High")
    assert ssh["resources"][0]["type"] == "AWS::EC2::SecurityGroup"
    assert ssh["metadata"]["correlation_uid"] == "sweep-1"
    assert ssh["time"] == int(SWEPT_AT.timestamp() * 1000)


def test_a_resource_that_could_not_be_judged_renders_no_finding() -> None:
    result = swept_group([], outcome="ACCESS_DENIED", error={"error": "AccessDenied", "message": "denied"})
    assert ocsf_of_resource(result) == []


def test_a_schema_version_1_report_is_refused_not_guessed() -> None:
    with pytest.raises(OutputError, match="account"):
        ocsf_of_report(Report.model_validate(load_report("plan")))
