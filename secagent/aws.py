"""boto3 client creation and error tables shared by Discover (reads) and Apply (writes)."""

import functools
import json
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ProfileNotFound

ClientFactory = Callable[[str, str | None], Any]

# AWS error codes that mean "try again later", for every read and every write: one table, so a
# code Discover retries is never a failed fix in Apply. (Any 5xx is transient as well.)
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "SlowDown",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "InternalError",
        "PriorRequestNotComplete",
    }
)
# EC2 says UnauthorizedOperation where S3 says AccessDenied.
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "UnauthorizedOperation"}
)
# The audited resource is gone (a bucket, a security group).
RESOURCE_MISSING_CODES = frozenset({"NoSuchBucket", "InvalidGroup.NotFound"})

_ENDPOINT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3_CONTROL")


def custom_endpoint(explicit: str | None = None) -> str | None:
    if explicit:
        return explicit
    return next((os.environ[k] for k in _ENDPOINT_ENV if os.environ.get(k)), None)


def client_factory(
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    max_pool: int = 20,
    *,
    recorded_as: str | None = None,
) -> ClientFactory:
    """Return ``make(service, region)``; create clients up front, they are thread-safe, sessions are not.

    ``recorded_as``: the principal the session is, when it is not the function's own role (the
    sweep's member role): the IAM proof evaluates those calls against that role's policies."""
    session = session or boto3.Session()

    def make(service: str, region: str | None = None) -> Any:
        config = Config(retries={"mode": "standard", "max_attempts": 3}, max_pool_connections=max_pool)
        # s3control prefixes the host with "<account-id>." which cannot resolve on a plain
        # IP/localhost endpoint (LocalStack). Real AWS keeps the SDK default.
        if service == "s3control" and custom_endpoint(endpoint_url):
            config = config.merge(Config(inject_host_prefix=False))
        kwargs: dict[str, Any] = {"config": config}
        if region:
            kwargs["region_name"] = region
        if endpoint_url:
            kwargs["endpoint_url"] = endpoint_url
        client = session.client(service, **kwargs)
        if os.environ.get(RECORD_CALLS_ENV) == "enabled":
            client.meta.events.register(
                "before-parameter-build", functools.partial(_record_call, recorded_as=recorded_as)
            )
        if service == "s3control" and custom_endpoint(endpoint_url):
            # botocore's endpoint rules put the account id in the host even with
            # inject_host_prefix off; a plain IP/localhost endpoint cannot resolve that.
            client.meta.events.register("before-sign.s3-control", _strip_account_host_prefix)
        return client

    return make


# Test-only (deploy setting recordAwsCalls): each AWS call a function makes, with its target, as
# one log line, so the IAM proof (tests/security/test_iam_proof.py) can evaluate it against the
# role's policies. Only identifiers are written: never a body, a policy, a token or a secret.
RECORD_CALLS_ENV = "SECAGENT_RECORD_AWS_CALLS"
RECORD_PREFIX = "SECAGENT_AWS_CALL "
_TARGET_PARAMETERS = (
    "Bucket",
    "GroupId",
    "PrefixListId",
    "Key",
    "AccountId",
    "KeyId",
    "FunctionName",
    "stateMachineArn",
    "executionArn",
    "mapRunArn",
    "RoleArn",
    "RoleName",
    "name",
)


def _record_call(params: dict[str, Any], model: Any, recorded_as: str | None = None, **_: Any) -> None:
    target = {k: params[k] for k in _TARGET_PARAMETERS if isinstance(params.get(k), str)}
    if model.name == "PutEvents":
        target["EventBusName"] = ",".join(
            sorted({str(e.get("EventBusName") or "default") for e in params.get("Entries", [])})
        )
    record: dict[str, Any] = {
        "service": model.service_model.service_name,
        "operation": model.name,
        "target": target,
    }
    if recorded_as:
        record["as"] = recorded_as
    print(RECORD_PREFIX + json.dumps(record, sort_keys=True), flush=True)


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    account, _dot, rest = (parts.hostname or "").partition(".")
    if account.isdigit() and len(account) == 12 and rest:
        netloc = rest + (f":{parts.port}" if parts.port else "")
        request.url = urlunsplit(parts._replace(netloc=netloc))


_MAX_HISTORY_PAGES = 20  # 20 000 events: far beyond one audit; bounds a pathological history


def execution_history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """All history events of an execution, oldest first, read without execution data: Await
    Approval's scheduled parameters hold the task token, and a state's data a bucket's policy."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "executionArn": execution_arn,
        "maxResults": 1000,
        "includeExecutionData": False,
    }
    for _ in range(_MAX_HISTORY_PAGES):
        page = sfn.get_execution_history(**kwargs)
        events.extend(page.get("events", []))
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    return events


class SetupError(Exception):
    """AWS cannot be used as configured, and a person must fix it: the profile, the region, the
    credentials or the stack. ``usage``: the options given are wrong or missing, not the account."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage


def checked_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A session from the usual credential chain that can sign a call: SetupError when the profile
    does not exist, or no region or no credentials are found."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as exc:
        raise SetupError(f"AWS profile {profile!r} not found", usage=True) from exc
    if session.region_name is None:
        raise SetupError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION", usage=True)
    if session.get_credentials() is None:
        raise SetupError("no AWS credentials found (environment, profile, SSO or instance role)")
    return session


class StackMissing(SetupError):
    """The stack is not deployed there (``missing`` empty), or lacks the outputs in ``missing``."""

    def __init__(self, missing: list[str] | None = None, message: str | None = None) -> None:
        super().__init__(message or ", ".join(missing or []) or "stack not deployed")
        self.missing = missing or []


def api_outputs(cloudformation: Any, stack_name: str, *, emulator: bool) -> dict[str, str]:
    """The stack's outputs the audit API client needs (secagent.client.AuditApiClient.for_stack):
    ApiId and ApiStage on an emulator's endpoint, ApiUrl on AWS. StackMissing otherwise."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            raise StackMissing() from err
        raise
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    needed = ("ApiId", "ApiStage") if emulator else ("ApiUrl",)
    if missing := [key for key in needed if key not in outputs]:
        raise StackMissing(missing)
    return outputs


def stack_api_outputs(
    session: boto3.Session, stack_name: str, endpoint_url: str | None = None
) -> dict[str, str]:
    """api_outputs, read with a CloudFormation client that gives up fast (two attempts, short
    timeouts) so a wrong endpoint costs seconds; a StackMissing says what and where in one line."""
    where = endpoint_url or f"region {session.region_name}"
    cloudformation = session.client(
        "cloudformation",
        endpoint_url=endpoint_url,
        config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20),
    )
    try:
        return api_outputs(cloudformation, stack_name, emulator=bool(endpoint_url))
    except StackMissing as exc:
        if exc.missing:
            message = f"stack {stack_name} ({where}) has no output {', '.join(exc.missing)}"
        else:
            message = f"stack {stack_name} not found ({where}): deploy it, or pass --stack-name or --api-url"
        raise StackMissing(exc.missing, message) from exc
