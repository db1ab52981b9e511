"""One table of AWS error codes for reads and writes: what Discover retries, Apply retries too."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from secagent.aws import ACCESS_DENIED_CODES, TRANSIENT_ERROR_CODES
from secagent.models.errors import AccessDenied, TransientError
from secagent.models.plans import ApiCall
from secagent.remediation import execute_api_call


class Answering:
    """An S3 client whose PutBucketVersioning answers one AWS error."""

    def __init__(self, code: str, status: int) -> None:
        self.code, self.status = code, status

    class meta:  # botocore's client attribute
        class service_model:
            operation_names = ("PutBucketVersioning",)

    def put_bucket_versioning(self, **_: Any) -> Any:
        answer = {"Error": {"Code": self.code}, "ResponseMetadata": {"HTTPStatusCode": self.status}}
        raise ClientError(answer, "PutBucketVersioning")  # type: ignore[arg-type]


def _apply(code: str, status: int = 400) -> None:
    call = ApiCall(service="s3", operation="PutBucketVersioning", parameters={"Bucket": "b"})
    execute_api_call(call, clients=lambda service, region=None: Answering(code, status))


@pytest.mark.parametrize("code", sorted(TRANSIENT_ERROR_CODES))
def test_every_transient_code_is_retried_by_apply(code: str) -> None:
    # RequestTimeout was retried by Discover but failed a plan in Apply before the tables were one
    with pytest.raises(TransientError):
        _apply(code)


@pytest.mark.parametrize("code", sorted(ACCESS_DENIED_CODES))
def test_access_denied_codes_are_access_denied(code: str) -> None:
    with pytest.raises(AccessDenied):
        _apply(code, 403)
