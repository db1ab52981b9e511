"""The IAM actions each tool needs, listed one by one (least privilege, proven by
tests/security/test_iam_proof.py against what each function really calls; docs/iam.md)."""

from __future__ import annotations

# Discover and Verify: every configuration read of secagent/discovery/s3.py.
S3_CONFIGURATION_READS = [
    "s3:ListBucket",  # HeadBucket (it also answers the bucket's region: no GetBucketLocation)
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketAcl",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketVersioning",
    "s3:GetBucketLogging",
    "s3:GetLifecycleConfiguration",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketWebsite",
    "s3:GetBucketCORS",
    "s3:GetReplicationConfiguration",
    "s3:GetBucketNotification",
    "s3:GetBucketTagging",
]
ACCOUNT_CONFIGURATION_READS = ["s3:GetAccountPublicAccessBlock"]

# Apply: the API calls remediation plans can carry (secagent/remediation), as IAM actions.
S3_REMEDIATION_WRITES = [
    "s3:PutBucketPublicAccessBlock",  # PutPublicAccessBlock (bucket)
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",  # PutBucketEncryption
    "s3:PutBucketVersioning",
    "s3:PutBucketLogging",
    "s3:PutLifecycleConfiguration",  # PutBucketLifecycleConfiguration
    "s3:PutBucketObjectLockConfiguration",  # PutObjectLockConfiguration
    "s3:PutBucketCORS",  # PutBucketCors, DeleteBucketCors
    "s3:DeleteBucketWebsite",
    # Rollbacks: restoring a website configuration; undoing the TLS fix on a bucket that had no policy.
    "s3:PutBucketWebsite",
    "s3:DeleteBucketPolicy",
]
ACCOUNT_REMEDIATION_WRITES = ["s3:PutAccountPublicAccessBlock"]  # s3control PutPublicAccessBlock

# Discover, Recheck and Verify: every read of secagent/discovery/ec2.py. EC2's Describe* actions
# have no resource-level permissions: "*" is the only resource AWS accepts for them.
EC2_CONFIGURATION_READS = [
    "ec2:DescribeSecurityGroups",  # the group; the groups its rules name; the groups naming it
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeNetworkInterfaces",  # who uses the group
]
# The CIDRs behind a rule's prefix list: authorized on the list (customer-, shared- or AWS-managed).
PREFIX_LIST_READS = ["ec2:GetManagedPrefixListEntries"]
# The API's preflight of POST /audits: does the group exist, may this deployment read it?
SECURITY_GROUP_PREFLIGHT_READS = ["ec2:DescribeSecurityGroups"]

# Apply: the calls of security group fixes and their rollbacks (secagent/fixes/operations.py),
# authorized on the group they change.
SECURITY_GROUP_REMEDIATION_WRITES = [
    "ec2:RevokeSecurityGroupIngress",  # by rule id
    "ec2:RevokeSecurityGroupEgress",
    "ec2:ModifySecurityGroupRules",  # narrow a rule to the trusted range, and back
    "ec2:AuthorizeSecurityGroupIngress",  # rollbacks: the revoked rules again
    "ec2:AuthorizeSecurityGroupEgress",
]
# ModifySecurityGroupRules is authorized on each rule it modifies too.
SECURITY_GROUP_RULE_WRITES = ["ec2:ModifySecurityGroupRules"]
