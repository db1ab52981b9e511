"""The trusted records and their seals (secagent.workflow.store) on moto: KMS HMAC and S3."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from secagent.aws import ClientFactory
from secagent.models import ResourceRef
from secagent.models.errors import StoreUnavailable
from secagent.models.records import AuditRequest, Decision
from secagent.workflow.checkpoints import checkpoint_key
from secagent.workflow.store import (
    KmsSealer,
    SealBroken,
    canonical,
    decision_key,
    read_object,
    read_sealed,
    request_key,
    token_key,
    write_object,
    write_sealed,
)
from tests.unit.awsfakes import failing_clients
from tests.unit.workflow.conftest import AUDIT, BUCKET, REPORTS, hmac_key

KEY = decision_key(AUDIT)


def _decision(**changes: Any) -> Decision:
    fields: dict[str, Any] = {
        "audit_id": AUDIT,
        "resource": ResourceRef(id=BUCKET),
        "mode": "remediate",
        "decision": "approve",
        "remediation_ids": ["s3.enable_versioning"],
        "selection": "named",
        "plan_digest": "a" * 64,
        "approver": "arn:aws:iam::123456789012:user/bob",
        "requested_by": "arn:aws:iam::123456789012:user/alice",
        "decided_at": datetime(2025, 3, 1, 12, 3, tzinfo=UTC),
    }
    return Decision(**(fields | changes))


def _stored(clients: ClientFactory, key: str = KEY) -> dict[str, Any]:
    stored = read_object(REPORTS, key, clients)
    assert stored is not None
    return stored


def test_keys_one_prefix_per_record() -> None:
    assert (request_key("a"), decision_key("a"), token_key("a", "a_r1")) == (
        "requests/a.json",
        "decisions/a.json",
        "tokens/a/a_r1.json",  # one token per execution of the audit
    )


def test_sealed_record_reads_back_as_written(clients: ClientFactory, sealer: KmsSealer) -> None:
    # Given a decision sealed by the API's key
    decision = _decision()
    write_sealed(REPORTS, KEY, decision, sealer, clients)
    # When it is read with the same key
    read = read_sealed(REPORTS, KEY, Decision, sealer, clients)
    # Then it is the same decision, stored as {record, seal} with the record in camelCase
    assert read == decision
    stored = _stored(clients)
    assert set(stored) == {"record", "seal"} and stored["record"]["planDigest"] == "a" * 64


def test_read_sealed_of_no_record_is_none(clients: ClientFactory, sealer: KmsSealer) -> None:
    assert read_sealed(REPORTS, KEY, Decision, sealer, clients) is None


def _no_seal(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    del stored["seal"]


def _seal_not_a_string(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    stored["seal"] = {"mac": stored["seal"]}


def _seal_not_base64(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    stored["seal"] = "not base64 at all!"


def _seal_of_another_key(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    stored["seal"] = KmsSealer(hmac_key(session), clients).seal(canonical(stored["record"]))


def _record_edited(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    stored["record"]["remediationIds"].append("s3control.put_public_access_block")


def _record_not_an_object(stored: dict[str, Any], session: boto3.Session, clients: ClientFactory) -> None:
    stored["record"] = json.dumps(stored["record"])


@pytest.mark.parametrize(
    "forge",
    [
        _no_seal,
        _seal_not_a_string,
        _seal_not_base64,
        _seal_of_another_key,
        _record_edited,
        _record_not_an_object,
    ],
)
def test_read_sealed_refuses_a_record_whose_seal_does_not_match(
    session: boto3.Session, clients: ClientFactory, sealer: KmsSealer, forge: Any
) -> None:
    # Given a genuine sealed decision, then rewritten by someone without the API's key
    write_sealed(REPORTS, KEY, _decision(), sealer, clients)
    stored = _stored(clients)
    forge(stored, session, clients)
    write_object(REPORTS, KEY, stored, clients)
    # When / Then it is not taken for a decision
    with pytest.raises(SealBroken, match="not sealed by the audit API"):
        read_sealed(REPORTS, KEY, Decision, sealer, clients)


def test_read_sealed_refuses_a_sealed_record_of_another_kind(
    clients: ClientFactory, sealer: KmsSealer
) -> None:
    # Given a genuine sealed request record copied to the decision's key
    request = AuditRequest(
        audit_id=AUDIT,
        resource=ResourceRef(id=BUCKET),
        mode="remediate",
        approval_timeout_seconds=3600,
        requested_by="arn:aws:iam::123456789012:user/alice",
        requested_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
    )
    write_sealed(REPORTS, request_key(AUDIT), request, sealer, clients)
    write_object(REPORTS, KEY, _stored(clients, request_key(AUDIT)), clients)
    # When / Then the seal is valid, but it does not hold a Decision
    with pytest.raises(SealBroken, match="does not hold a Decision"):
        read_sealed(REPORTS, KEY, Decision, sealer, clients)


def test_kms_sealer_verifies_only_its_own_seal_of_the_same_message(
    session: boto3.Session, clients: ClientFactory, sealer: KmsSealer
) -> None:
    # Given a seal made with the API's key
    seal = sealer.seal(b'{"decision":"approve"}')
    # Then it verifies that message with that key, and nothing else
    assert sealer.verify(b'{"decision":"approve"}', seal) is True
    assert sealer.verify(b'{"decision":"reject"}', seal) is False
    assert KmsSealer(hmac_key(session), clients).verify(b'{"decision":"approve"}', seal) is False
    assert sealer.verify(b'{"decision":"approve"}', "%%%") is False


def test_kms_sealer_seals_a_digest_so_large_records_can_be_sealed(
    session: boto3.Session, clients: ClientFactory, sealer: KmsSealer
) -> None:
    # Given a record far above KMS's 4 KiB message limit (a decision with many plans)
    large = _decision(remediation_ids=[f"s3.fix_{i:04d}" for i in range(1000)])
    content = canonical(large.model_dump(mode="json", by_alias=True))
    assert len(content) > 4096
    sent: list[bytes] = []
    session.events.register(
        "before-parameter-build.kms.*", lambda params, **_: sent.append(params.get("Message", b""))
    )
    # When it is sealed and read back
    write_sealed(REPORTS, KEY, large, sealer, clients)
    assert read_sealed(REPORTS, KEY, Decision, sealer, clients) == large
    # Then KMS only ever saw the SHA-256 of the record (GenerateMac, then VerifyMac)
    assert sent == [hashlib.sha256(content).digest()] * 2


def test_canonical_is_independent_of_key_order() -> None:
    assert canonical({"b": 1, "a": [2, {"d": 3, "c": "é"}]}) == canonical(
        {"a": [2, {"c": "é", "d": 3}], "b": 1}
    )
    assert canonical({"a": "é"}) == '{"a":"é"}'.encode()


def test_write_once_refuses_a_second_record(clients: ClientFactory, sealer: KmsSealer) -> None:
    # Given a decision written once
    first = _decision()
    write_sealed(REPORTS, KEY, first, sealer, clients, once=True)
    # When a second decision is written once on the same audit
    with pytest.raises(ClientError) as err:
        write_sealed(REPORTS, KEY, _decision(decision="reject"), sealer, clients, once=True)
    # Then S3 refuses it and the first decision stands
    assert err.value.response["Error"]["Code"] == "PreconditionFailed"
    assert read_sealed(REPORTS, KEY, Decision, sealer, clients) == first


def test_write_object_without_once_overwrites(clients: ClientFactory) -> None:
    key = checkpoint_key(AUDIT, "verification")  # a checkpoint: rewritten as its step goes
    write_object(REPORTS, key, {"run": 1}, clients)
    write_object(REPORTS, key, {"run": 2}, clients)
    assert read_object(REPORTS, key, clients) == {"run": 2}


def test_write_object_stores_json(session: boto3.Session, clients: ClientFactory) -> None:
    write_object(REPORTS, "checkpoints/a/discovery.json", {"a": 1}, clients)
    obj = session.client("s3").get_object(Bucket=REPORTS, Key="checkpoints/a/discovery.json")
    assert obj["ContentType"] == "application/json" and json.loads(obj["Body"].read()) == {"a": 1}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"a string"'])
def test_read_object_that_is_not_a_json_object_is_none(
    session: boto3.Session, clients: ClientFactory, body: bytes
) -> None:
    session.client("s3").put_object(Bucket=REPORTS, Key=KEY, Body=body)
    assert read_object(REPORTS, KEY, clients) is None


def test_read_object_denied_is_an_error_not_an_absent_record(session: boto3.Session) -> None:
    # Given the report bucket refuses the read: a record that cannot be read is not "no record",
    # and it is the deployment's problem, never the audited bucket's (not AccessDenied)
    clients, hits = failing_clients(session, {"s3.GetObject": (403, "AccessDenied")})
    # When / Then
    with pytest.raises(StoreUnavailable):
        read_object(REPORTS, KEY, clients)
    assert hits == ["s3.GetObject"]
