"""The API's side of the trusted records: it seals requests and decisions, and reads the token.

Only the API's role may generate a seal (the KMS key policy) and read a task token (the bucket
policy); the tools only verify. See secagent.workflow.store for the layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from secagent.api.aws import error_code
from secagent.api.errors import Conflict, UpstreamError
from secagent.api.settings import ApiSettings
from secagent.aws import ClientFactory
from secagent.models.errors import ApprovalInvalid
from secagent.models.records import AuditRequest, Decision
from secagent.models.settings import AgentSettings
from secagent.workflow.gate import Proposal, load_decision, load_proposal, load_request
from secagent.workflow.store import (
    KmsSealer,
    Sealer,
    canonical,
    decision_key,
    read_object,
    request_key,
    token_key,
    write_object,
    write_sealed,
)


@dataclass(frozen=True)
class SealedRequest:
    audit_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class RecordStore:
    bucket: str
    clients: ClientFactory
    sealer: Sealer
    analysis: AgentSettings  # the planner's settings: a re-plan here must equal Apply's

    @classmethod
    def deployed(cls, settings: ApiSettings, clients: ClientFactory) -> RecordStore:
        """The deployment's store: its report bucket, its seal key, its planner settings (from the env)."""
        return cls(
            settings.report_bucket,
            clients,
            KmsSealer(settings.seal_key_id, clients),
            AgentSettings.from_env(),
        )

    def write_request(self, request: AuditRequest) -> None:
        write_sealed(
            self.bucket, request_key(request.audit_id), request, self.sealer, self.clients, once=True
        )

    def seal_request(self, request: AuditRequest) -> SealedRequest:
        """The request record, sealed but not yet written (sealing can go beside the lock's claim)."""
        content = request.model_dump(mode="json", by_alias=True)
        return SealedRequest(
            request.audit_id, {"record": content, "seal": self.sealer.seal(canonical(content))}
        )

    def put_request(self, sealed: SealedRequest) -> None:
        """Written once, as `write_request` writes it (secagent.workflow.store.write_sealed)."""
        write_object(self.bucket, request_key(sealed.audit_id), sealed.body, self.clients, once=True)

    def request(self, audit_id: str) -> AuditRequest | None:
        return load_request(audit_id, self.bucket, self.sealer, self.clients)

    def proposal(self, audit_id: str) -> Proposal:
        try:
            return load_proposal(audit_id, self.bucket, self.analysis, self.sealer, self.clients)
        except ApprovalInvalid as err:
            raise Conflict(f'Audit "{audit_id}" cannot be decided: {err}. Nothing was applied.') from None

    def write_decision(self, decision: Decision) -> None:
        """Written once: a second decision on the same audit is a 409, whoever sends it."""
        try:
            write_sealed(
                self.bucket, decision_key(decision.audit_id), decision, self.sealer, self.clients, once=True
            )
        except ClientError as err:
            if error_code(err) in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise Conflict(f'Audit "{decision.audit_id}" was already decided.') from None
            raise UpstreamError(f"S3 PutObject decision failed: {error_code(err)}") from None

    def decision(self, audit_id: str) -> Decision | None:
        return load_decision(audit_id, self.bucket, self.sealer, self.clients)

    def task_token(self, audit_id: str, execution_name: str) -> str | None:
        stored = read_object(self.bucket, token_key(audit_id, execution_name), self.clients) or {}
        token = stored.get("taskToken")
        return token if isinstance(token, str) and token else None
