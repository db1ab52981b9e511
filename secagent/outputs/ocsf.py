"""OCSF Compliance Finding (class_uid 2003), with the cloud and datetime profiles, built with
py-ocsf-models (the OCSF version it targets: ``OCSF_VERSION``). docs/outputs.md maps every field.

One OCSF finding per check finding. Three OCSF 1.5.0 attributes the library does not model are
added to its output as the schema defines them: the event's ``cloud`` (required by the cloud
profile), ``compliance.status`` and ``compliance.status_detail``. The tests validate the result
against the JSON Schema of compliance_finding 1.5.0 (tests/unit/outputs/README.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from py_ocsf_models import OCSF_VERSION as _LIBRARY_OCSF_VERSION
from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from secagent.models.findings import Severity, Status
from secagent.models.report import Report
from secagent.models.sweep import ResourceResult
from secagent.outputs import source
from secagent.outputs.source import Observed, Subject

OCSF_VERSION: str = _LIBRARY_OCSF_VERSION
CLASS_NAME = "Compliance Finding"  # the schema's caption (the library's default is "ComplianceFinding")
PROFILES = ["cloud", "datetime"]

SEVERITY_IDS = {
    Severity.CRITICAL: SeverityID.Critical,
    Severity.HIGH: SeverityID.High,
    Severity.MEDIUM: SeverityID.Medium,
    Severity.LOW: SeverityID.Low,
    Severity.INFO: SeverityID.Informational,
}
# compliance.status_id. EXEMPT stays Fail: the configuration does fail the control; that a person
# accepted it is the finding's workflow (status_id Suppressed) and compliance.status_detail.
# UNKNOWN is Unknown (ASFF's NOT_AVAILABLE): the check could not decide; never Pass.
COMPLIANCE_STATUS = {
    Status.PASS: ComplianceStatusID.Pass,
    Status.FAIL: ComplianceStatusID.Fail,
    Status.EXEMPT: ComplianceStatusID.Fail,
    Status.UNKNOWN: ComplianceStatusID.Unknown,
}
# The finding's own status_id (its workflow), as Security Hub sets Workflow.Status for ASFF.
FINDING_STATUS = {
    Status.PASS: StatusID.Resolved,
    Status.FAIL: StatusID.New,
    Status.EXEMPT: StatusID.Suppressed,
    Status.UNKNOWN: StatusID.New,
}
_SEVERITY_CAPTIONS = {SeverityID.Informational: "Informational"}


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _caption(value: SeverityID | StatusID | ComplianceStatusID) -> str:
    return str(_SEVERITY_CAPTIONS.get(value, value.name) if isinstance(value, SeverityID) else value.name)


def _evidence(
    step: str, status: Status, observed_at: datetime, evidence: dict[str, Any]
) -> EvidenceArtifacts:
    return EvidenceArtifacts(
        name="before" if step == "Analyze" else "after",
        data={
            "step": step,
            "status": str(status),
            "observedAt": observed_at.isoformat(),
            "evidence": evidence,
        },
    )


def _finding(subject: Subject, observed: Observed) -> dict[str, Any]:
    f, status = observed.finding, observed.status
    controls = observed.controls
    severity_id = SEVERITY_IDS[f.severity]
    compliance_status = COMPLIANCE_STATUS[status]
    finding_status = FINDING_STATUS[status]
    detail = source.status_detail(observed)
    rationale = source.rationale(f.check_id)
    standards = list(dict.fromkeys(c.standard for c in controls)) or None
    # Before/after: OCSF's evidences (artifacts of the detection), one per analysis, in `data`.
    evidences = [_evidence("Analyze", f.status, observed.first_seen, f.evidence)]
    if observed.after is not None:
        evidences.append(
            _evidence("Verify", observed.after.status, observed.last_seen, observed.after.evidence)
        )
    references = [url for c in controls if (url := source.control_url(c))]
    event = ComplianceFinding(
        metadata=Metadata(
            product=Product(
                name=source.PRODUCT_NAME, vendor_name=source.PRODUCT_NAME, version=subject.product_version
            ),
            version=OCSF_VERSION,
            profiles=PROFILES,
            event_code=f.check_id,
            correlation_uid=subject.context.get("auditId") or subject.context.get("sweepId"),
        ),
        activity_id=ActivityID.Create,
        activity_name=ActivityID.Create.name,
        type_uid=ComplianceFindingTypeID.Create,
        type_name=f"{CLASS_NAME}: {ActivityID.Create.name}",
        class_name=CLASS_NAME,
        severity_id=severity_id,
        severity=_caption(severity_id),
        status_id=finding_status,
        status=_caption(finding_status),
        status_code=str(status),
        status_detail=detail,
        message=f.title,
        time=_ms(observed.last_seen),
        time_dt=observed.last_seen,
        finding_info=FindingInformation(
            uid=observed.finding_id,
            title=f.title,
            desc=rationale,
            first_seen_time=_ms(observed.first_seen),
            first_seen_time_dt=observed.first_seen,
            last_seen_time=_ms(observed.last_seen),
            last_seen_time_dt=observed.last_seen,
        ),
        compliance=Compliance(
            standards=standards,
            requirements=[source.requirement(c) for c in controls] or None,
            control=source.security_control_id(controls) or (controls[0].label if controls else None),
            status_id=compliance_status,
            checks=[
                Check(
                    uid=f.check_id,
                    name=f.title,
                    desc=rationale,
                    severity=_caption(severity_id),
                    severity_id=severity_id,
                    standards=standards,
                    status=_caption(compliance_status),
                    status_id=compliance_status,
                )
            ],
        ),
        resources=[
            ResourceDetails(
                uid=subject.resource_arn,
                name=subject.resource_name,
                type=subject.resource.type,
                region=subject.region,
                cloud_partition=subject.partition,
            )
        ],
        remediation=Remediation(
            desc=source.remediation_text(observed, subject), references=references or None
        ),
        evidences=evidences,
        unmapped={
            **subject.context,
            "checkId": f.check_id,
            "status": str(status),
            **({"remediationId": f.remediation_id} if f.remediation_id else {}),
            **({"remediationResult": observed.remediation_result} if observed.remediation_result else {}),
        },
    )
    out: dict[str, Any] = event.model_dump(mode="json", exclude_none=True)
    # OCSF 1.5.0 attributes py-ocsf-models 0.10.0 lacks (see the module docstring).
    out["cloud"] = Cloud(
        provider="AWS",
        region=subject.region,
        account=Account(
            name=subject.account, uid=subject.account, type_id=TypeID.AWS_Account, type="AWS Account"
        ),
    ).model_dump(mode="json", exclude_none=True)
    out["compliance"]["status"] = _caption(compliance_status)
    if detail:
        out["compliance"]["status_detail"] = detail
    return out


def ocsf_of_report(report: Report) -> list[dict[str, Any]]:
    """One OCSF Compliance Finding per check finding of an audit; each says what is true now
    (Verify's verdict when it ran) with the first analysis' evidence as ``evidences[0]``."""
    subject, observed = source.of_report(report)
    return [_finding(subject, o) for o in observed]


def ocsf_of_resource(result: ResourceResult) -> list[dict[str, Any]]:
    """One OCSF Compliance Finding per check finding of a swept resource; none when it could not
    be judged."""
    subject, observed = source.of_resource(result)
    return [_finding(subject, o) for o in observed]
