"""POST /audits answers for the bucket before anything starts: 404 missing, 403 unreadable."""

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from secagent.api import Forbidden, NotFound, confirm_auditable
from secagent.api.settings import ApiSettings
from secagent.models import ResourceRef


class LocationS3:
    """S3 answering GetBucketLocation with one error (or the region); records what was asked."""

    def __init__(self, error: str | None = None, status: int = 403, exc: Exception | None = None) -> None:
        self.error, self.status, self.exc = error, status, exc
        self.asked: list[dict[str, Any]] = []

    def get_bucket_location(self, **params: Any) -> dict[str, Any]:
        self.asked.append(params)
        if self.exc:
            raise self.exc
        if self.error:
            answer = {"Error": {"Code": self.error}, "ResponseMetadata": {"HTTPStatusCode": self.status}}
            raise ClientError(answer, "GetBucketLocation")  # type: ignore[arg-type]
        return {"LocationConstraint": "eu-west-1"}


def test_a_readable_bucket_of_this_account_passes_and_names_the_expected_owner(settings: ApiSettings) -> None:
    s3 = LocationS3()
    confirm_auditable(ResourceRef(id="customer-data"), "plan", s3, None, settings)
    assert s3.asked == [{"Bucket": "customer-data", "ExpectedBucketOwner": "123456789012"}]


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDenied", 403), ("AllAccessDisabled", 403), ("Other", 403)]
)
def test_an_unreadable_or_foreign_bucket_is_403(settings: ApiSettings, code: str, status: int) -> None:
    with pytest.raises(Forbidden) as refused:
        confirm_auditable(ResourceRef(id="customer-data"), "plan", LocationS3(code, status), None, settings)
    assert refused.value.field == "resource.id"
    message = refused.value.message
    assert "another account than the deployment's" in message and "No audit was started" in message
    assert "123456789012" not in message  # the account is not told to whoever asks


def test_a_missing_bucket_is_404(settings: ApiSettings) -> None:
    with pytest.raises(NotFound) as refused:
        missing = LocationS3("NoSuchBucket", 404)
        confirm_auditable(ResourceRef(id="customer-data"), "plan", missing, None, settings)
    assert 'Bucket "customer-data" does not exist' in refused.value.message


@pytest.mark.parametrize(
    "s3",
    [LocationS3("SlowDown", 503), LocationS3(exc=EndpointConnectionError(endpoint_url="https://s3"))],
)
def test_a_transient_answer_lets_the_audit_start(settings: ApiSettings, s3: LocationS3) -> None:
    # Discover retries and reports
    confirm_auditable(ResourceRef(id="customer-data"), "plan", s3, None, settings)


def test_the_stacks_own_buckets_are_refused_before_s3_is_asked() -> None:
    settings = ApiSettings.model_validate(
        {
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:SecAgentAudit",
            "reportBucket": "secagent-reports-test",
            "scope": {"protectedBuckets": ["secagent-reports-test"]},
        }
    )
    s3 = LocationS3()
    with pytest.raises(Forbidden, match="is protected"):
        confirm_auditable(ResourceRef(id="secagent-reports-test"), "plan", s3, None, settings)
    assert s3.asked == []


class GroupsEc2:
    """EC2 answering DescribeSecurityGroups with one error (or the group); records what was asked."""

    def __init__(self, error: str | None = None) -> None:
        self.error = error
        self.asked: list[dict[str, Any]] = []

    def describe_security_groups(self, **params: Any) -> dict[str, Any]:
        self.asked.append(params)
        if self.error:
            answer = {"Error": {"Code": self.error}, "ResponseMetadata": {"HTTPStatusCode": 400}}
            raise ClientError(answer, "DescribeSecurityGroups")  # type: ignore[arg-type]
        return {"SecurityGroups": [{"GroupId": params["GroupIds"][0]}]}


GROUP = ResourceRef(type="AWS::EC2::SecurityGroup", id="sg-0123456789abcdef0")


def test_a_readable_security_group_passes_and_s3_is_not_asked(settings: ApiSettings) -> None:
    s3, ec2 = LocationS3(), GroupsEc2()
    confirm_auditable(GROUP, "plan", s3, ec2, settings)
    assert ec2.asked == [{"GroupIds": [GROUP.id]}] and s3.asked == []


@pytest.mark.parametrize(
    ("code", "error", "says"),
    [
        ("InvalidGroup.NotFound", NotFound, "does not exist in this deployment's account and region"),
        ("UnauthorizedOperation", Forbidden, "may not read security group"),
    ],
)
def test_a_missing_or_unreadable_security_group_is_answered_at_the_door(
    settings: ApiSettings, code: str, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=says) as caught:
        confirm_auditable(GROUP, "plan", LocationS3(), GroupsEc2(code), settings)
    assert GROUP.id in str(caught.value)


def test_a_security_group_is_out_of_a_bucket_scoped_deployments_remediation_scope() -> None:
    settings = ApiSettings.model_validate(
        {
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:SecAgentAudit",
            "reportBucket": "secagent-reports-test",
            "scope": {"remediationPrefixes": ["sandbox-"]},
        }
    )
    ec2 = GroupsEc2()
    with pytest.raises(Forbidden, match="remediation scope"):
        confirm_auditable(GROUP, "remediate", LocationS3(), ec2, settings)
    assert ec2.asked == []
    confirm_auditable(GROUP, "plan", LocationS3(), ec2, settings)  # plan mode is still open
