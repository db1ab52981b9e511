"""The walking skeleton on the deployed stack: API -> Step Functions -> Lambda (code asset + layer)."""

from __future__ import annotations

import json
import uuid

from tests.integration.conftest import wait_for


def test_skeleton_execution_succeeds_with_lambda_output(aws, outputs):
    # Given the deployed state machine
    sfn = aws("stepfunctions")
    payload = {"resource": {"type": "AWS::S3::Bucket", "id": f"bucket-{uuid.uuid4().hex[:8]}"}}
    # When an execution starts
    arn = sfn.start_execution(stateMachineArn=outputs["StateMachineArn"], input=json.dumps(payload))[
        "executionArn"
    ]
    result = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, 60
    )
    # Then it succeeded with the function's output: its input echoed, run by Python 3.13 with the layer
    assert result["status"] == "SUCCEEDED", result
    output = json.loads(result["output"])
    assert output["input"] == payload
    assert output["message"].startswith("Hello from SecurityAgent-")
    assert output["python"].startswith("3.13")
    assert output["powertools"] == "3.37.0"
