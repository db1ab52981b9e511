"""Who is calling, as API Gateway's IAM authorization authenticated it, and who counts as the same person.

Four-eyes compares principals, not sessions: ``assumed-role/Admin/ops-1`` and
``assumed-role/Admin/ops-2`` are one principal (the role ``Admin``), since whoever may assume a
role may name the session freely. A SourceIdentity, when the request context carries one, is
set by the identity provider and cannot be changed along a role chain: it tells apart people
who share a role. (API Gateway's REST request context does not carry it today; without it, two
people sharing one role cannot approve each other's audits. Give approvers their own role.)
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secagent import proof
from secagent.api.errors import Forbidden

_ASSUMED_ROLE = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):sts::(?P<account>\d{12}):assumed-role/(?P<role>[\w+=,.@/-]+?)/[^/]+"
)
# Principals that are not a person at the API: the audit trigger and an unauthenticated context.
EVENT_TRIGGER = "eventbridge:CloudTrail"


@dataclass(frozen=True)
class Caller:
    arn: str  # as authenticated, session name included (for the record)
    principal: str  # what four-eyes compares

    @property
    def known(self) -> bool:
        return bool(self.principal)


def principal_of(arn: str, source_identity: str | None = None) -> str:
    """The IAM principal behind a caller ARN: an assumed-role session is its role."""
    if match := _ASSUMED_ROLE.fullmatch(arn):
        arn = f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
    return f"{arn}#{source_identity}" if source_identity else arn


def caller_of(request_context: dict[str, Any] | None) -> Caller:
    """The caller API Gateway authenticated; empty when the context has no IAM identity."""
    identity = (request_context or {}).get("identity") or {}
    arn = identity.get("userArn") or ""
    return Caller(arn=arn, principal=principal_of(arn, identity.get("sourceIdentity")) if arn else "")


def check_four_eyes(
    approver: Caller, requested_by: str, audit_id: str, *, allow_self_approval: bool, what: str = "Audit"
) -> None:
    """The requester of an audit, a rollback or an exemption (``what``) never approves it; an
    unknown approver never does."""
    subject = f'{what} "{audit_id}"'
    if allow_self_approval:
        return
    if not approver.known:
        raise Forbidden(
            f"{subject} cannot be approved by a caller without an IAM identity: "
            "approvals are decided by a person, authenticated by IAM."
        )
    if ":federated-user/" in approver.arn or approver.arn.endswith(":root"):
        raise Forbidden(
            f"{subject} cannot be approved by {approver.arn} (four-eyes: a federated-user "
            "session takes any name it likes, and the account root is nobody in particular: neither "
            "shows another person than the requester)."
        )
    if approver.principal == requested_by:
        raise Forbidden(
            f"{subject} was requested by {requested_by}, who may not also approve it "
            "(four-eyes: another person, with another IAM principal, approves)."
        )


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


Post = Callable[[str, dict[str, str], bytes], tuple[int, bytes]]
_ARN = re.compile(r"<Arn>([^<]+)</Arn>")


def _post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # an allow-listed STS URL only
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except OSError:
        return 0, b""


@dataclass(frozen=True)
class StsIdentity:
    """Who sent a state-changing request, proven by STS (secagent.proof), not by the request context.

    The request context is what API Gateway wrote, or whatever a direct invoker of the function
    wrote; the proof is a GetCallerIdentity only the caller's credentials could sign, bound to this
    request. It is sent only to STS: the regional or global AWS endpoint, or the emulator's.
    """

    region: str
    emulator_endpoint: str | None = None  # AWS_ENDPOINT_URL on LocalStack; None on AWS
    post: Post = _post
    # The deployment's account: a proof signed in another account is nobody here (API Gateway's
    # IAM authorization admits only this account's principals; a direct invoker could bring any).
    account: str | None = None

    def caller(
        self,
        request_context: dict[str, Any] | None,
        headers: dict[str, str],
        method: str,
        path: str,
        body: bytes,
    ) -> Caller:
        value = next((v for k, v in headers.items() if k.lower() == proof.PROOF_HEADER.lower()), None)
        if not value:
            raise Forbidden(
                f"A request that changes something must prove who sends it ({proof.PROOF_HEADER}); "
                "use the secagent CLI, the console or secagent.client.AuditApiClient."
            )
        try:
            url, signed = proof.decode(value)
        except ValueError:
            raise Forbidden(f"{proof.PROOF_HEADER} is not an identity proof.") from None
        if not self._sts(url):
            raise Forbidden(f"{proof.PROOF_HEADER} is not signed for this region's STS endpoint.")
        if signed.get(proof.BINDING_HEADER.lower()) != proof.binding(method, path, body):
            raise Forbidden(f"{proof.PROOF_HEADER} was made for another request.")
        status, answer = self.post(url, signed, proof.STS_BODY.encode())
        match = _ARN.search(answer.decode(errors="replace")) if status == 200 else None
        if match is None:
            raise Forbidden(f"STS did not accept the identity proof ({status or 'unreachable'}).")
        arn = match.group(1)
        if self.account is not None and _account_of(arn) != self.account:
            raise Forbidden(f"The identity proof names a principal of another account than {self.account}.")
        stated = caller_of(request_context)
        if stated.arn and stated.principal != principal_of(arn):
            raise Forbidden("The identity proof names another caller than the request.")
        return Caller(arn=arn, principal=principal_of(arn))

    def _sts(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        if self.emulator_endpoint:
            emulator = urllib.parse.urlsplit(self.emulator_endpoint)
            return (parts.scheme, parts.netloc) == (emulator.scheme, emulator.netloc)
        return parts.scheme == "https" and parts.hostname in {
            "sts.amazonaws.com",
            f"sts.{self.region}.amazonaws.com",
        }
