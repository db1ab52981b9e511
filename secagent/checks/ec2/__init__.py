"""EC2 security group checks: one module per check; the module name is the check id.

The controls are AWS Security Hub's EC2 controls (FSBP ``EC2.n``) and, where Security Hub maps
them, CIS AWS Foundations Benchmark v3.0.0 (section 5). Each module's docstring quotes the AWS
definition it follows and says what it decided where that definition leaves room; the ones that
judge internet-wide ingress share ``_ingress`` (modules starting with ``_`` are not checks).
"""

RESOURCE_TYPE = "AWS::EC2::SecurityGroup"
