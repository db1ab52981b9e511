"""A sample of the labelled corpus through the deployed stack: POST /audits (plan mode), the
state machine's Discover and Analyze Lambdas, the report in S3. Each case's verdict per control,
computed from the report's findings, must equal AWS's.

The whole corpus runs against LocalStack S3 in test_corpus_localstack.py (in-process analysis);
this sample proves the deployed path gives the same verdicts. Cases are built in the stack's own
account (cases that configure account-level Block Public Access are left to the other module).
"""

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from scripts.localstack_client import ENDPOINT, session
from secagent.aws import client_factory
from secagent.checks import control_verdicts
from secagent.models import ReportFinding
from tests.corpus.build import build
from tests.corpus.cases import CASES, Case
from tests.deployed import requester_api

STACK_ACCOUNT = "000000000000"
# One or more cases per control class: public read / write, policy variables, NotAction, Denies,
# Block Public Access neutralising, S3.6 through a Deny, TLS coverage, ACLs, S3.10 / S3.11 / S3.17.
SAMPLE = [
    "principal-star",
    "action-put-star",
    "cond-principalaccount-variable",
    "notaction-get-list",
    "allow-objectstar-deny-getobject",
    "rpb-bucket-public-policy",
    "ignoreacls-bucket-public-acl",
    "acl-allusers-write",
    "acl-owner-only-preferred",
    "deny-unless-other-account",
    "xacct-putobjectacl",
    "xacct-getobject",
    "tls-get-put-list",
    "tls-split-statements",
    "deny-bracket-literal-resource",
    "versioned-no-lifecycle",
    "notify-sqs",
    "sse-kms-aws-managed",
]
# The test deployment switches the MFA delete check off (LocalStack never reports MFADelete).
NOT_EVALUATED = {"FSBP:S3.20", "CIS-3.0:2.1.2"}


def _cases() -> list[Case]:
    by_id = {c.id: c for c in CASES}
    return [by_id[i] for i in SAMPLE]


def _report(outputs: dict[str, str], audit_id: str, timeout: float = 180) -> dict[str, Any]:
    s3 = client_factory(session(), endpoint_url=ENDPOINT)("s3")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=outputs["ReportBucketName"], Key=f"reports/{audit_id}.json")["Body"]
            return json.loads(body.read())
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    raise AssertionError(f"no report for {audit_id} after {timeout}s")


@pytest.fixture(scope="module")
def reports(outputs: dict[str, str]) -> dict[str, dict[str, Any]]:
    make = client_factory(session(), endpoint_url=ENDPOINT)
    s3, s3control, sqs = make("s3", "us-east-1"), make("s3control", "us-east-1"), make("sqs", "us-east-1")
    api = requester_api(outputs)
    suffix = uuid.uuid4().hex[:6]
    started: dict[str, str] = {}
    for case in _cases():
        assert case.account_public_access_block is None, case.id  # the stack's account stays as it is
        bucket = f"{case.id}-d{suffix}"
        build(case, s3, s3control, bucket=bucket, account=STACK_ACCOUNT, sqs=sqs)
        response = api.start_audit(bucket, mode="plan")
        assert response.status == 202, response.body
        started[case.id] = response.body["auditId"]
    return {case_id: _report(outputs, audit_id) for case_id, audit_id in started.items()}


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c.id)
def test_deployed_verdicts_equal_aws(case: Case, reports: dict[str, dict[str, Any]]) -> None:
    report = reports[case.id]
    # The report names controls {standard, control}; the verdicts and the cases the checks' "FSBP:S3.2".
    findings = [
        SimpleNamespace(check_id=f.check_id, status=f.status, controls=[c.label for c in f.controls])
        for f in map(ReportFinding.model_validate, report["findings"])
    ]
    verdicts = {control: str(status) for control, status in control_verdicts(findings).items()}
    expected = {c: v for c, v in case.expected.items() if c not in NOT_EVALUATED}
    assert {c: verdicts.get(c) for c in expected} == expected, case.source
