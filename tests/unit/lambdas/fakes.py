"""A Lambda context with what Powertools reads, for calling handlers directly."""

from dataclasses import dataclass


@dataclass
class FakeLambdaContext:
    function_name: str = "secagent-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:secagent-test"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
