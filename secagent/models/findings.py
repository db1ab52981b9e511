"""Check metadata and results."""

from enum import StrEnum
from typing import Any

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel


class Severity(StrEnum):
    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Status(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    UNKNOWN = "UNKNOWN"
    EXEMPT = "EXEMPT"  # would FAIL, but an exemption (bucket tag or deploy-time allow-list) accepts it


class CheckMeta(CamelModel):
    id: str
    title: str
    severity: Severity
    rationale: str
    controls: list[str]  # "FSBP:S3.8", "CIS:2.1.4" (CIS AWS Foundations v3.0.0)
    remediation_id: str
    requires: list[str]  # S3BucketConfig fields the check reads; unknown -> UNKNOWN
    # Fields the verdict also reads in some cases, or does without at the cost of a different
    # verdict (Block Public Access neutralising, S3's own policy status): never UNKNOWN for them.
    also_reads: list[str] = PydanticField(default_factory=list)


class Finding(CamelModel):
    """One check's verdict on one resource (named CheckResult in the issue)."""

    check_id: str
    title: str
    severity: Severity
    status: Status
    controls: list[str]
    resource_id: str
    evidence: dict[str, Any] = PydanticField(default_factory=dict)
    remediation_id: str | None = None
    rationale: str = ""
    error: str | None = None


CheckResult = Finding


class Summary(CamelModel):
    """Counts by status; ``fail`` excludes EXEMPT findings (the workflow remediates when fail > 0)."""

    pass_: int = PydanticField(0, alias="pass")
    fail: int = 0
    unknown: int = 0
    exempt: int = 0

    @classmethod
    def of(cls, findings: "list[Finding]") -> "Summary":
        return cls.model_validate(
            {
                "pass": sum(f.status is Status.PASS for f in findings),
                "fail": sum(f.status is Status.FAIL for f in findings),
                "unknown": sum(f.status is Status.UNKNOWN for f in findings),
                "exempt": sum(f.status is Status.EXEMPT for f in findings),
            }
        )


class AnalysisResult(CamelModel):
    resource_id: str
    snapshot_read_at: str
    checks_run: int
    findings: list[Finding]
    summary: Summary
    duration_ms: float = 0.0
