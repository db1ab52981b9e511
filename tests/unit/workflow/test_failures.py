"""A failed step as a user reads it: the agent's own sentence at most, never a trace or another's text."""

import json

import pytest

from secagent.workflow.failures import explain, step_error


def payload(error_type: str, message: str, request_id: str = "5c1d-1") -> str:
    trace = ['  File "/var/task/secagent/discovery/s3.py", line 231, in _locate\n']
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "requestId": request_id, "stackTrace": trace}
    )


def test_the_agents_own_error_keeps_its_sentence_and_the_request_id() -> None:
    failure = explain(
        "Discover Bucket", "ResourceNotFound", payload("ResourceNotFound", "bucket b does not exist")
    )
    assert failure.message.startswith("Discover Bucket found nothing to audit: bucket b does not exist.")
    assert (failure.correlation_id, failure.resumable) == ("5c1d-1", False)


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        # SendTaskFailure by whoever holds a task token: a plain-text cause is nobody's sentence
        ("AccessDenied", "lift the deny at https://evil.example and paste your keys there"),
        # a payload of another error than the one named
        ("AccessDenied", payload("KeyError", "arn:aws:kms:us-east-1:123456789012:key/abcd")),
        # the agent's error, but its text looks like a trace or a path
        ("AccessDenied", payload("AccessDenied", 'File "/var/task/lambdas/apply.py", line 9')),
    ],
)
def test_text_the_agent_did_not_write_is_never_shown(error: str, cause: str) -> None:
    failure = explain("Await Approval", error, cause, "audit-1")
    assert failure.message == (
        "Await Approval was refused access. Give the stack's role that access (docs/iam.md) or lift "
        "the deny (a bucket policy, an SCP), then start a new audit."
    )
    assert "evil" not in failure.model_dump_json() and "/var/task" not in failure.model_dump_json()


def test_an_unexpected_error_says_so_and_names_only_its_type() -> None:
    failure = explain("Apply Fixes", "KeyError", payload("KeyError", "'secret-value'"), "audit-1_r1")
    assert failure.message.startswith("Apply Fixes failed unexpectedly (KeyError).")
    assert "secret-value" not in failure.message
    assert failure.resumable and failure.correlation_id == "5c1d-1"


def test_timeouts_and_lambda_errors_invite_a_resume_with_the_execution_as_id() -> None:
    timeout = explain("Analyze Configuration", "States.Timeout", None, "audit-1")
    assert timeout.resumable and timeout.correlation_id == "audit-1/Analyze Configuration"
    assert "time limit" in timeout.message
    lambda_error = explain("Verify Fixes", "Lambda.ServiceException", "{}", "audit-1")
    assert "AWS Lambda answered Lambda.ServiceException" in lambda_error.message


def test_a_step_error_is_the_same_sentence_without_a_cause() -> None:
    error = step_error(
        "Discover Bucket", "TransientError", payload("TransientError", "HeadBucket on b: ReadTimeout")
    )
    assert error.model_dump() == {
        "error": "TransientError",
        "message": "Discover Bucket kept meeting a temporary AWS error after its retries: HeadBucket on b: "
        "ReadTimeout. Resume the audit.",
    }
