"""What the CLI, the MCP server and their tests use of the audit API's client: one protocol.

`secagent.client.AuditApiClient` implements it; tests pass fakes. Kept apart from the client so
the CLI can name it without importing boto3 at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from secagent.models.snapshot import BUCKET

if TYPE_CHECKING:
    from secagent.client import ApiResponse
    from secagent.models.snapshot import ResourceType


class AuditApi(Protocol):
    def start_audit(
        self,
        resource_id: str,
        mode: str = "plan",
        approval_timeout_seconds: int | None = None,
        *,
        resource_type: ResourceType = BUCKET,
    ) -> ApiResponse: ...

    def get_audit(self, audit_id: str) -> ApiResponse: ...

    def list_audits(
        self,
        *,
        status: str | None = None,
        resource: str | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> ApiResponse: ...

    def preview_approval(self, audit_id: str, remediation_ids: list[str] | None = None) -> ApiResponse: ...

    def decide(
        self,
        audit_id: str,
        decision: str,
        comment: str | None = None,
        *,
        plan_digest: str | None = None,
        remediation_ids: list[str] | None = None,
    ) -> ApiResponse: ...

    def resume(self, audit_id: str) -> ApiResponse: ...

    def rollback(self, audit_id: str) -> ApiResponse: ...

    def request_exemption(
        self, bucket: str, check_ids: list[str], reason: str, until: str
    ) -> ApiResponse: ...

    def list_exemptions(self, bucket: str) -> ApiResponse: ...

    def approve_exemption(self, exemption_id: str) -> ApiResponse: ...

    def revoke_exemption(self, exemption_id: str) -> ApiResponse: ...

    def start_sweep(
        self,
        accounts: list[str] | None = None,
        resource_types: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> ApiResponse: ...

    def get_sweep(self, sweep_id: str) -> ApiResponse: ...

    def list_sweeps(self, limit: int | None = None, next_token: str | None = None) -> ApiResponse: ...

    def sweep_report(self, sweep_id: str, fmt: str = "json") -> ApiResponse: ...

    def sweep_findings(self, sweep_id: str, fmt: str, page: int) -> ApiResponse: ...

    def start_sweep_audit(
        self,
        sweep_id: str,
        resource_type: str,
        resource_id: str,
        account_id: str | None = None,
        mode: str = "remediate",
        approval_timeout_seconds: int | None = None,
    ) -> ApiResponse: ...
