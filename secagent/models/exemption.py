"""An exemption a person granted through the audit API (``exemptions/{bucket}/{id}.json``, sealed).

The governed counterpart of the bucket tags (secagent.checks.exemptions): a reason and an expiry
at most ``MAX_DAYS`` ahead are required, a CRITICAL finding is never exempted this way, one person
requests it and another approves it (four-eyes, as for a fix), and both (as STS proved them) are
named in every finding it exempts. Only the API's
role writes the prefix and seals the record; Discover reads the bucket's records and verifies
each seal, so a planted or edited record exempts nothing.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field as PydanticField

from secagent.models.base import CamelModel

EXEMPTIONS_PREFIX = "exemptions/"
MAX_DAYS = 90  # as for a bucket tag: renewed at least every 90 days
MAX_REASON_CHARS = 500
MAX_ACTIVE_PER_BUCKET = 20  # a bucket needs a handful; Discover reads them all on every audit

ExemptionStatus = Literal["PENDING", "ACTIVE", "EXPIRED", "REVOKED"]


def exemptions_prefix(bucket: str) -> str:
    return f"{EXEMPTIONS_PREFIX}{bucket}/"


def exemption_key(bucket: str, exemption_id: str) -> str:
    return f"{exemptions_prefix(bucket)}{exemption_id}.json"


class ExemptionRecord(CamelModel):
    """Requested by one person, approved by another (four-eyes, as for fixes): only then ACTIVE."""

    exemption_id: str
    bucket: str
    check_ids: list[str] = PydanticField(min_length=1)
    reason: str = PydanticField(min_length=1, max_length=MAX_REASON_CHARS)
    until: date  # applies up to and including this UTC day
    requested_by: str  # the caller's ARN, as STS proved it
    requested_by_principal: str  # what four-eyes compares (secagent.api.identity.principal_of)
    requested_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    revoked_by: str | None = None
    revoked_at: datetime | None = None

    def status(self, today: date) -> ExemptionStatus:
        if self.revoked_at is not None:
            return "REVOKED"
        if today > self.until:
            return "EXPIRED"
        return "ACTIVE" if self.approved_at is not None else "PENDING"
