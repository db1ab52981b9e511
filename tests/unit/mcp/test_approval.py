"""decide_approval approves only what a person confirmed through MCP elicitation, never the model alone.

Each approval test runs on both transports the SDK has for elicitation: `auto` negotiates
2026-07-28 (the question rides an `InputRequiredResult` and the client retries with the answer) and
`legacy` the handshake era (a server-to-client `elicitation/create` request mid-call).
"""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp_types import ElicitRequestParams, ElicitResult

from secagent.client import ApiResponse
from secagent.mcp import server as server_module
from tests.unit.checks.snapshots import BUCKET
from tests.unit.mcp.fakes import FakeApi, FakeBackend, payload, text, with_client

AUDIT_ID = "0b7f3c9e-1d2a-4c5b-8e6f-7a8b9c0d1e2f"
PREVIEW_DIGEST = "ab" * 32
MODEL_DIGEST = "ee" * 32
MODES = ["auto", "legacy"]
APPROVED = ApiResponse(
    200,
    {
        "auditId": AUDIT_ID,
        "decision": "approve",
        "remediationIds": ["s3_bucket_versioning"],
        "planDigest": PREVIEW_DIGEST,
    },
)


def plan(order: int, remediation_id: str, title: str, risk: str, *, reversible: bool) -> dict[str, Any]:
    return {
        "order": order,
        "remediationId": remediation_id,
        "title": title,
        "resourceId": BUCKET,
        "risk": risk,
        "reversible": reversible,
        "cliCommand": f"aws s3api something --bucket {BUCKET}",
    }


def preview(digest: str = PREVIEW_DIGEST) -> ApiResponse:
    return ApiResponse(
        200,
        {
            "auditId": AUDIT_ID,
            "selection": "default",
            "remediationIds": ["s3_bucket_versioning"],
            "plans": [
                plan(1, "s3_bucket_versioning", "Enable versioning", "Old versions are kept", reversible=True)
            ],
            "planDigest": digest,
            "leftOut": [
                {
                    "remediationId": "s3_account_block_public_access",
                    "reason": "account-wide: it changes every bucket in the account",
                }
            ],
        },
    )


def awaiting(resource: dict[str, str] | None = None) -> ApiResponse:
    """GET /audits/{id} of the audit awaiting approval: the preview names ids, the audit its resource."""
    audited = resource or {"type": "AWS::S3::Bucket", "id": BUCKET}
    return ApiResponse(200, {"auditId": AUDIT_ID, "status": "AWAITING_APPROVAL", "resource": audited})


def fake_api(**answers: ApiResponse) -> FakeApi:
    return FakeApi(
        {
            ("preview_approval", AUDIT_ID): answers.get("preview", preview()),
            ("get_audit", AUDIT_ID): answers.get("audit", awaiting()),
            ("decide", AUDIT_ID): answers.get("decide", APPROVED),
        }
    )


class Person:
    """The user behind an elicitation-capable client: gives one answer, keeps what they were shown."""

    def __init__(self, action: str = "accept", content: dict[str, Any] | None = None) -> None:
        self.action = action
        self.content = {"approve": True} if content is None and action == "accept" else content
        self.shown: list[ElicitRequestParams] = []

    async def __call__(self, context: Any, params: ElicitRequestParams) -> ElicitResult:
        self.shown.append(params)
        return ElicitResult(action=self.action, content=self.content)


def decide(api: FakeApi, arguments: dict[str, Any], person: Person | None = None, mode: str = "auto") -> Any:
    async def body(client: Client) -> Any:
        return await client.call_tool("decide_approval", arguments)

    options: dict[str, Any] = {"mode": mode}
    if person is not None:
        options["elicitation_callback"] = person
    return with_client(FakeBackend(api_or_error=api), body, **options)


def decided(api: FakeApi) -> list[dict[str, Any]]:
    """What was sent to POST /audits/{id}/approval."""
    sent = [call for call in api.calls if call[0] == "decide"]
    return [{"call": call, **binding} for call, binding in zip(sent, api.bindings, strict=True)]


APPROVE = {"auditId": AUDIT_ID, "decision": "approve"}


# --- the person accepts ---


@pytest.mark.parametrize("mode", MODES)
def test_an_accepted_confirmation_approves_with_the_digest_the_person_was_shown(mode):
    api, person = fake_api(), Person()
    result = payload(decide(api, {**APPROVE, "comment": "looks right"}, person, mode))
    assert result == APPROVED.body
    assert decided(api) == [
        {
            "call": ("decide", AUDIT_ID, "approve", "looks right"),
            "planDigest": PREVIEW_DIGEST,
            "remediationIds": None,
        }
    ]
    # The preview was fetched by the server, for the default selection (again on a retry round)
    assert {call for call in api.calls if call[0] == "preview_approval"} == {
        ("preview_approval", AUDIT_ID, None)
    }
    # The person saw the bucket, each plan, what is left out, the digest; and answers one boolean
    (question,) = person.shown
    for shown in (
        f"Approve changes to s3://{BUCKET}? (audit {AUDIT_ID})",
        "1. Enable versioning [s3_bucket_versioning]: risk: Old versions are kept (reversible)",
        "Left out (not applied):",
        "- s3_account_block_public_access: account-wide",
        f"planDigest: {PREVIEW_DIGEST}",
        'Comment the assistant wrote, recorded with your decision: "looks right"',
    ):
        assert shown in question.message, shown
    schema = question.requested_schema
    assert schema["required"] == ["approve"]
    assert {name: prop["type"] for name, prop in schema["properties"].items()} == {"approve": "boolean"}


@pytest.mark.parametrize("mode", MODES)
def test_named_remediations_are_previewed_and_approved_as_that_selection(mode):
    named = ["s3_account_block_public_access"]
    account_wide = plan(
        3, named[0], "Block public access account-wide", "Every bucket in the account", reversible=False
    )
    body = {**preview(MODEL_DIGEST).body, "selection": "named", "plans": [account_wide], "leftOut": []}
    api, person = fake_api(preview=ApiResponse(200, body)), Person()
    payload(decide(api, {**APPROVE, "remediationIds": named}, person, mode))
    assert ("preview_approval", AUDIT_ID, named) in api.calls
    assert [(d["planDigest"], d["remediationIds"]) for d in decided(api)] == [(MODEL_DIGEST, named)]
    assert "(NOT reversible)" in person.shown[0].message


# --- the person does not accept: nothing is sent ---


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("action", "content", "answer"),
    [
        ("decline", None, "declined"),
        ("cancel", None, "cancelled"),
        ("accept", {"approve": False}, "declined"),
    ],
    ids=["decline", "cancel", "approve-false"],
)
def test_a_declined_confirmation_sends_nothing(mode, action, content, answer):
    api = fake_api()
    result = payload(decide(api, APPROVE, Person(action, content), mode))
    assert decided(api) == []
    assert result["approved"] is False and result["personAnswer"] == answer
    assert f"The person {answer} the approval: nothing was sent" in result["message"]


@pytest.mark.parametrize("mode", MODES)
def test_an_answer_outside_the_schema_approves_nothing(mode):
    api = fake_api()
    result = decide(api, APPROVE, Person("accept", {"approve": "sure"}), mode)
    assert result.is_error
    assert decided(api) == []


# --- no one to ask: the model cannot approve ---


@pytest.mark.parametrize("mode", MODES)
def test_a_client_without_elicitation_cannot_approve(mode):
    api = fake_api()
    result = decide(api, APPROVE, None, mode)
    assert result.is_error
    message = text(result)
    assert "Approvals must be made by a person" in message
    assert f"secagent approve {AUDIT_ID}" in message and "web console" in message
    assert api.calls == []  # not even the preview


@pytest.mark.parametrize("mode", MODES)
def test_the_models_digest_without_a_person_approves_nothing(mode):
    api = fake_api()
    # Everything a model could put in the arguments: a digest, a preview, an answer
    spoofed = {
        **APPROVE,
        "planDigest": MODEL_DIGEST,
        "preview": {"planDigest": MODEL_DIGEST, "plans": [{}]},
        "answer": {"action": "accept", "data": {"approve": True}},
    }
    result = decide(api, spoofed, None, mode)
    assert result.is_error and "Approvals must be made by a person" in text(result)
    assert decided(api) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_models_digest_is_ignored_the_person_approves_what_they_saw(mode):
    api, person = fake_api(), Person()
    payload(decide(api, {**APPROVE, "planDigest": MODEL_DIGEST}, person, mode))
    assert [d["planDigest"] for d in decided(api)] == [PREVIEW_DIGEST]


@pytest.mark.parametrize("mode", MODES)
def test_the_sdks_missing_capability_error_is_the_same_tool_error(mode, monkeypatch):
    # Past the server's own check (as if the client had declared elicitation), the SDK refuses
    monkeypatch.setattr(server_module, "_can_elicit", lambda ctx: True)
    api = fake_api()
    result = decide(api, APPROVE, None, mode)
    assert result.is_error
    assert "Approvals must be made by a person" in text(result)
    assert ("preview_approval", AUDIT_ID, None) in api.calls  # the server's own check was passed
    assert decided(api) == []


def test_a_rejection_needs_no_person_to_be_asked():
    api = FakeApi({("decide", AUDIT_ID): ApiResponse(200, {"auditId": AUDIT_ID, "decision": "reject"})})
    person = Person()
    result = payload(decide(api, {"auditId": AUDIT_ID, "decision": "reject"}, person))
    assert result == {"auditId": AUDIT_ID, "decision": "reject"}
    assert person.shown == [] and api.calls == [("decide", AUDIT_ID, "reject", None)]


# --- the API's answers ---


@pytest.mark.parametrize("mode", MODES)
def test_a_refused_preview_asks_no_one_and_sends_nothing(mode):
    refused = ApiResponse(409, {"error": "Conflict", "message": f'Audit "{AUDIT_ID}" was already decided.'})
    api, person = fake_api(preview=refused), Person()
    result = decide(api, APPROVE, person, mode)
    assert result.is_error and "(409 Conflict): Audit" in text(result)
    assert person.shown == [] and decided(api) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_apis_refusal_of_the_approval_is_a_tool_error(mode):
    mismatch = ApiResponse(409, {"error": "Conflict", "message": "The planDigest does not match"})
    result = decide(fake_api(decide=mismatch), APPROVE, Person(), mode)
    assert result.is_error and "The planDigest does not match" in text(result)


def test_plans_that_change_while_the_person_answers_are_asked_again():
    """2026-07-28: the preview is fetched again on the retry; an answer counts only for its question."""
    digests = iter([PREVIEW_DIGEST, MODEL_DIGEST, MODEL_DIGEST])

    class ChangingApi(FakeApi):
        def preview_approval(self, audit_id: str, remediation_ids: list[str] | None = None) -> ApiResponse:
            self.calls.append(("preview_approval", audit_id, remediation_ids))
            return preview(next(digests))

    api, person = ChangingApi({("decide", AUDIT_ID): APPROVED, ("get_audit", AUDIT_ID): awaiting()}), Person()
    payload(decide(api, APPROVE, person, "auto"))
    assert [f"planDigest: {PREVIEW_DIGEST}" in q.message for q in person.shown] == [True, False]
    assert f"planDigest: {MODEL_DIGEST}" in person.shown[-1].message
    assert [d["planDigest"] for d in decided(api)] == [MODEL_DIGEST]  # the one shown last


def test_over_the_http_transport_even_an_accepted_confirmation_approves_nothing():
    # Given the server as the HTTP transport builds it (any local process could connect and answer)
    api, person = fake_api(), Person()

    async def body(client: Any) -> Any:
        return await client.call_tool("decide_approval", APPROVE)

    result = with_client(FakeBackend(api_or_error=api), body, elicitation_callback=person, approvals=False)
    # Then it is a tool error pointing to where a person approves, and nothing is sent
    assert result.is_error and "HTTP transport" in text(result)
    assert decided(api) == []


@pytest.mark.parametrize("mode", MODES)
def test_the_person_is_asked_about_the_security_group_the_audit_changes(mode):
    group = {"type": "AWS::EC2::SecurityGroup", "id": "sg-0123abcd"}
    revoke = plan(1, "ec2_revoke_open_ssh", "Revoke SSH from the internet", "SSH stops", reversible=True)
    revoke["resourceId"] = group["id"]
    body = {**preview().body, "plans": [revoke], "leftOut": []}
    api, person = fake_api(preview=ApiResponse(200, body), audit=awaiting(group)), Person()
    payload(decide(api, APPROVE, person, mode))
    assert person.shown[0].message.startswith(
        f"Approve changes to security group sg-0123abcd? (audit {AUDIT_ID})"
    )
    assert "s3://" not in person.shown[0].message
