"""Stale-plan check: a change to what an approved plan touches stops Apply."""

import json

import boto3

from secagent.discovery import discover_bucket
from secagent.fixes.operations import FIELD_OF_OPERATION
from secagent.models import ApiCall, Plan
from secagent.models.security_group import SecurityGroupConfig
from secagent.models.snapshot import S3BucketConfig
from secagent.workflow.recheck import fields_touched, recheck
from tests.unit.checks.snapshots import snapshot
from tests.unit.workflow.conftest import BUCKET


def test_recheck_unchanged_configuration_is_current(session: boto3.Session, plans: list[Plan]) -> None:
    snapshot = discover_bucket(BUCKET, session)
    check = recheck(snapshot, plans, session)
    assert check.stale is False and check.differences == []
    assert "versioning" in check.checked_fields


def test_recheck_change_to_a_touched_field_is_stale_with_the_difference(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # Given the plans were made, then someone enabled versioning (a field a plan changes)
    snapshot = discover_bucket(BUCKET, session)
    session.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    # When rechecked
    check = recheck(snapshot, plans, session)
    # Then the plan is stale, and the report will say what changed
    assert check.stale is True
    [difference] = check.differences
    assert difference.field == "versioning"
    assert difference.now["value"]["status"] == "Enabled" and difference.planned_on != difference.now


def test_recheck_change_outside_the_approved_plans_is_not_stale(
    session: boto3.Session, plans: list[Plan]
) -> None:
    # Given only the versioning plan is approved, and the tags changed meanwhile
    snapshot = discover_bucket(BUCKET, session)
    versioning = next(p for p in plans if p.api_call.operation == "PutBucketVersioning")
    session.client("s3").put_bucket_tagging(
        Bucket=BUCKET, Tagging={"TagSet": [{"Key": "team", "Value": "x"}]}
    )
    # Then nothing the approved plan touches changed
    check = recheck(snapshot, [versioning], session)
    assert check.stale is False and check.checked_fields == ["versioning"]


def test_every_operation_the_planner_emits_maps_to_a_configuration_field(plans: list[Plan]) -> None:
    operations = {(p.api_call.service, p.api_call.operation) for p in plans}
    assert operations and operations <= set(FIELD_OF_OPERATION)
    fields = set(S3BucketConfig.model_fields) | set(SecurityGroupConfig.model_fields)
    assert set(FIELD_OF_OPERATION.values()) <= fields


def test_an_operation_of_unknown_effect_is_checked_against_every_field() -> None:
    unknown = Plan.model_validate(
        json.loads(
            json.dumps(
                {
                    "planId": "p",
                    "order": 1,
                    "checkIds": ["x"],
                    "remediationId": "x",
                    "title": "x",
                    "resourceId": BUCKET,
                    "apiCall": ApiCall(service="s3", operation="PutBucketReplication").to_json_dict(),
                    "cliCommand": "aws ...",
                    "risk": "x",
                    "reversible": True,
                }
            )
        )
    )
    assert fields_touched([unknown], snapshot()) == sorted(S3BucketConfig.model_fields)
