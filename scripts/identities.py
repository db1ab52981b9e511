"""People on LocalStack: each a role of its own, assumed with STS, so four-eyes can be exercised.

LocalStack accepts any credentials; the project's LocalStack extension fills API Gateway's caller
identity from the signing key (as AWS does), so a request signed with these sessions reaches the
API as `assumed-role/<role>/<session>`.
"""

from __future__ import annotations

import json
from functools import cache

import boto3
import botocore.exceptions

from scripts.localstack_client import ENDPOINT, REGION, client

ACCOUNT = "000000000000"
_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@cache
def person(role: str, session_name: str | None = None) -> boto3.Session:
    """A boto3 session of someone acting through role `role` (created on first use)."""
    iam = client("iam")
    try:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=_TRUST, Description="a person, for tests")
    except botocore.exceptions.ClientError as err:
        if err.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    credentials = client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName=session_name or role
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def role_arn(role: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{role}"


__all__ = ["ENDPOINT", "person", "role_arn"]
