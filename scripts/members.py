"""Deploy the member stack (stacks/member_stack.py) into LocalStack accounts, for tests and benches.

LocalStack makes a 12-digit access key id an account, so each member account is reached by its id.
The template is synthesized in process and created with CloudFormation (it has no assets, so no
CDK bootstrap of the member account is needed, on AWS either).

    .venv/bin/python -m scripts.members deploy 111111111111 222222222222
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from functools import cache
from typing import Any

import boto3
import botocore.exceptions

from scripts.localstack_client import ENDPOINT, REGION

MEMBER_STACK = "SecurityAgentMember"
HUB_ACCOUNT = "000000000000"  # LocalStack's default account: the hub's
EXTERNAL_ID = "secagent-test-external-id"  # scripts/test.sh deploys the hub with it


def account_session(account_id: str) -> boto3.Session:
    return boto3.Session(aws_access_key_id=account_id, aws_secret_access_key="test", region_name=REGION)


def account_client(account_id: str, service: str) -> Any:
    return account_session(account_id).client(service, endpoint_url=ENDPOINT)


@cache
def member_template(hub_account: str = HUB_ACCOUNT, external_id: str = EXTERNAL_ID) -> str:
    import aws_cdk as cdk

    from stacks.member_stack import MemberStack

    app = cdk.App()
    MemberStack(app, MEMBER_STACK, hub_account=hub_account, hub_region=REGION, external_id=external_id)
    return json.dumps(app.synth().get_stack_by_name(MEMBER_STACK).template)


def deploy(account_id: str, template: str) -> None:
    """Create (or keep) the member stack in the account; waits until it is complete."""
    cfn = account_client(account_id, "cloudformation")
    try:
        status = cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]["StackStatus"]
        if status.endswith("_COMPLETE") and "ROLLBACK" not in status and "DELETE" not in status:
            return
        cfn.delete_stack(StackName=MEMBER_STACK)
    except botocore.exceptions.ClientError:
        pass
    cfn.create_stack(StackName=MEMBER_STACK, TemplateBody=template, Capabilities=["CAPABILITY_NAMED_IAM"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = cfn.describe_stacks(StackName=MEMBER_STACK)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if status.endswith("FAILED") or "ROLLBACK" in status:
            raise RuntimeError(f"member stack in {account_id}: {status}")
        time.sleep(1)
    raise TimeoutError(f"member stack in {account_id} not created in 120 s")


def remove(account_id: str) -> None:
    """The member stack and its role gone: the account is then unreachable for a sweep."""
    cfn = account_client(account_id, "cloudformation")
    with contextlib.suppress(botocore.exceptions.ClientError):
        cfn.delete_stack(StackName=MEMBER_STACK)
    iam = account_client(account_id, "iam")
    try:
        role = "SecurityAgentSweepReader"
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.delete_role(RoleName=role)
    except botocore.exceptions.ClientError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts.members", description=__doc__)
    parser.add_argument("action", choices=("deploy", "remove"))
    parser.add_argument("accounts", nargs="+")
    args = parser.parse_args(argv)
    for account in args.accounts:
        if args.action == "deploy":
            deploy(account, member_template())
        else:
            remove(account)
        print(f"{args.action}: {account}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
