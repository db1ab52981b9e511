"""AWS Security Finding Format (ASFF) findings for Security Hub's BatchImportFindings, one per check
finding, within Security Hub's documented field limits. docs/outputs.md maps every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from secagent.models.findings import Severity, Status
from secagent.models.report import STANDARDS, Report
from secagent.models.snapshot import BUCKET, SECURITY_GROUP
from secagent.models.sweep import ResourceResult
from secagent.outputs import source
from secagent.outputs.source import Observed, OutputError, Subject

SCHEMA_VERSION = "2018-10-08"
# Security Hub's limits (AwsSecurityFinding, BatchImportFindings; docs/outputs.md cites them).
MAX_TITLE = 256
MAX_DESCRIPTION = 1024
MAX_RECOMMENDATION = 512
MAX_PRODUCT_FIELDS = 50
MAX_PRODUCT_FIELD_KEY = 128
MAX_PRODUCT_FIELD_VALUE = 2048
MAX_REQUIREMENTS = 32
MAX_BATCH = 100
MAX_BATCH_BYTES = 6 * 1024 * 1024

RESOURCE_TYPES = {BUCKET: "AwsS3Bucket", SECURITY_GROUP: "AwsEc2SecurityGroup"}
SEVERITY_LABELS = {
    Severity.CRITICAL: "CRITICAL",
    Severity.HIGH: "HIGH",
    Severity.MEDIUM: "MEDIUM",
    Severity.LOW: "LOW",
    Severity.INFO: "INFORMATIONAL",
}
# EXEMPT stays FAILED (the control does fail); the exemption is the workflow (SUPPRESSED).
# UNKNOWN is NOT_AVAILABLE: the check could not be performed. Neither is ever PASSED.
COMPLIANCE_STATUS = {
    Status.PASS: "PASSED",
    Status.FAIL: "FAILED",
    Status.EXEMPT: "FAILED",
    Status.UNKNOWN: "NOT_AVAILABLE",
}
# Workflow.Status as Security Hub sets it for its own control findings (PASSED -> RESOLVED).
# Security Hub keeps a finding's workflow once it exists: this is the value a new finding starts with.
WORKFLOW_STATUS = {
    Status.PASS: "RESOLVED",
    Status.FAIL: "NEW",
    Status.EXEMPT: "SUPPRESSED",
    Status.UNKNOWN: "NEW",
}
BEST_PRACTICES = "Software and Configuration Checks/AWS Security Best Practices"
_STANDARD_TYPES = {
    STANDARDS["FSBP"]: "Software and Configuration Checks/Industry and Regulatory Standards/"
    "AWS-Foundational-Security-Best-Practices",
    STANDARDS["CIS-3.0"]: "Software and Configuration Checks/Industry and Regulatory Standards/"
    "CIS AWS Foundations Benchmark",
}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _iso(value: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and Z: one of the formats Security Hub accepts."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def product_arn(partition: str, region: str, account: str) -> str:
    """The account's own product (a custom integration): findings of the calling account only."""
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def _product_fields(subject: Subject, observed: Observed) -> dict[str, str]:
    f = observed.finding
    fields = {
        "ProviderName": source.PRODUCT_NAME,
        "ProviderVersion": subject.product_version,
        **{f"secagent/{key}": value for key, value in subject.context.items()},
        "secagent/checkId": f.check_id,
        "secagent/findingId": observed.finding_id,
        "secagent/status": str(observed.status),
    }
    if f.remediation_id:
        fields["secagent/remediationId"] = f.remediation_id
    if observed.remediation_result:
        fields["secagent/remediationResult"] = observed.remediation_result
    if observed.after is not None:
        fields["secagent/statusBeforeFix"] = str(f.status)
    return {
        _clip(key, MAX_PRODUCT_FIELD_KEY): _clip(value, MAX_PRODUCT_FIELD_VALUE)
        for key, value in list(fields.items())[:MAX_PRODUCT_FIELDS]
    }


def _finding(subject: Subject, observed: Observed) -> dict[str, Any]:
    f, status = observed.finding, observed.status
    resource_type = RESOURCE_TYPES.get(subject.resource.type)
    if resource_type is None:
        raise OutputError(f"no ASFF resource type for {subject.resource.type}")
    controls = observed.controls
    detail = source.status_detail(observed)
    verdict = detail or f"Status: {status}"
    description = f"{source.rationale(f.check_id) or f.title} {verdict}."
    recommendation: dict[str, str] = {
        "Text": _clip(source.remediation_text(observed, subject), MAX_RECOMMENDATION)
    }
    if url := next((u for c in controls if (u := source.control_url(c))), None):
        recommendation["Url"] = url
    compliance: dict[str, Any] = {"Status": COMPLIANCE_STATUS[status]}
    if controls:
        compliance["RelatedRequirements"] = [source.requirement(c) for c in controls][:MAX_REQUIREMENTS]
        compliance["AssociatedStandards"] = [
            {"StandardsId": f"standards/{s}"} for s in dict.fromkeys(c.standard for c in controls)
        ]
    if control_id := source.security_control_id(controls):
        compliance["SecurityControlId"] = control_id
    return {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": observed.finding_id,
        "ProductArn": product_arn(subject.partition, subject.region, subject.account),
        "GeneratorId": f.check_id,
        "AwsAccountId": subject.account,
        "Types": [BEST_PRACTICES, *dict.fromkeys(_STANDARD_TYPES[c.standard] for c in controls)],
        "FirstObservedAt": _iso(observed.first_seen),
        "LastObservedAt": _iso(observed.last_seen),
        "CreatedAt": _iso(observed.first_seen),
        "UpdatedAt": _iso(observed.last_seen),
        "Severity": {"Label": SEVERITY_LABELS[f.severity], "Original": str(f.severity)},
        "Title": _clip(f.title, MAX_TITLE),
        "Description": _clip(description, MAX_DESCRIPTION),
        "Remediation": {"Recommendation": recommendation},
        "ProductFields": _product_fields(subject, observed),
        "Resources": [
            {
                "Type": resource_type,
                "Id": subject.resource_arn,
                "Partition": subject.partition,
                "Region": subject.region,
            }
        ],
        "Compliance": compliance,
        "Workflow": {"Status": WORKFLOW_STATUS[status]},
        "RecordState": "ACTIVE",
    }


def asff_of_report(report: Report) -> list[dict[str, Any]]:
    """One ASFF finding per check finding of an audit: its status is what is true now (Verify's
    verdict when it ran); ``ProductFields['secagent/statusBeforeFix']`` keeps the first one."""
    subject, observed = source.of_report(report)
    return [_finding(subject, o) for o in observed]


def asff_of_resource(result: ResourceResult) -> list[dict[str, Any]]:
    """One ASFF finding per check finding of a swept resource; none when it could not be judged."""
    subject, observed = source.of_resource(result)
    return [_finding(subject, o) for o in observed]


def _size(finding: dict[str, Any]) -> int:
    return len(json.dumps(finding, separators=(",", ":")).encode())


def batches(
    findings: Iterable[dict[str, Any]], size: int = MAX_BATCH, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[list[dict[str, Any]]]:
    """Findings in order, in batches BatchImportFindings takes: at most ``size`` (≤ 100) findings
    and ``max_bytes`` (6 MB) of JSON each."""
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} findings, not {size}")
    batch: list[dict[str, Any]] = []
    used = 2  # the brackets of the JSON array
    for finding in findings:
        cost = _size(finding) + 1  # and its comma
        if batch and (len(batch) == size or used + cost > max_bytes):
            yield batch
            batch, used = [], 2
        batch.append(finding)
        used += cost
    if batch:
        yield batch
