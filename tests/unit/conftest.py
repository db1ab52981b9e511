"""Unit-test environment: fake credentials, no real endpoints, Powertools quiet."""

import os

import pytest

# Set before any lambdas.* import: Powertools reads these at construction time.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "secagent-unit",
        "POWERTOOLS_METRICS_NAMESPACE": "SecAgentUnit",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
)
_ENDPOINT_VARS = [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")] + ["AWS_PROFILE"]
for _k in _ENDPOINT_VARS:
    os.environ.pop(_k, None)


@pytest.fixture(autouse=True)
def _no_endpoint_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(key)
