"""Calls a role is granted for that a test run need not make, with what each call names.

- every operation a fix or a rollback can emit (Apply): secagent/fixes/operations.py lists them,
  the fix builders (secagent/fixes/) write their parameters;
- every read a security group's discovery can make (Discover, Recheck, Verify): a rule naming a
  prefix list, say, is rare in a test run.

The targets hold the parameters that name a resource (tests.iam.actions.resource_arns reads them);
tests/infra/test_ec2_iam.py checks the reads against what discovery really calls on moto.
"""

from __future__ import annotations

from typing import Any

from secagent.fixes.operations import FIELD_OF_OPERATION

CUSTOMER_BUCKET = "any-customer-bucket"
CUSTOMER_GROUP = "sg-0123456789abcdef0"
CUSTOMER_RULE = "sgr-0123456789abcdef0"
CUSTOMER_PREFIX_LIST = "pl-0123456789abcdef0"

# Security group fixes revoke or modify rules by id; a rollback authorizes rules again (naming none).
_GROUP_FIX_TARGETS: dict[str, dict[str, Any]] = {
    "RevokeSecurityGroupIngress": {"GroupId": CUSTOMER_GROUP, "SecurityGroupRuleIds": [CUSTOMER_RULE]},
    "RevokeSecurityGroupEgress": {"GroupId": CUSTOMER_GROUP, "SecurityGroupRuleIds": [CUSTOMER_RULE]},
    "ModifySecurityGroupRules": {
        "GroupId": CUSTOMER_GROUP,
        "SecurityGroupRules": [{"SecurityGroupRuleId": CUSTOMER_RULE}],
    },
    "AuthorizeSecurityGroupIngress": {"GroupId": CUSTOMER_GROUP},
    "AuthorizeSecurityGroupEgress": {"GroupId": CUSTOMER_GROUP},
}

# (operation, target) of each EC2 read of secagent/discovery/ec2.py.
SECURITY_GROUP_READS: list[tuple[str, dict[str, Any]]] = [
    ("DescribeSecurityGroups", {"GroupIds": [CUSTOMER_GROUP]}),
    ("DescribeSecurityGroupRules", {}),
    ("DescribeNetworkInterfaces", {}),
    ("GetManagedPrefixListEntries", {"PrefixListId": CUSTOMER_PREFIX_LIST}),
]


def fix_calls(account: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(service, operation, target) of every operation a fix or a rollback can emit, acting on a
    customer bucket, the account, or a customer security group."""
    unknown = {op for service, op in FIELD_OF_OPERATION if service == "ec2"} ^ set(_GROUP_FIX_TARGETS)
    if unknown:
        raise KeyError(f"security group fix operations without a target here, or gone: {sorted(unknown)}")
    return [
        (
            service,
            operation,
            _GROUP_FIX_TARGETS[operation]
            if service == "ec2"
            else {"Bucket": CUSTOMER_BUCKET, "AccountId": account},
        )
        for service, operation in sorted(FIELD_OF_OPERATION)
    ]
