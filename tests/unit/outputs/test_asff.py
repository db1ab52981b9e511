"""ASFF findings: valid input of BatchImportFindings by botocore's Security Hub model, within Security
Hub's limits, imported into (moto's) Security Hub in batches of at most 100."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape
from botocore.validate import ParamValidator
from moto import mock_aws

from secagent.models.report import Report
from secagent.outputs import asff
from secagent.outputs.asff import asff_of_report, asff_of_resource, batches
from secagent.outputs.security_hub import import_findings
from tests.unit.outputs.conftest import ACCOUNT, REGION, swept_group

INPUT = botocore.session.get_session().get_service_model("securityhub").operation_model("BatchImportFindings")
STANDARDS_TYPE = "Software and Configuration Checks/Industry and Regulatory Standards"
FINDING_SHAPE = INPUT.input_shape.members["Findings"].member


def enum_errors(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """What ParamValidator does not check: every value of an enum shape is one of the model's."""
    if isinstance(shape, StructureShape):
        return [
            e
            for k, v in value.items()
            if k in shape.members
            for e in enum_errors(v, shape.members[k], f"{path}.{k}")
        ]
    if isinstance(shape, ListShape):
        return [e for i, v in enumerate(value) for e in enum_errors(v, shape.member, f"{path}[{i}]")]
    if isinstance(shape, MapShape):
        return [e for k, v in value.items() for e in enum_errors(v, shape.value, f"{path}.{k}")]
    return [f"{path}: {value!r} not in {shape.enum}"] if shape.enum and value not in shape.enum else []


def model_errors(findings: list[dict[str, Any]]) -> str:
    report = ParamValidator().validate({"Findings": findings}, INPUT.input_shape).generate_report()
    enums = [e for f in findings for e in enum_errors(f, FINDING_SHAPE)]
    return "\n".join(([report] if report else []) + enums)


def all_findings(remediated: Report, planned: Report) -> list[dict[str, Any]]:
    return [*asff_of_report(remediated), *asff_of_report(planned), *asff_of_resource(swept_group())]


def test_every_finding_is_valid_batch_import_findings_input(remediated: Report, planned: Report) -> None:
    findings = all_findings(remediated, planned)
    assert len(findings) == 34
    assert model_errors(findings) == ""


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.pop("AwsAccountId"),  # required
        lambda f: f["Compliance"].update(Status="PASS"),  # not the enum's PASSED
        lambda f: f["Severity"].update(Label="INFO"),
        lambda f: f["Resources"][0].update(Partition="aws-eu"),
        lambda f: f.update(Types="Software and Configuration Checks"),  # a list
    ],
)
def test_the_model_check_catches_a_broken_finding(remediated: Report, change: Any) -> None:
    finding = copy.deepcopy(asff_of_report(remediated)[0])
    change(finding)
    assert model_errors([finding]) != ""


def test_the_required_fields_and_their_values(remediated: Report) -> None:
    finding = {f["GeneratorId"]: f for f in asff_of_report(remediated)}["s3_bucket_policy_public"]
    assert finding["SchemaVersion"] == "2018-10-08"
    assert finding["ProductArn"] == f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert finding["Id"] == remediated.findings[2].finding_id
    assert finding["AwsAccountId"] == ACCOUNT
    assert finding["Resources"] == [
        {"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::cli-demo-public-1", "Partition": "aws", "Region": REGION}
    ]
    assert (finding["CreatedAt"], finding["UpdatedAt"]) == (
        "2026-11-25T15:39:05.000Z",
        "2026-11-25T15:39:11.000Z",
    )
    assert finding["Compliance"]["SecurityControlId"] == "S3.2"
    assert finding["Compliance"]["RelatedRequirements"] == [
        "aws-foundational-security-best-practices/v/1.0.0/S3.2",
        "aws-foundational-security-best-practices/v/1.0.0/S3.3",
    ]
    # Fixed by the audit: PASSED now, and the verdict before the fix kept.
    assert finding["Compliance"]["Status"] == "PASSED"
    assert finding["Workflow"] == {"Status": "RESOLVED"}
    assert finding["ProductFields"]["secagent/statusBeforeFix"] == "FAIL"


def test_a_failed_check_is_never_passed_and_unknown_is_not_available(
    remediated: Report, planned: Report
) -> None:
    statuses: dict[str, set[str]] = {}
    for finding in all_findings(remediated, planned):
        statuses.setdefault(finding["ProductFields"]["secagent/status"], set()).add(
            finding["Compliance"]["Status"]
        )
    assert statuses == {
        "PASS": {"PASSED"},
        "FAIL": {"FAILED"},
        "EXEMPT": {"FAILED"},
        "UNKNOWN": {"NOT_AVAILABLE"},
    }


def test_an_exempt_finding_is_suppressed_with_its_reason(planned: Report) -> None:
    exempt = {f["GeneratorId"]: f for f in asff_of_report(planned)}["s3_bucket_lifecycle_missing"]
    assert exempt["Workflow"] == {"Status": "SUPPRESSED"}
    assert "exempted until 2027-01-31: logs expire elsewhere" in exempt["Description"]


def test_a_security_group_and_its_standards() -> None:
    findings = {f["GeneratorId"]: f for f in asff_of_resource(swept_group())}
    group = findings["ec2_default_security_group_allows_inbound"]
    assert group["Resources"][0]["Type"] == "AwsEc2SecurityGroup"
    assert group["Resources"][0]["Region"] == "eu-west-1"
    assert group["Types"] == [
        "Software and Configuration Checks/AWS Security Best Practices",
        f"{STANDARDS_TYPE}/AWS-Foundational-Security-Best-Practices",
        f"{STANDARDS_TYPE}/CIS AWS Foundations Benchmark",
    ]
    assert group["ProductFields"]["secagent/sweepId"] == "sweep-1"
    assert findings["ec2_security_group_ssh_open_to_internet"]["Severity"]["Label"] == "HIGH"


def test_long_texts_are_clipped_to_security_hubs_limits(remediated: Report) -> None:
    data = remediated.model_dump(mode="json", by_alias=True)
    data["findings"][0]["title"] = "T" * 1100
    data["findings"][0]["checkId"] = "not_a_check_of_this_version"  # no rationale: the title describes it
    data["remediations"][0]["plan"]["title"] = "P" * 600
    findings = asff_of_report(Report.model_validate(data))
    first = findings[0]
    assert len(first["Title"]) == asff.MAX_TITLE and first["Title"].endswith("…")
    assert len(first["Description"]) == asff.MAX_DESCRIPTION
    planned = next(
        f
        for f in findings
        if f["ProductFields"].get("secagent/remediationId")
        == (data["remediations"][0]["plan"]["remediationId"])
    )
    assert len(planned["Remediation"]["Recommendation"]["Text"]) == asff.MAX_RECOMMENDATION
    for f in findings:
        assert len(f["ProductFields"]) <= asff.MAX_PRODUCT_FIELDS
        assert all(len(v) <= asff.MAX_PRODUCT_FIELD_VALUE for v in f["ProductFields"].values())
        assert len(f["Compliance"].get("RelatedRequirements", [])) <= asff.MAX_REQUIREMENTS


def many(n: int) -> list[dict[str, Any]]:
    """n distinct findings: the sweep's security group findings under n ids."""
    base = asff_of_resource(swept_group())[0]
    return [{**base, "Id": f"{base['Id']}-{i}"} for i in range(n)]


def test_batches_hold_at_most_100_findings_and_6_mb() -> None:
    assert [len(b) for b in batches(many(250))] == [100, 100, 50]
    assert [len(b) for b in batches(many(3), size=2)] == [2, 1]
    one = len(json.dumps(many(1)[0], separators=(",", ":")).encode())
    sized = list(batches(many(10), max_bytes=3 * one + 10))
    assert [len(b) for b in sized] == [3, 3, 3, 1]
    assert all(len(json.dumps(b, separators=(",", ":")).encode()) <= 3 * one + 10 for b in sized)
    assert [f["Id"] for b in sized for f in b] == [f["Id"] for f in many(10)]  # in order, each once
    with pytest.raises(ValueError, match="1 to 100"):
        next(batches(many(1), size=101))


@pytest.fixture()
def securityhub() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("securityhub", region_name=REGION)
        client.enable_security_hub()
        yield client


def test_250_findings_import_in_3_calls_of_at_most_100(securityhub: Any) -> None:
    sent: list[int] = []
    securityhub.meta.events.register(
        "provide-client-params.securityhub.BatchImportFindings",
        lambda params, **_: sent.append(len(params["Findings"])),
    )
    findings = many(250)
    summary = import_findings(securityhub, findings)
    assert (summary.imported, summary.failed, summary.failures) == (250, 0, [])
    assert sent == [100, 100, 50]
    stored = [f for page in securityhub.get_paginator("get_findings").paginate() for f in page["Findings"]]
    assert sorted(f["Id"] for f in stored) == sorted(f["Id"] for f in findings)


def test_imported_findings_keep_their_compliance_status(
    securityhub: Any, remediated: Report, planned: Report
) -> None:
    findings = all_findings(remediated, planned)
    # The two audits judge the same bucket: the plan audit's findings under their own ids here.
    findings = [{**f, "Id": f"{f['Id']}/{i}"} for i, f in enumerate(findings)]
    assert import_findings(securityhub, findings).imported == len(findings)
    stored = {
        f["Id"]: f for page in securityhub.get_paginator("get_findings").paginate() for f in page["Findings"]
    }
    for finding in findings:
        got = stored[finding["Id"]]
        assert got["Compliance"]["Status"] == finding["Compliance"]["Status"]
        if finding["ProductFields"]["secagent/status"] != "PASS":
            assert got["Compliance"]["Status"] != "PASSED", finding["GeneratorId"]
