"""The member stack: deployed in each account a sweep reads (docs/sweep.md).

One read-only role, `SecurityAgentSweepReader`, that only the hub deployment's two sweep roles may
assume, and only with the external id. It may read exactly what Discover reads (the same action
lists as the audit's readers, stacks/constructs/permissions.py), list the buckets and groups, and
read its own role (the hub proves it is the member stack's, of a version it can use). It may change
nothing. No assets: it deploys without a CDK bootstrap of the member account.
"""

from __future__ import annotations

import re

from aws_cdk import Acknowledgment, Aws, BootstraplessSynthesizer, Duration, Stack, Tags, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

from secagent.sweep.accounts import MEMBER_ROLE_NAME, MEMBER_VERSION, MEMBER_VERSION_TAG
from stacks.constructs import permissions

# The hub's sweep roles, by name: the member's trust policy names them (a role of the hub is
# created per region, IAM names are global).
LISTER_ROLE = "SecurityAgentSweepLister"
SCANNER_ROLE = "SecurityAgentSweepScanner"


def hub_role_name(kind: str, region: str) -> str:
    return f"{kind}-{region}"


def check_external_id(external_id: str | None) -> str:
    """An external id as STS takes it (2-1224 characters of [\\w+=,.@:/-])."""
    if not external_id or not re.fullmatch(r"[\w+=,.@:/-]{2,1224}", external_id):
        raise ValueError(
            "sweepExternalId must be 2-1224 characters of letters, digits and +=,.@:/-_ "
            "(the same value in the hub and in every member stack)"
        )
    return external_id


class MemberStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        hub_account: str,
        hub_region: str,
        external_id: str,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, synthesizer=BootstraplessSynthesizer(), **kwargs)  # type: ignore[arg-type]
        Tags.of(self).add("project", "infrastructure-security-agent")
        hub_roles = [
            f"arn:{Aws.PARTITION}:iam::{hub_account}:role/{hub_role_name(kind, hub_region)}"
            for kind in (LISTER_ROLE, SCANNER_ROLE)
        ]
        role = iam.Role(
            self,
            "SweepReader",
            role_name=MEMBER_ROLE_NAME,
            description="Read-only: the security agent's sweep reads bucket and security group configuration",
            max_session_duration=Duration.hours(1),
            assumed_by=iam.AccountPrincipal(hub_account).with_conditions(
                {
                    "StringEquals": {"sts:ExternalId": check_external_id(external_id)},
                    "ArnEquals": {"aws:PrincipalArn": hub_roles},
                }
            ),
        )
        Tags.of(role).add(MEMBER_VERSION_TAG, str(MEMBER_VERSION))
        any_bucket = self.format_arn(service="s3", region="", account="", resource="*")
        any_prefix_list = self.format_arn(
            service="ec2", account="*", resource="prefix-list", resource_name="*"
        )
        statements = [
            (["s3:ListAllMyBuckets", *permissions.ACCOUNT_CONFIGURATION_READS], ["*"]),
            (permissions.S3_CONFIGURATION_READS, [any_bucket]),
            (permissions.EC2_CONFIGURATION_READS, ["*"]),
            (permissions.PREFIX_LIST_READS, [any_prefix_list]),
            (
                ["iam:GetRole"],
                [self.format_arn(service="iam", region="", resource="role", resource_name=MEMBER_ROLE_NAME)],
            ),
        ]
        for actions, resources in statements:
            role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))
        reasons = {
            "Resource::*": "Actions with no resource-level permissions: s3:ListAllMyBuckets, "
            "s3:GetAccountPublicAccessBlock and EC2's Describe* reads (docs/iam.md).",
            "Resource::arn:<AWS::Partition>:s3:::*": "The sweep reads every bucket of the account; the "
            "actions are the read-only configuration reads listed in stacks/constructs/permissions.py.",
            "Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:*:prefix-list/*": "A rule's prefix list may "
            "be AWS's or shared by another account; the only action is ec2:GetManagedPrefixListEntries.",
        }
        for finding, reason in reasons.items():
            Validations.of(role).acknowledge(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
            )
