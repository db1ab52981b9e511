#!/usr/bin/env python3
"""CDK app: the SecurityAgent stack, checked by cdk-nag (AwsSolutions) on every synth."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.audit_stack import AuditStack, SweepDeploySettings, analysis_settings_from_context
from stacks.member_stack import MemberStack

app = cdk.App()
AuditStack(
    app,
    "SecurityAgent",
    description="Infrastructure Security Agent: audit workflow and tools",
    # Test-only fault injection (docs/workflow.md): off unless `-c faultInjection=true`.
    fault_injection=app.node.try_get_context("faultInjection") in (True, "true"),
    # Test-only: each function logs the AWS calls it makes (identifiers only) for the IAM proof.
    record_aws_calls=app.node.try_get_context("recordAwsCalls") in (True, "true"),
    trigger_mode=app.node.try_get_context("triggerMode") or "remediate",
    analysis_settings=analysis_settings_from_context(app),
    # Lab-only (README): four-eyes is on unless this is set; the requester may then approve.
    allow_self_approval=app.node.try_get_context("allowSelfApproval") in (True, "true"),
    # Optional scope: only buckets whose names start with one of these (comma-separated) are remediated.
    remediation_prefixes=app.node.try_get_context("remediationPrefixes"),
    # Who hears about approval requests (an SNS e-mail subscription, confirmed by its recipient).
    approval_email=app.node.try_get_context("approvalEmail"),
    # Sweeps: the member accounts, the external id their roles require, the map's concurrency.
    sweep=SweepDeploySettings.from_context(app),
)
# In a member account (docs/sweep.md): `cdk deploy SecurityAgentMember -c memberOf=<hub account>
# -c sweepExternalId=... [-c hubRegion=us-east-1]` with that account's credentials.
if member_of := app.node.try_get_context("memberOf"):
    MemberStack(
        app,
        "SecurityAgentMember",
        description="Infrastructure Security Agent: the read-only role a sweep assumes in this account",
        hub_account=str(member_of),
        hub_region=str(app.node.try_get_context("hubRegion") or "us-east-1"),
        external_id=str(app.node.try_get_context("sweepExternalId") or ""),
    )
# cdk-nag v3 is a CDK policy-validation plugin: an unacknowledged finding fails the synth.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
app.synth()
