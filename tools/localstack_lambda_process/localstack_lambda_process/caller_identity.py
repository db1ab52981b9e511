"""Emulator gap: fill API Gateway's caller identity for SigV4 (IAM-authorized) requests.

On AWS, API Gateway authenticates a SigV4-signed request and puts who signed it into the
request context (`identity.userArn`, `caller`, `user`, `accessKey`, `accountId`). LocalStack's
open edition leaves all of them empty, so nothing that depends on "who is calling" (the audit
API's four-eyes approval rule) could be exercised on it. This hook resolves the access key of
the request's Authorization header the way LocalStack's own GetCallerIdentity does (assumed
role, then IAM user, then the account root) and fills the same fields AWS fills. It reads the
key id only; it does not verify signatures (LocalStack does not either).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)
_CREDENTIAL = re.compile(r"Credential=(?P<key>[A-Za-z0-9]{1,128})/")


def access_key_of(authorization: str | None) -> str | None:
    match = _CREDENTIAL.search(authorization or "")
    return match["key"] if match else None


def resolve(access_key: str) -> dict[str, str]:
    """The identity fields API Gateway fills for this access key (as GetCallerIdentity resolves it)."""
    from localstack.aws.accounts import get_account_id_from_access_key_id
    from moto.sts.models import sts_backends

    account = get_account_id_from_access_key_id(access_key)
    user_id, arn, account = sts_backends[account]["global"].get_caller_identity(access_key, "us-east-1")
    if ":sts::" in arn and arn.endswith(":user/moto"):  # a key moto does not know: the account itself
        arn, user_id = f"arn:aws:iam::{account}:root", account
    return {"userArn": arn, "caller": user_id, "user": user_id, "accessKey": access_key, "accountId": account}


@hooks.on_infra_start()
def fill_api_gateway_caller_identity() -> None:
    from localstack.services.apigateway.next_gen.execute_api.handlers import parse

    original = parse.InvocationRequestParser.create_context_variables

    def create_context_variables(context: Any) -> Any:
        variables = original(context)
        identity = variables.get("identity")
        key = access_key_of(context.invocation_request["headers"].get("Authorization"))
        if identity is not None and key and not identity.get("userArn"):
            try:
                identity.update(resolve(key))
            except Exception:  # an unknown key stays anonymous, as before
                LOG.debug("could not resolve the caller of access key %s...", key[:4], exc_info=True)
        return variables

    parse.InvocationRequestParser.create_context_variables = staticmethod(create_context_variables)
