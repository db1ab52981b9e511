"""Inputs in the shape Write Report and Scan Resource write them (schemaVersion 2), built from the
CLI tests' two real reports (saved from a LocalStack run as schemaVersion 1)."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from secagent.models.report import Report, ReportControl
from secagent.models.sweep import ResourceResult
from tests.unit.cli.conftest import load_report

ACCOUNT = "123456789012"
REGION = "us-east-1"
ANALYZED = "2026-11-25T15:39:05.000Z"
VERIFIED = "2026-11-25T15:39:11.000Z"
SWEPT_AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def finding_id(arn: str, check_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{arn}#{check_id}"))  # as secagent.workflow.report


def as_v2(v1: dict[str, Any]) -> dict[str, Any]:
    """A schemaVersion 1 report with the fields version 2 added, as Write Report fills them."""
    data = copy.deepcopy(v1)
    arn = f"arn:aws:s3:::{data['resource']['id']}"
    verified = data.get("verification") is not None
    data.update(
        schemaVersion="2",
        account=ACCOUNT,
        region=REGION,
        partition="aws",
        resourceArn=arn,
        product={"name": "secagent", "version": "0.1.0"},
        checkRegistry={"version": "0123456789abcdef", "checks": 16},
        summary=None,
        executions=[],
        reusedSteps=[],
    )
    for f in data["findings"]:
        f.update(
            findingId=finding_id(arn, f["checkId"]),
            controls=[ReportControl.parse(c).model_dump(by_alias=True) for c in f["controls"]],
            firstObservedAt=ANALYZED,
            lastObservedAt=VERIFIED if verified else ANALYZED,
        )
    return data


@pytest.fixture()
def remediated() -> Report:
    """PARTIALLY_REMEDIATED: 8 FAILs, 7 fixed by the approved plans, access logging still FAILs."""
    return Report.model_validate(as_v2(load_report("remediated")))


@pytest.fixture()
def planned() -> Report:
    """NON_COMPLIANT, no Verify: the plan report with one check UNKNOWN and one EXEMPT."""
    data = as_v2(load_report("plan"))
    for f in data["findings"]:
        if f["checkId"] == "s3_bucket_versioning_disabled":
            f.update(status="UNKNOWN", evidence={"unknownFields": ["versioning"]}, remediationId=None)
        if f["checkId"] == "s3_bucket_lifecycle_missing":
            exemption = {"source": "tag", "reason": "logs expire elsewhere", "until": "2027-01-31"}
            f.update(status="EXEMPT", evidence={**f["evidence"], "exemption": exemption}, remediationId=None)
    return Report.model_validate(data)


def swept_group(findings: list[dict[str, Any]] | None = None, **extra: Any) -> ResourceResult:
    group = "sg-0123abcd"
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/{group}"
    if findings is None:
        findings = [
            {
                "findingId": finding_id(arn, "ec2_security_group_ssh_open_to_internet"),
                "checkId": "ec2_security_group_ssh_open_to_internet",
                "title": "Security group allows SSH (port 22) from 0.0.0.0/0 or ::/0",
                "severity": "HIGH",
                "status": "FAIL",
                "controls": [
                    {"standard": "aws-foundational-security-best-practices/v/1.0.0", "control": "EC2.13"}
                ],
                "firstObservedAt": SWEPT_AT.isoformat(),
                "lastObservedAt": SWEPT_AT.isoformat(),
                "evidence": {"rules": [{"port": 22, "cidr": "0.0.0.0/0"}]},
                "remediationId": "ec2.close_internet_ssh",
            },
            {
                "findingId": finding_id(arn, "ec2_default_security_group_allows_inbound"),
                "checkId": "ec2_default_security_group_allows_inbound",
                "title": "VPC default security group allows inbound traffic",
                "severity": "HIGH",
                "status": "PASS",
                "controls": [
                    {"standard": "aws-foundational-security-best-practices/v/1.0.0", "control": "EC2.2"},
                    {"standard": "cis-aws-foundations-benchmark/v/3.0.0", "control": "5.4"},
                ],
                "firstObservedAt": SWEPT_AT.isoformat(),
                "lastObservedAt": SWEPT_AT.isoformat(),
                "evidence": {},
                "remediationId": None,
            },
        ]
    return ResourceResult.model_validate(
        {
            "sweepId": "sweep-1",
            "accountId": ACCOUNT,
            "region": "eu-west-1",
            "resource": {"type": "AWS::EC2::SecurityGroup", "id": group},
            "resourceArn": arn,
            "observedAt": SWEPT_AT.isoformat(),
            "outcome": "NON_COMPLIANT",
            "findings": findings,
            **extra,
        }
    )
