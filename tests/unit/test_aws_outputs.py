"""The stack outputs the API client needs, read one way for the CLI and the MCP server."""

import boto3
import pytest
from botocore.stub import Stubber

from secagent.aws import StackMissing, api_outputs


def _cloudformation(answer: dict | None, error: str | None = None) -> tuple:
    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    stub = Stubber(client)
    if error:
        stub.add_client_error("describe_stacks", "ValidationError", error)
    else:
        stub.add_response("describe_stacks", answer)
    stub.activate()
    return client, stub


def _stack(**outputs: str) -> dict:
    return {
        "Stacks": [
            {
                "StackName": "SecurityAgent",
                "CreationTime": "2026-11-30T00:00:00Z",
                "StackStatus": "CREATE_COMPLETE",
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def test_on_aws_the_api_url_on_an_emulator_its_id_and_stage() -> None:
    client, _ = _cloudformation(_stack(ApiUrl="https://x/v1/", ApiId="a1", ApiStage="v1"))
    assert api_outputs(client, "SecurityAgent", emulator=False)["ApiUrl"] == "https://x/v1/"
    client, _ = _cloudformation(_stack(ApiUrl="https://x/v1/"))
    with pytest.raises(StackMissing) as missing:
        api_outputs(client, "SecurityAgent", emulator=True)
    assert missing.value.missing == ["ApiId", "ApiStage"]


def test_a_stack_that_is_not_there_is_stack_missing_and_other_errors_pass() -> None:
    client, _ = _cloudformation(None, "Stack with id SecurityAgent does not exist")
    with pytest.raises(StackMissing) as missing:
        api_outputs(client, "SecurityAgent", emulator=False)
    assert missing.value.missing == []
    client, _ = _cloudformation(None, "1 validation error detected: StackName")
    with pytest.raises(Exception, match="validation error") as other:
        api_outputs(client, "bad name", emulator=False)
    assert not isinstance(other.value, StackMissing)
