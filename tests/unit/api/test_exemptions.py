"""Exemptions through the API: requested by one person, approved by another, governed at the door,
sealed, and re-checked where they act.

Each attack test names the defence it proves: without it, the planted or crafted record would turn
a FAIL into EXEMPT (and so take the finding out of every remediation and every exit status).
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from secagent.api import BadRequest, Conflict, Forbidden, NotFound
from secagent.api.exemptions import approve_exemption, list_exemptions, request_exemption, revoke_exemption
from secagent.api.models import ExemptionRequest
from secagent.api.records import RecordStore
from secagent.api.settings import ApiSettings
from secagent.aws import ClientFactory
from secagent.checks import analyze
from secagent.checks.registry import list_checks
from secagent.models import AgentSettings, Snapshot, Status
from secagent.models.exemption import MAX_ACTIVE_PER_BUCKET, ExemptionRecord, exemption_key
from secagent.models.settings import TargetScope
from secagent.workflow.store import load_exemptions, write_sealed
from tests.unit.api.conftest import APPROVER, AUDITED_BUCKET, REPORT_BUCKET, REQUESTER, caller

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
TLS = "s3_bucket_tls_not_enforced"  # MEDIUM: a tag or an API record may exempt it
PUBLIC = "s3_bucket_policy_public"  # CRITICAL: only the deploy-time list may


def ask(records: RecordStore, settings: ApiSettings, **body: Any) -> Any:
    """REQUESTER asks for an exemption of TLS on the audited bucket (PENDING)."""
    data = {"bucket": AUDITED_BUCKET, "checkIds": [TLS], "reason": "served over TLS by CloudFront only"}
    data |= {"until": (NOW + timedelta(days=30)).date().isoformat()} | body
    request = ExemptionRequest.model_validate(data)
    return request_exemption(request, REQUESTER, list_checks(), settings, records, now=lambda: NOW)


def grant(records: RecordStore, settings: ApiSettings, **body: Any) -> Any:
    """Asked by REQUESTER, approved by APPROVER: ACTIVE."""
    asked = ask(records, settings, **body)
    return approve_exemption(asked.exemption_id, APPROVER, settings, records, now=lambda: NOW)


def statuses(snapshot: Snapshot, records: RecordStore) -> dict[str, Status]:
    snapshot.exemptions = load_exemptions(REPORT_BUCKET, AUDITED_BUCKET, records.sealer, records.clients)
    findings = analyze(snapshot, AgentSettings(), now=NOW).findings
    return {f.check_id: f.status for f in findings}


def evidence(snapshot: Snapshot, records: RecordStore, check_id: str) -> dict[str, Any]:
    snapshot.exemptions = load_exemptions(REPORT_BUCKET, AUDITED_BUCKET, records.sealer, records.clients)
    return next(
        f.evidence for f in analyze(snapshot, AgentSettings(), now=NOW).findings if f.check_id == check_id
    )


def test_a_request_exempts_nothing_until_another_person_approves_it(
    records: RecordStore, settings: ApiSettings, public_snapshot: Snapshot
) -> None:
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL
    asked = ask(records, settings)
    assert asked.status == "PENDING" and asked.requested_by == REQUESTER.arn and asked.approved_by is None
    assert asked.exemption_id.startswith(f"{AUDITED_BUCKET}.")
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL  # pending: nothing exempted
    approved = approve_exemption(asked.exemption_id, APPROVER, settings, records, now=lambda: NOW)
    assert approved.status == "ACTIVE" and approved.approved_by == APPROVER.arn
    after = statuses(public_snapshot, records)
    assert after[TLS] is Status.EXEMPT
    assert after[PUBLIC] is Status.FAIL  # only what was named
    exemption = evidence(public_snapshot, records, TLS)["exemption"]
    assert exemption == {
        "source": "api",
        "reason": "served over TLS by CloudFront only",
        "until": approved.until.isoformat(),
        "grantedBy": APPROVER.arn,
        "requestedBy": REQUESTER.arn,
        "exemptionId": approved.exemption_id,
    }


def test_attack_the_requester_cannot_approve_their_own_exemption(
    records: RecordStore, settings: ApiSettings, public_snapshot: Snapshot
) -> None:
    """Attack: one person exempts a HIGH finding alone. Defence: four-eyes, as for a fix (the same
    role under another session name is the same principal)."""
    asked = ask(records, settings)
    same_role = caller(REQUESTER.arn.rsplit("/", 1)[0] + "/another-session")
    for who in (REQUESTER, same_role, caller(None), caller("arn:aws:iam::123456789012:root")):
        with pytest.raises(Forbidden):
            approve_exemption(asked.exemption_id, who, settings, records, now=lambda: NOW)
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL
    # a lab deployment that allows self-approval (allowSelfApproval) lets the requester approve
    lab = settings.model_copy(update={"allow_self_approval": True})
    assert approve_exemption(asked.exemption_id, REQUESTER, lab, records, now=lambda: NOW).status == "ACTIVE"


def test_only_a_pending_exemption_is_approved(records: RecordStore, settings: ApiSettings) -> None:
    granted = grant(records, settings)
    with pytest.raises(Conflict, match="is ACTIVE"):
        approve_exemption(granted.exemption_id, APPROVER, settings, records, now=lambda: NOW)
    revoked = revoke_exemption(ask(records, settings).exemption_id, APPROVER, records, now=lambda: NOW)
    with pytest.raises(Conflict, match="is REVOKED"):
        approve_exemption(revoked.exemption_id, APPROVER, settings, records, now=lambda: NOW)


def test_revoked_exemption_exempts_nothing_and_cannot_be_revoked_twice(
    records: RecordStore, settings: ApiSettings, public_snapshot: Snapshot
) -> None:
    granted = grant(records, settings)
    revoked = revoke_exemption(granted.exemption_id, APPROVER, records, now=lambda: NOW)
    assert revoked.status == "REVOKED" and revoked.revoked_by == APPROVER.arn
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL
    with pytest.raises(Conflict):
        revoke_exemption(granted.exemption_id, APPROVER, records, now=lambda: NOW)
    listed = list_exemptions(AUDITED_BUCKET, records, now=lambda: NOW).exemptions
    assert [(e.exemption_id, e.status) for e in listed] == [(granted.exemption_id, "REVOKED")]


def test_an_exemption_expires_after_its_day(
    records: RecordStore, settings: ApiSettings, public_snapshot: Snapshot
) -> None:
    granted = grant(records, settings, until=NOW.date().isoformat())
    snapshot = public_snapshot
    snapshot.exemptions = load_exemptions(REPORT_BUCKET, AUDITED_BUCKET, records.sealer, records.clients)
    next_day = NOW + timedelta(days=1)
    finding = next(f for f in analyze(snapshot, AgentSettings(), now=next_day).findings if f.check_id == TLS)
    assert finding.status is Status.FAIL
    assert finding.evidence["exemptionExpired"] == {"until": str(granted.until), "source": "api"}
    listed = list_exemptions(AUDITED_BUCKET, records, now=lambda: next_day).exemptions
    assert listed[0].status == "EXPIRED"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"checkIds": [PUBLIC]}, "checkIds", "only the deploy-time exemptions setting"),
        ({"checkIds": ["s3_no_such_check"]}, "checkIds", "Unknown check ids: s3_no_such_check"),
        ({"until": (NOW + timedelta(days=91)).date().isoformat()}, "until", "more than 90 days ahead"),
        ({"until": (NOW - timedelta(days=1)).date().isoformat()}, "until", "in the past"),
        ({"until": "2026-02-30"}, "until", "not a YYYY-MM-DD date"),
    ],
)
def test_ungoverned_grants_are_400_and_write_nothing(
    records: RecordStore, settings: ApiSettings, s3: Any, body: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        ask(records, settings, **body)
    assert refused.value.field == field and says in refused.value.message
    assert not s3.list_objects_v2(Bucket=REPORT_BUCKET, Prefix="exemptions/").get("KeyCount")


def test_unsigned_callers_and_protected_buckets_are_403(records: RecordStore, settings: ApiSettings) -> None:
    request = ExemptionRequest.model_validate(
        {"bucket": AUDITED_BUCKET, "checkIds": [TLS], "reason": "r", "until": NOW.date().isoformat()}
    )
    with pytest.raises(Forbidden):
        request_exemption(request, caller(None), list_checks(), settings, records, now=lambda: NOW)
    protected = settings.model_copy(
        update={"scope": TargetScope(protected_buckets=frozenset({AUDITED_BUCKET}))}
    )
    with pytest.raises(Forbidden):
        request_exemption(request, REQUESTER, list_checks(), protected, records, now=lambda: NOW)
    with pytest.raises(NotFound):
        revoke_exemption("not-an-id", REQUESTER, records)


def test_blank_or_unprintable_reasons_and_unknown_fields_are_refused_by_the_model() -> None:
    base = {"bucket": AUDITED_BUCKET, "checkIds": [TLS], "until": "2026-12-01"}
    for body in (
        {**base, "reason": "   "},
        {**base, "reason": "ok\n\x1b[2K\rREVOKED"},  # would redraw another operator's terminal
        {**base, "reason": "r", "grantedBy": "arn:aws:iam::1:root"},
    ):
        with pytest.raises(ValueError):
            ExemptionRequest.model_validate(body)


# -- attacks: records the API did not write, or did not write this way -------------------------------


def _record(**changes: Any) -> ExemptionRecord:
    fields: dict[str, Any] = {
        "exemption_id": f"{AUDITED_BUCKET}.{'a' * 32}",
        "bucket": AUDITED_BUCKET,
        "check_ids": [TLS],
        "reason": "planted",
        "until": (NOW + timedelta(days=10)).date(),
        "requested_by": "arn:aws:iam::123456789012:user/mallory",
        "requested_by_principal": "arn:aws:iam::123456789012:user/mallory",
        "requested_at": NOW,
        "approved_by": "arn:aws:iam::123456789012:user/trent",
        "approved_at": NOW,
    }
    return ExemptionRecord(**(fields | changes))


def test_attack_a_planted_unsealed_record_exempts_nothing(
    records: RecordStore, s3: Any, public_snapshot: Snapshot
) -> None:
    """Defence: Discover verifies the API's seal (on AWS the bucket policy also refuses the write)."""
    record = _record()
    key = exemption_key(AUDITED_BUCKET, record.exemption_id)
    body = {"record": record.model_dump(mode="json", by_alias=True), "seal": "Zm9yZ2Vk"}
    s3.put_object(Bucket=REPORT_BUCKET, Key=key, Body=json.dumps(body).encode())
    assert load_exemptions(REPORT_BUCKET, AUDITED_BUCKET, records.sealer, records.clients) == []
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL


def test_attack_a_sealed_record_of_another_bucket_exempts_nothing(
    records: RecordStore, clients: ClientFactory, public_snapshot: Snapshot
) -> None:
    """Defence: the record must name the bucket whose prefix holds it (a copied record is refused)."""
    other = _record(exemption_id=f"other-bucket.{'b' * 32}", bucket="other-bucket")
    key = exemption_key(AUDITED_BUCKET, other.exemption_id)
    write_sealed(REPORT_BUCKET, key, other, records.sealer, clients)
    assert statuses(public_snapshot, records)[TLS] is Status.FAIL


@pytest.mark.parametrize(
    "crafted",
    [
        {"check_ids": [PUBLIC]},  # a CRITICAL check
        {"until": (NOW + timedelta(days=91)).date()},  # beyond the 90-day review
        {"revoked_at": NOW, "revoked_by": "arn:aws:iam::123456789012:user/bob"},
        {"approved_at": None, "approved_by": None},  # never approved by a second person
    ],
)
def test_attack_a_sealed_record_outside_the_rules_exempts_nothing(
    records: RecordStore, clients: ClientFactory, public_snapshot: Snapshot, crafted: dict[str, Any]
) -> None:
    """Defence: the registry re-checks every rule the API checked when granting (a record written
    by an older or buggy API, or a key leaked to sign one, gains nothing beyond them)."""
    record = _record(**crafted)
    write_sealed(
        REPORT_BUCKET, exemption_key(AUDITED_BUCKET, record.exemption_id), record, records.sealer, clients
    )
    result = statuses(public_snapshot, records)
    assert result[TLS] is Status.FAIL and result[PUBLIC] is Status.FAIL
    if crafted.get("check_ids") == [PUBLIC]:
        why = evidence(public_snapshot, records, PUBLIC)["exemptionNotApplied"]
        assert why["source"] == "api" and "never covers a CRITICAL finding" in why["why"]


def test_a_bucket_holds_at_most_so_many_active_exemptions(
    records: RecordStore, settings: ApiSettings
) -> None:
    for _ in range(MAX_ACTIVE_PER_BUCKET):
        ask(records, settings)
    with pytest.raises(Conflict, match="revoke one first"):
        ask(records, settings)
