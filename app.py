#!/usr/bin/env python3
"""CDK app: the SecurityAgent stack, checked by cdk-nag (AwsSolutions) on every synth."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.audit_stack import AuditStack, analysis_settings_from_context

app = cdk.App()
AuditStack(
    app,
    "SecurityAgent",
    description="Infrastructure Security Agent: audit workflow and tools",
    # Test-only fault injection (docs/workflow.md): off unless `-c faultInjection=true`.
    fault_injection=app.node.try_get_context("faultInjection") in (True, "true"),
    trigger_mode=app.node.try_get_context("triggerMode") or "remediate",
    analysis_settings=analysis_settings_from_context(app),
    forbid_self_approval=app.node.try_get_context("forbidSelfApproval") in (True, "true"),
    # Who hears about approval requests (an SNS e-mail subscription, confirmed by its recipient).
    approval_email=app.node.try_get_context("approvalEmail"),
)
# cdk-nag v3 is a CDK policy-validation plugin: an unacknowledged finding fails the synth.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
app.synth()
