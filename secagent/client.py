"""A small client of the deployed audit API: SigV4-signed HTTPS calls with the usual credential chain.

Used by the CLI, the demo and the integration tests. On LocalStack the API is reached at
`{endpoint}/_aws/execute-api/{apiId}/{stage}` (its public host names need DNS).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from secagent import proof


class ApiUnreachable(urllib.error.URLError):
    """No HTTP answer at all (refused, DNS, timeout); says which URL could not be reached."""

    def __init__(self, url: str, reason: str | BaseException) -> None:
        super().__init__(reason)
        self.url = url

    def __str__(self) -> str:
        return f"could not reach {self.url}: {self.reason}"


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class AuditApiClient:
    def __init__(self, base_url: str, session: boto3.Session | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or boto3.Session()
        self._timeout = timeout
        # The STS endpoint identity proofs are signed for: an emulator's own (LocalStack serves the
        # API under /_aws/execute-api/), else the API's region's on AWS.
        emulator, found, _ = self.base_url.partition("/_aws/execute-api/")
        self._sts_endpoint = emulator if found else None
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        self._api_region = host.split(".execute-api.")[1].split(".")[0] if ".execute-api." in host else None

    @classmethod
    def for_stack(
        cls, outputs: dict[str, str], *, endpoint_url: str | None = None, session: boto3.Session | None = None
    ) -> AuditApiClient:
        """From the stack outputs; with an endpoint (LocalStack) use its execute-api path."""
        if endpoint_url:
            base = f"{endpoint_url.rstrip('/')}/_aws/execute-api/{outputs['ApiId']}/{outputs['ApiStage']}"
        else:
            base = outputs["ApiUrl"]
        return cls(base, session=session)

    def start_audit(
        self,
        resource_id: str,
        mode: str = "plan",
        approval_timeout_seconds: int | None = None,
        *,
        idempotency_key: str | None = None,
        resource_type: str = "AWS::S3::Bucket",
    ) -> ApiResponse:
        """`idempotency_key`: a retry with the same key gets the first answer and starts nothing."""
        body: dict[str, Any] = {"resource": {"type": resource_type, "id": resource_id}, "mode": mode}
        if approval_timeout_seconds is not None:
            body["approvalTimeoutSeconds"] = approval_timeout_seconds
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/audits", body, headers=headers)

    def get_audit(self, audit_id: str) -> ApiResponse:
        return self.request("GET", f"/audits/{_segment(audit_id)}")

    def list_audits(
        self,
        *,
        status: str | None = None,
        resource: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> ApiResponse:
        query = {"status": status, "resource": resource, "limit": limit, "nextToken": next_token}
        encoded = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        return self.request("GET", "/audits" + (f"?{encoded}" if encoded else ""))

    def preview_approval(self, audit_id: str, remediation_ids: list[str] | None = None) -> ApiResponse:
        """What approving this selection would apply, and the planDigest an approval of it quotes.

        `None`: the default selection (the reversible plans scoped to the bucket); otherwise the
        named remediations, re-planned alone (their digest differs from the full proposal's).
        """
        path = f"/audits/{_segment(audit_id)}/approval"
        if remediation_ids is None:
            return self.request("GET", path)
        if not remediation_ids or not all(remediation_ids):
            raise ValueError(
                "remediation_ids: name at least one remediation id (None: the default selection)"
            )
        # Every reserved character percent-encoded, the separating commas too: SigV4 signs the query
        # as sent and API Gateway canonicalizes it that way (a bare "," would not verify on AWS).
        query = urllib.parse.urlencode(
            {"remediationIds": ",".join(remediation_ids)}, quote_via=urllib.parse.quote
        )
        return self.request("GET", f"{path}?{query}")

    def decide(
        self,
        audit_id: str,
        decision: str,
        comment: str | None = None,
        *,
        plan_digest: str | None = None,
        remediation_ids: list[str] | None = None,
    ) -> ApiResponse:
        """An approval quotes the planDigest of exactly the selection it approves: the one
        `preview_approval(audit_id, remediation_ids)` shows (for the default selection, also the
        one GET /audits/{id} shows)."""
        body: dict[str, Any] = {"decision": decision}
        if comment:
            body["comment"] = comment
        if plan_digest:
            body["planDigest"] = plan_digest
        if remediation_ids:
            body["remediationIds"] = remediation_ids
        return self.request("POST", f"/audits/{_segment(audit_id)}/approval", body)

    def resume(self, audit_id: str) -> ApiResponse:
        """Start a new execution of a failed audit from the step that failed."""
        return self.request("POST", f"/audits/{_segment(audit_id)}/resume")

    def rollback(self, audit_id: str) -> ApiResponse:
        """Start a rollback audit of an ended audit's applied fixes (through the same approval gate)."""
        return self.request("POST", f"/audits/{_segment(audit_id)}/rollback")

    def request_exemption(self, bucket: str, check_ids: list[str], reason: str, until: str) -> ApiResponse:
        """Ask to accept these checks' failures on the bucket until the day (YYYY-MM-DD), for the
        reason: PENDING until another person approves it."""
        body = {"bucket": bucket, "checkIds": check_ids, "reason": reason, "until": until}
        return self.request("POST", "/exemptions", body)

    def list_exemptions(self, bucket: str) -> ApiResponse:
        return self.request("GET", "/exemptions?" + urllib.parse.urlencode({"bucket": bucket}))

    def approve_exemption(self, exemption_id: str) -> ApiResponse:
        """Another person than its requester makes a PENDING exemption ACTIVE."""
        return self.request("POST", f"/exemptions/{_segment(exemption_id)}/approve")

    def revoke_exemption(self, exemption_id: str) -> ApiResponse:
        return self.request("POST", f"/exemptions/{_segment(exemption_id)}/revoke")

    # --- sweeps: Discover + Analyze of every resource of several accounts, read-only ---------------

    def start_sweep(
        self,
        accounts: list[str] | None = None,
        resource_types: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse:
        """`None`: the API's default (the deployment's own account and every configured member
        account; both resource types). A sweep changes nothing (mode "plan", its only mode)."""
        body: dict[str, Any] = {"mode": "plan"}
        if accounts is not None:
            body["accounts"] = list(accounts)
        if resource_types is not None:
            body["resourceTypes"] = list(resource_types)
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", "/sweeps", body, headers=headers)

    def get_sweep(self, sweep_id: str) -> ApiResponse:
        return self.request("GET", f"/sweeps/{_segment(sweep_id)}")

    def list_sweeps(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse:
        return self.request("GET", "/sweeps" + _query({"limit": limit, "nextToken": next_token}))

    def sweep_report(self, sweep_id: str, fmt: str = "json") -> ApiResponse:
        """The posture report: its JSON, or with `fmt="markdown"` `{"format", "body"}`."""
        query = _query({"format": fmt}) if fmt != "json" else ""
        return self.request("GET", f"/sweeps/{_segment(sweep_id)}/report{query}")

    def sweep_findings(self, sweep_id: str, fmt: str, page: int) -> ApiResponse:
        """One page (up to 100) of the sweep's failing findings as OCSF or ASFF: `{"format", "page",
        "pages", "findings", "nextPage"}`."""
        return self.request(
            "GET", f"/sweeps/{_segment(sweep_id)}/findings" + _query({"format": fmt, "page": page})
        )

    def start_sweep_audit(
        self,
        sweep_id: str,
        resource_type: str,
        resource_id: str,
        account_id: str | None = None,
        mode: str = "remediate",
        approval_timeout_seconds: int | None = None,
    ) -> ApiResponse:
        """An audit of a resource the sweep found (of the deployment's own account): through the
        approval gate like any audit. The API answers 409 before the sweep has finished."""
        body: dict[str, Any] = {"resource": {"type": resource_type, "id": resource_id}, "mode": mode}
        if account_id is not None:
            body["accountId"] = account_id
        if approval_timeout_seconds is not None:
            body["approvalTimeoutSeconds"] = approval_timeout_seconds
        return self.request("POST", f"/sweeps/{_segment(sweep_id)}/audits", body)

    def _identity_proof(
        self, credentials: Any, region: str, method: str, path: str, data: bytes | None
    ) -> str:
        """A signed STS GetCallerIdentity bound to this request (secagent.proof): only these
        credentials can make it, and the API sends it to STS itself to learn who is asking."""
        url = proof.sts_url(region, self._sts_endpoint)
        sts = AWSRequest(
            method="POST",
            url=url,
            data=proof.STS_BODY,
            headers={
                "Content-Type": proof.STS_CONTENT_TYPE,
                proof.BINDING_HEADER: proof.binding(method, path, data),
            },
        )
        SigV4Auth(credentials, "sts", region).add_auth(sts)
        return proof.encode(dict(sts.headers.items()), url)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        """`body` is sent as JSON; `raw_body` as is (to send malformed input on purpose)."""
        data = raw_body if raw_body is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})}
        aws_request = AWSRequest(method=method, url=f"{self.base_url}{path}", data=data, headers=headers)
        credentials = self._session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            region = self._api_region or self._session.region_name or "us-east-1"
            if method != "GET":  # state-changing: prove who asks, even to a directly invoked function
                aws_request.headers[proof.PROOF_HEADER] = self._identity_proof(
                    frozen, region, method, path, data
                )
            SigV4Auth(frozen, "execute-api", region).add_auth(aws_request)
        prepared = urllib.request.Request(
            aws_request.url, data=data, headers=dict(aws_request.headers.items()), method=method
        )
        try:
            with urllib.request.urlopen(prepared, timeout=self._timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except urllib.error.URLError as error:
            raise ApiUnreachable(aws_request.url, error.reason) from error
        except (TimeoutError, ConnectionError) as error:
            raise ApiUnreachable(aws_request.url, error) from error
        try:
            parsed = json.loads(payload) if payload else None
        except json.JSONDecodeError:
            parsed = payload.decode("utf-8", errors="replace")
        return ApiResponse(status, parsed)


def _segment(value: str) -> str:
    """One path segment: an id with "/" or "?" must not reach another route."""
    return urllib.parse.quote(value, safe="")


def _query(values: dict[str, Any]) -> str:
    """`?k=v&...` of the values given (None left out), every reserved character percent-encoded
    (SigV4 signs the query as sent); "" when none is given."""
    given = {k: v for k, v in values.items() if v is not None}
    return "?" + urllib.parse.urlencode(given, quote_via=urllib.parse.quote) if given else ""
