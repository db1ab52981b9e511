"""Who sends a state-changing request is proven by STS, not taken from the request context.

The API function can be invoked directly (lambda:InvokeFunction) with any request context; the
proof is a GetCallerIdentity only the caller's credentials can sign, bound to the request.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from typing import Any

import boto3
import pytest

from secagent import proof
from secagent.api.errors import Forbidden
from secagent.api.identity import StsIdentity
from secagent.client import ApiUnreachable, AuditApiClient

ALICE = "arn:aws:sts::111122223333:assumed-role/Auditor/alice"
BOB = "arn:aws:sts::111122223333:assumed-role/Approver/bob"
BODY = json.dumps({"decision": "approve", "planDigest": "ab" * 32}).encode()
PATH = "/audits/a1/approval"


class FakeSts:
    """STS as the API reaches it: it answers the identity of whoever signed the request."""

    def __init__(self, signers: dict[str, str]) -> None:
        self.signers = signers  # access key id -> ARN
        self.sent: list[tuple[str, dict[str, str]]] = []

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        self.sent.append((url, headers))
        key = headers.get("authorization", "").split("Credential=")[-1].split("/")[0]
        if key not in self.signers or body.decode() != proof.STS_BODY:
            return 403, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
        arn = self.signers[key]
        return 200, f"<GetCallerIdentityResponse><Arn>{arn}</Arn></GetCallerIdentityResponse>".encode()


def proof_header(
    access_key: str, method: str = "POST", path: str = PATH, body: bytes = BODY
) -> dict[str, str]:
    """The header AuditApiClient sends, made with `access_key`'s credentials."""
    session = boto3.Session(
        aws_access_key_id=access_key, aws_secret_access_key="secret", region_name="eu-west-1"
    )
    client = AuditApiClient("https://abc123.execute-api.eu-west-1.amazonaws.com/v1", session=session)
    credentials = session.get_credentials().get_frozen_credentials()
    return {proof.PROOF_HEADER: client._identity_proof(credentials, "eu-west-1", method, path, body)}


def context(arn: str | None) -> dict[str, Any]:
    return {"identity": {"userArn": arn}} if arn else {"identity": {}}


@pytest.fixture
def sts() -> FakeSts:
    return FakeSts({"AKIAALICE": ALICE, "AKIABOB": BOB})


def test_the_proven_caller_is_who_signed_the_proof(sts: FakeSts) -> None:
    identity = StsIdentity("eu-west-1", post=sts)
    caller = identity.caller(context(BOB), proof_header("AKIABOB"), "POST", PATH, BODY)
    assert caller.arn == BOB and caller.principal == "arn:aws:iam::111122223333:role/Approver"
    # It went to this region's STS, with the request's binding signed in
    [(url, headers)] = sts.sent
    assert url == "https://sts.eu-west-1.amazonaws.com/"
    assert headers[proof.BINDING_HEADER.lower()] == proof.binding("POST", PATH, BODY)


def test_a_direct_invocation_with_a_forged_context_and_no_proof_is_refused(sts: FakeSts) -> None:
    # Given Alice invokes the function herself, writing Bob into the request context
    identity = StsIdentity("eu-west-1", post=sts)
    with pytest.raises(Forbidden, match="must prove who sends it"):
        identity.caller(context(BOB), {}, "POST", PATH, BODY)
    assert sts.sent == []


def test_a_forged_context_with_the_senders_own_proof_is_refused(sts: FakeSts) -> None:
    # Alice's own proof, Bob's name in the context: the proof wins, and the mismatch is refused
    identity = StsIdentity("eu-west-1", post=sts)
    with pytest.raises(Forbidden, match="another caller"):
        identity.caller(context(BOB), proof_header("AKIAALICE"), "POST", PATH, BODY)


def test_a_proof_signed_in_another_account_is_refused() -> None:
    """Attack: a direct invoker of the API function brings a proof of a principal in an account of
    their own (a "CISO" to grant exemptions, a "second person" for four-eyes). Defence: only the
    deployment's account's principals are anybody here, as API Gateway's IAM authorization admits."""
    outsider = "arn:aws:iam::999988887777:user/ciso"
    sts = FakeSts({"AKIAOUTSIDER": outsider, "AKIABOB": BOB})
    identity = StsIdentity("eu-west-1", post=sts, account="111122223333")
    with pytest.raises(Forbidden, match="another account than 111122223333"):
        identity.caller(context(None), proof_header("AKIAOUTSIDER"), "POST", PATH, BODY)
    assert identity.caller(context(BOB), proof_header("AKIABOB"), "POST", PATH, BODY).arn == BOB


def test_a_proof_for_another_request_is_refused(sts: FakeSts) -> None:
    # Bob's proof of another request (a reject, say) cannot approve
    identity = StsIdentity("eu-west-1", post=sts)
    other = proof_header("AKIABOB", body=json.dumps({"decision": "reject"}).encode())
    with pytest.raises(Forbidden, match="another request"):
        identity.caller(context(None), other, "POST", PATH, BODY)
    assert sts.sent == []


@pytest.mark.parametrize(
    "url",
    [
        "https://attacker.example/",
        "http://sts.eu-west-1.amazonaws.com/",
        "https://sts.us-east-1.amazonaws.com.evil/",
    ],
)
def test_a_proof_is_sent_only_to_sts(sts: FakeSts, url: str) -> None:
    header = proof_header("AKIABOB")
    _, headers = proof.decode(header[proof.PROOF_HEADER])
    forged = {proof.PROOF_HEADER: proof.encode(headers, url)}
    with pytest.raises(Forbidden, match="STS endpoint"):
        StsIdentity("eu-west-1", post=sts).caller(context(None), forged, "POST", PATH, BODY)
    assert sts.sent == []


def test_a_proof_sts_does_not_accept_is_refused(sts: FakeSts) -> None:
    with pytest.raises(Forbidden, match="did not accept"):
        StsIdentity("eu-west-1", post=sts).caller(
            context(None), proof_header("AKIAMALLORY"), "POST", PATH, BODY
        )


def test_on_an_emulator_the_proof_goes_to_its_endpoint_only(sts: FakeSts) -> None:
    session = boto3.Session(aws_access_key_id="AKIABOB", aws_secret_access_key="s", region_name="us-east-1")
    client = AuditApiClient("http://127.0.0.1:4566/_aws/execute-api/abc/v1", session=session)
    credentials = session.get_credentials().get_frozen_credentials()
    header = {proof.PROOF_HEADER: client._identity_proof(credentials, "us-east-1", "POST", PATH, BODY)}
    assert (
        StsIdentity("us-east-1", "http://127.0.0.1:4566", post=sts)
        .caller(context(None), header, "POST", PATH, BODY)
        .arn
        == BOB
    )
    with pytest.raises(Forbidden):
        StsIdentity("us-east-1", "http://127.0.0.1:4567", post=sts).caller(
            context(None), header, "POST", PATH, BODY
        )


def test_the_client_proves_every_state_changing_request_and_no_read(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, str]] = []

    def fake_urlopen(request: Any, timeout: float = 0) -> Any:
        sent.append({k.lower(): v for k, v in request.header_items()})
        raise urllib.error.URLError("not sent in a unit test")

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    session = boto3.Session(aws_access_key_id="AKIABOB", aws_secret_access_key="s", region_name="us-east-1")
    client = AuditApiClient("https://abc.execute-api.us-east-1.amazonaws.com/v1", session=session)
    for call in (lambda: client.get_audit("a1"), lambda: client.decide("a1", "reject")):
        with contextlib.suppress(ApiUnreachable):
            call()
    get, post = sent
    assert proof.PROOF_HEADER.lower() not in get and proof.PROOF_HEADER.lower() in post
