"""Checkpoints: saved per step, loaded back in workflow order."""

import boto3
import pytest
from moto import mock_aws

from secagent.aws import client_factory
from secagent.workflow.checkpoints import STEPS, checkpoint_key, load_checkpoints, save_checkpoint

BUCKET = "secagent-reports-bucket"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def test_checkpoints_saved_steps_load_back_in_workflow_order(s3):
    # Given two steps checkpointed out of order, and another audit's checkpoint
    clients = client_factory(boto3.Session(region_name="us-east-1"))
    save_checkpoint(BUCKET, "audit-1", "analysis", {"summary": {"fail": 2}}, clients)
    save_checkpoint(BUCKET, "audit-1", "discovery", {"resource": {"id": "b"}}, clients)
    save_checkpoint(BUCKET, "audit-10", "discovery", {"other": True}, clients)
    # When they are loaded
    loaded = load_checkpoints(s3, BUCKET, "audit-1")
    # Then exactly that audit's, in the order the workflow runs them
    assert list(loaded) == ["discovery", "analysis"]
    assert loaded["analysis"] == {"summary": {"fail": 2}}


def test_checkpoints_none_saved_loads_empty(s3):
    assert load_checkpoints(s3, BUCKET, "audit-2") == {}


def test_checkpoint_key_refuses_unknown_step():
    assert checkpoint_key("a", "discovery") == "checkpoints/a/discovery.json"
    with pytest.raises(ValueError):
        checkpoint_key("a", "report")
    assert next(iter(STEPS)) == "discovery"
