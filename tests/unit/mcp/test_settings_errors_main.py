"""Settings from the environment, the AWS backend's stack lookup, the error sentences, and main()."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ProfileNotFound
from botocore.stub import Stubber

from secagent.client import ApiResponse
from secagent.mcp.backend import AwsBackend, ServerSettings
from secagent.mcp.errors import ApiRefused, StackNotDeployed, check_api, message_for
from secagent.mcp.server import main


def test_settings_come_from_the_environment_and_flags_win():
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:4566",
        "SECAGENT_STACK_NAME": "Other",
        "SECAGENT_DISABLED_CHECKS": "s3_bucket_mfa_delete_disabled",
    }
    settings = ServerSettings.from_env(env, region="eu-west-1", stack_name=None)
    assert settings.endpoint_url == "http://127.0.0.1:4566"
    assert settings.stack_name == "Other"
    assert settings.region == "eu-west-1"
    assert settings.agent.disabled_checks == frozenset({"s3_bucket_mfa_delete_disabled"})
    assert ServerSettings.from_env({}, stack_name="Mine").stack_name == "Mine"
    assert ServerSettings.from_env({}).stack_name == "SecurityAgent"


def test_check_api_returns_the_body_of_a_2xx_and_raises_the_apis_message_otherwise():
    assert check_api(ApiResponse(202, {"auditId": "a"})) == {"auditId": "a"}
    with pytest.raises(ApiRefused, match=r"\(409 Conflict\): not awaiting approval") as caught:
        check_api(ApiResponse(409, {"error": "Conflict", "message": "not awaiting approval"}))
    assert caught.value.status == 409
    with pytest.raises(ApiRefused, match=r"\(200 Ok\): the answer is not a JSON object"):
        check_api(ApiResponse(200, "text"))


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "HeadBucket"),
            "AWS refused HeadBucket: AccessDenied: no.",
        ),
        (ProfileNotFound(profile="nope"), "The config profile (nope) could not be found: pass an existing"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "Cannot reach AWS: Could not connect"),
        (StackNotDeployed("The stack X is not deployed."), "The stack X is not deployed."),
    ],
)
def test_anticipated_failures_read_as_one_sentence(exc, expected):
    message = message_for(exc)
    assert message is not None and message.startswith(expected)


def test_anything_else_is_a_bug_with_no_sentence():
    assert message_for(RuntimeError("boom")) is None
    assert message_for(KeyError("x")) is None


def stubbed_cloudformation(monkeypatch: pytest.MonkeyPatch) -> Stubber:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    monkeypatch.setattr("secagent.mcp.backend.client_factory", lambda *a, **k: lambda *a, **k: cloudformation)
    stubber = Stubber(cloudformation)
    stubber.activate()
    return stubber


def test_a_missing_stack_says_how_to_fix_it(monkeypatch):
    stub = stubbed_cloudformation(monkeypatch)
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id NotThere does not exist")
    backend = AwsBackend(ServerSettings(region="us-east-1", stack_name="NotThere", endpoint_url="http://h:1"))
    with pytest.raises(
        StackNotDeployed, match="NotThere is not deployed in region us-east-1 at http://h:1: deploy"
    ):
        backend.api()


def test_the_api_of_a_stack_on_a_custom_endpoint_is_its_execute_api_path(monkeypatch):
    stub = stubbed_cloudformation(monkeypatch)
    outputs = [
        {"OutputKey": "ApiId", "OutputValue": "abc123"},
        {"OutputKey": "ApiStage", "OutputValue": "prod"},
    ]
    stack = {"StackName": "S", "CreationTime": "2026-01-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE"}
    stub.add_response("describe_stacks", {"Stacks": [stack | {"Outputs": outputs}]}, {"StackName": "S"})
    backend = AwsBackend(
        ServerSettings(region="us-east-1", stack_name="S", endpoint_url="http://127.0.0.1:4566")
    )
    assert backend.api().base_url == "http://127.0.0.1:4566/_aws/execute-api/abc123/prod"
    assert backend.api() is backend.api()  # looked up once
    stub.assert_no_pending_responses()


def test_a_stack_without_api_outputs_is_not_ours(monkeypatch):
    stub = stubbed_cloudformation(monkeypatch)
    stack = {"StackName": "S", "CreationTime": "2026-01-01T00:00:00Z", "StackStatus": "CREATE_COMPLETE"}
    stub.add_response("describe_stacks", {"Stacks": [stack]})
    backend = AwsBackend(ServerSettings(region="us-east-1", stack_name="S"))
    with pytest.raises(StackNotDeployed, match="has no ApiUrl output"):
        backend.api()


def test_an_explicit_api_url_needs_no_stack_lookup():
    backend = AwsBackend(ServerSettings(region="us-east-1", api_url="https://abc.execute-api.example/prod/"))
    assert backend.api().base_url == "https://abc.execute-api.example/prod"
    assert backend.api() is backend.api()


def test_main_refuses_a_bad_port_without_writing_to_stdout(capsys):
    assert main(["--transport", "http", "--port", "70000"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "--port 70000 is not a TCP port" in err


def test_main_refuses_invalid_analysis_settings(capsys, monkeypatch):
    monkeypatch.setenv("SECAGENT_TRUSTED_ACCOUNTS", "12345")
    assert main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "invalid SECAGENT_* settings" in err and "12345" in err


def test_main_rejects_an_unknown_transport(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--transport", "sse"])
    assert exited.value.code == 2
    assert capsys.readouterr().out == ""
