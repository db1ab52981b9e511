"""Integration tests run against the real thing: LocalStack on 127.0.0.1:4566 and the deployed stack."""

from __future__ import annotations

import io
import json
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scripts.localstack_client import ENDPOINT, client, stack_outputs
from secagent.client import AuditApiClient
from tests.deployed import approver_api, requester_api

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def localstack() -> str:
    try:
        urllib.request.urlopen(f"{ENDPOINT}/_localstack/health", timeout=3).read()
    except OSError as exc:
        pytest.fail(f"LocalStack is not reachable on {ENDPOINT} ({exc}); run `make localstack-up` first")
    return ENDPOINT


@pytest.fixture(scope="session")
def aws() -> Callable[..., Any]:
    """boto3 client factory aimed at LocalStack: aws("lambda")."""
    return client


@pytest.fixture(scope="session")
def outputs() -> dict[str, str]:
    try:
        return stack_outputs()
    except LookupError as exc:
        pytest.fail(str(exc))


def zip_files(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture()
def make_function(aws: Callable[..., Any]) -> Iterator[Callable[..., str]]:
    """Creates a throw-away python3.13 function from source files; deleted after the test."""
    lam = aws("lambda")
    created: list[str] = []

    def create(files: dict[str, str], *, handler: str = "app.handler", timeout: int = 3, layers=()) -> str:
        name = f"executor-test-{uuid.uuid4().hex[:10]}"
        lam.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role="arn:aws:iam::000000000000:role/executor-test",
            Handler=handler,
            Code={"ZipFile": zip_files(files)},
            Timeout=timeout,
            Layers=list(layers),
        )
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        created.append(name)
        return name

    yield create
    for name in created:
        lam.delete_function(FunctionName=name)


@pytest.fixture()
def make_layer(aws: Callable[..., Any]) -> Callable[[dict[str, str]], str]:
    lam = aws("lambda")

    def create(files: dict[str, str]) -> str:
        name = f"executor-test-layer-{uuid.uuid4().hex[:8]}"
        return lam.publish_layer_version(
            LayerName=name, Content={"ZipFile": zip_files(files)}, CompatibleRuntimes=["python3.13"]
        )["LayerVersionArn"]

    return create


def wait_for(predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if result := predicate():
            return result
        if time.monotonic() > deadline:
            return result
        time.sleep(interval)


@pytest.fixture(scope="module")
def api(outputs) -> AuditApiClient:
    """The requester."""
    return requester_api(outputs)


@pytest.fixture(scope="module")
def approver(outputs) -> AuditApiClient:
    """Another person (four-eyes): approvals come from them."""
    return approver_api(outputs)


@pytest.fixture(scope="module")
def fault_injection(aws, outputs) -> None:
    machine = aws("stepfunctions").describe_state_machine(stateMachineArn=outputs["StateMachineArn"])
    discover = json.loads(machine["definition"])["States"]["Discover Bucket"]["Resource"]
    variables = aws("lambda").get_function_configuration(FunctionName=discover)["Environment"]["Variables"]
    if variables.get("SECAGENT_FAULT_INJECTION") != "enabled":
        pytest.fail("these tests need the stack deployed with `-c faultInjection=true` (make test does it)")
