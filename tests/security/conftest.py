"""Attacks on the deployed stack (LocalStack): each tries to change a bucket no person approved.

The fixtures are the integration suite's (LocalStack reachable, the stack's outputs, clients).
"""

from tests.integration.conftest import aws, localstack, outputs, pytest_collection_modifyitems  # noqa: F401
