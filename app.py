#!/usr/bin/env python3
"""CDK app: the SecurityAgent stack, checked by cdk-nag (AwsSolutions) on every synth."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.audit_stack import AuditStack

app = cdk.App()
AuditStack(app, "SecurityAgent", description="Infrastructure Security Agent: audit workflow and tools")
# cdk-nag v3 is a CDK policy-validation plugin: an unacknowledged finding fails the synth.
cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
app.synth()
