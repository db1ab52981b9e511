"""The README's main job (walking skeleton): run the deployed state machine on LocalStack, print it."""

from __future__ import annotations

import json
import sys
import time
import uuid

from scripts.localstack_client import ENDPOINT, client, stack_outputs


def main() -> int:
    outputs = stack_outputs()
    sfn = client("stepfunctions")
    started = time.perf_counter()
    execution = sfn.start_execution(
        stateMachineArn=outputs["StateMachineArn"],
        name=f"demo-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"resource": {"type": "AWS::S3::Bucket", "id": "demo-bucket"}}),
    )
    while (result := sfn.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    print(f"Execution {result['name']} on {ENDPOINT}: {result['status']} in {elapsed:.2f}s")
    if result["status"] != "SUCCEEDED":
        print(result.get("error", ""), result.get("cause", ""), file=sys.stderr)
        return 1
    print(json.dumps(json.loads(result["output"]), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
