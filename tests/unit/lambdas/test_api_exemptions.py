"""The exemption routes through the API handler: JSON in, JSON out, the caller from the request."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from secagent.api import Deps
from tests.unit.lambdas.test_api_handler import (  # noqa: F401 (fixtures)
    ALICE,
    call,
    deps,
    event,
    sfn,
    with_identity,
)

BOB = "arn:aws:sts::123456789012:assumed-role/SecurityApprover/bob"

UNTIL = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()


def request(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    evt = event("start_audit", json.dumps(body) if body is not None else None)
    evt.update(httpMethod=method, path=path, resource=path, queryStringParameters=query)
    evt["requestContext"] = {
        **evt["requestContext"],
        "httpMethod": method,
        "path": path,
        "resourcePath": path,
    }
    return evt


def test_request_approve_list_and_revoke_an_exemption(deps: Deps) -> None:  # noqa: F811
    body = {"bucket": "customer-data", "checkIds": ["s3_bucket_tls_not_enforced"], "reason": "CDN only"}
    status, asked = call(request("POST", "/exemptions", body | {"until": UNTIL}))
    assert status == 201, asked
    assert asked["requestedBy"] == ALICE and asked["status"] == "PENDING" and asked["until"] == UNTIL
    approve = f"/exemptions/{asked['exemptionId']}/approve"
    # the requester may not approve it; another person does
    status, refused = call(request("POST", approve))
    assert status == 403 and "four-eyes" in refused["message"]
    status, approved = call(with_identity(request("POST", approve), BOB))
    assert status == 200 and approved["status"] == "ACTIVE" and approved["approvedBy"] == BOB
    status, listed = call(request("GET", "/exemptions", query={"bucket": "customer-data"}))
    assert status == 200 and [e["exemptionId"] for e in listed["exemptions"]] == [asked["exemptionId"]]
    status, revoked = call(request("POST", f"/exemptions/{asked['exemptionId']}/revoke"))
    assert status == 200 and revoked["status"] == "REVOKED" and revoked["revokedBy"] == ALICE


def test_bad_exemption_requests_are_4xx_with_a_json_body(deps: Deps) -> None:  # noqa: F811
    body = {"bucket": "customer-data", "checkIds": ["s3_bucket_policy_public"], "reason": "r", "until": UNTIL}
    status, answer = call(request("POST", "/exemptions", body))
    assert status == 400 and answer["field"] == "checkIds" and "CRITICAL" in answer["message"]
    status, answer = call(request("POST", "/exemptions", {**body, "until": "tomorrow"}))
    assert status == 400 and answer["field"] == "until"
    status, answer = call(request("GET", "/exemptions", query={"bucket": "Not_A_Bucket"}))
    assert status == 400 and answer["field"] == "bucket"
    status, answer = call(request("GET", "/exemptions"))
    assert status == 400 and answer["field"] == "bucket"
    status, answer = call(request("POST", "/exemptions/customer-data.nope/revoke"))
    assert status == 404 and answer["error"] == "NotFound"
