"""Walking skeleton tool: proves code asset + layer + executor + Step Functions end to end."""

import platform

from aws_lambda_powertools import Logger
from aws_lambda_powertools import __version__ as powertools_version
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    logger.info("hello", extra={"input_keys": sorted(event)})
    return {
        "message": f"Hello from {context.function_name}",
        "input": event,
        "python": platform.python_version(),
        "powertools": powertools_version,
    }
