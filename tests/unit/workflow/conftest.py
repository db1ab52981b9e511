"""moto AWS for the workflow tools: an audited bucket, the report bucket, and a recorder of the
EventBridge entries the code really sends (moto accepts PutEvents but cannot deliver to targets
here: rule targets need jsonpath_ng, which is not installed)."""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from secagent.checks import analyze
from secagent.discovery import discover_bucket
from secagent.models import AgentSettings, AnalysisResult, Plan
from secagent.remediation import plan_remediations

BUCKET = "audited-app-bucket"
REPORTS = "secagent-reports-bucket"
SETTINGS = AgentSettings()


def record_events(session: boto3.Session) -> list[dict[str, Any]]:
    """Every PutEvents entry sent by clients of ``session``, as sent (before moto answers)."""
    sent: list[dict[str, Any]] = []
    session.events.register(
        "before-parameter-build.events.PutEvents", lambda params, **_: sent.extend(params["Entries"])
    )
    return sent


@pytest.fixture
def session() -> Iterator[boto3.Session]:
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        s3 = session.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        s3.delete_bucket_encryption(Bucket=BUCKET)  # one more FAIL with an automatic fix
        s3.create_bucket(Bucket=REPORTS)
        yield session


@pytest.fixture
def events(session: boto3.Session) -> list[dict[str, Any]]:
    return record_events(session)


@pytest.fixture
def before(session: boto3.Session) -> AnalysisResult:
    return analyze(discover_bucket(BUCKET, session), SETTINGS)


@pytest.fixture
def plans(session: boto3.Session, before: AnalysisResult) -> list[Plan]:
    return plan_remediations(discover_bucket(BUCKET, session), before.findings, SETTINGS).plans
