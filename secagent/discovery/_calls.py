"""What every type's discovery reads of an AWS answer alike: an error's code and HTTP status, and
who is reading (GetCallerIdentity)."""

from typing import Any

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from secagent.aws import TRANSIENT_ERROR_CODES
from secagent.models.errors import TransientError

# An emulator (LocalStack) answers APIs it lacks with 501 NotImplemented: that is missing
# evidence, not an outage, so it must not trigger retries.
UNSUPPORTED = frozenset({"NotImplemented", "NotImplementedException"})


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def http_status(err: ClientError) -> int:
    return int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def whoami(sts: Any) -> tuple[str | None, str | None, str | None]:
    """(account id, caller ARN, reason when unknown); an outage is a TransientError."""
    try:
        identity = sts.get_caller_identity()
        return identity["Account"], identity["Arn"], None
    except ClientError as err:
        code = error_code(err)
        if code not in UNSUPPORTED and (code in TRANSIENT_ERROR_CODES or http_status(err) >= 500):
            raise TransientError(f"GetCallerIdentity: {code or http_status(err)}") from err
        return None, None, f"{code}: account id unavailable"
    except (ConnectionError, HTTPClientError) as err:
        raise TransientError(f"GetCallerIdentity: {type(err).__name__}") from err
