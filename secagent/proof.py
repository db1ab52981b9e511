"""Proof of the caller's identity that holds even when the API function is invoked directly.

API Gateway authenticates a SigV4 caller and writes who it is into the request context; but the
function behind it can also be invoked directly (lambda:InvokeFunction), with any request context.
So every state-changing request also carries a proof that only the caller's credentials can make:
a signed STS GetCallerIdentity request, bound to this request by a signed header that holds the
SHA-256 of its method, path and body. The API sends it to STS itself and takes the ARN STS answers
(the pattern of HashiCorp Vault's AWS auth and EKS tokens). A proof cannot be replayed for another
request (the binding), nor after STS's signature window (15 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlsplit

PROOF_HEADER = "X-Secagent-Identity"
BINDING_HEADER = "X-Secagent-Binding"
STS_BODY = "Action=GetCallerIdentity&Version=2011-06-15"
STS_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
# Signed headers the API forwards to STS (anything else in the proof is ignored).
FORWARDED = ("authorization", "x-amz-date", "x-amz-security-token", "content-type", BINDING_HEADER.lower())


def binding(method: str, path: str, body: bytes | None) -> str:
    """What a proof is bound to: this method, this path (query included) and this body."""
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return hashlib.sha256(f"{method.upper()}\n{path}\n{body_hash}".encode()).hexdigest()


def sts_url(region: str, endpoint_url: str | None = None) -> str:
    """The STS endpoint a proof is signed for: the regional one on AWS, the emulator's otherwise."""
    return endpoint_url.rstrip("/") + "/" if endpoint_url else f"https://sts.{region}.amazonaws.com/"


def encode(headers: dict[str, str], url: str) -> str:
    wanted = {k: v for k, v in headers.items() if k.lower() in FORWARDED}
    return base64.b64encode(json.dumps({"url": url, "headers": wanted}).encode()).decode()


def decode(value: str) -> tuple[str, dict[str, str]]:
    """(url, headers) of a proof; ValueError when it is not one."""
    try:
        data: Any = json.loads(base64.b64decode(value, validate=True))
        url, headers = data["url"], data["headers"]
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError("not an identity proof") from err
    if (
        not isinstance(url, str)
        or not isinstance(headers, dict)
        or urlsplit(url).scheme not in ("http", "https")
    ):
        raise ValueError("not an identity proof")
    return url, {str(k).lower(): str(v) for k, v in headers.items() if str(k).lower() in FORWARDED}
