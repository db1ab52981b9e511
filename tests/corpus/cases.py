# ruff: noqa: E501  (a data file: one-line sources and policies read better unwrapped)
"""The labelled cases. Labels come from AWS's definitions (Security Hub control pages, the AWS
Config managed rules behind them, the S3 User Guide), never from what secagent answers.

Conventions
- ``expected`` names only the controls a case is about; other controls are not asserted.
- Strings inside ``policy``, ``encryption``, ``lifecycle_rules`` and ``notifications`` may hold
  ``{bucket}`` (the bucket's name), ``{BUCKET}`` (the name upper-cased) and ``{account}`` (the
  owner account); ``tests.corpus.build.substitute`` fills them in.
- ``None`` configuration fields mean "what a new bucket gets on AWS since April 2023": all four
  bucket Block Public Access settings on, ``BucketOwnerEnforced``, SSE-S3, owner-only ACL,
  nothing else. The builder sets these explicitly, because moto creates bare buckets.
- ``public_access_block={}`` deletes the bucket's Block Public Access configuration (none at all);
  a dict sets exactly the keys given to True/False (keys left out are False, as in the API).
- ``acl_grants``: ``(grantee, permission)`` pairs added to the owner's FULL_CONTROL grant;
  grantee is ``"AllUsers"``, ``"AuthenticatedUsers"``, ``"LogDelivery"`` or a 64-hex canonical
  user id. They need ``object_ownership`` BucketOwnerPreferred or ObjectWriter.

Labelling rules used (see each case's ``source``)
- S3.2 / S3.3 (Config s3-bucket-public-read-prohibited / -write-prohibited, S3 User Guide "The
  meaning of 'public'"): a policy statement or ACL grant giving anyone read / write. Read = IAM
  access levels Read and List (ACL READ, READ_ACP, FULL_CONTROL); write = Write, Permissions
  management, Tagging (ACL WRITE, WRITE_ACP, FULL_CONTROL). A statement pinned by a fixed value of
  aws:SourceIp (IPv4 no wider than /8), aws:SourceVpc(e), aws:PrincipalOrgID, aws:PrincipalAccount,
  aws:PrincipalArn, aws:SourceAccount, aws:SourceArn, aws:SourceOwner, aws:userid,
  s3:DataAccessPointArn/Account is not public; policy variables, wildcards, IfExists and
  ForAllValues pin nothing. IgnorePublicAcls (bucket or account) neutralises public ACLs,
  RestrictPublicBuckets (bucket or account) a public policy; BlockPublicAcls / BlockPublicPolicy
  do not touch what already exists. An unconditional Deny to everyone (or "unless caller in a fixed
  set") removes the actions and resources it covers, no more.
- S3.5 / CIS 2.1.1: a Deny to everyone of every S3 action on the bucket and ``bucket/*`` when
  aws:SecureTransport is false.
- S3.6: FAIL when principals of another AWS account may call s3:DeleteBucketPolicy,
  s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration or s3:PutObjectAcl.
- S3.8 bucket BPA all four on; S3.1 account BPA all four on; CIS 2.1.4 (judgement): FAIL only when
  neither the bucket nor the account has all four on.
"""

from dataclasses import dataclass
from typing import Any

PASS, FAIL = "PASS", "FAIL"
BACKENDS = frozenset({"moto", "localstack"})

S31, S32, S33, S35, S36, S38, S39 = (f"FSBP:S3.{n}" for n in (1, 2, 3, 5, 6, 8, 9))
S310, S311, S312, S313, S314, S315, S317, S320 = (f"FSBP:S3.{n}" for n in (10, 11, 12, 13, 14, 15, 17, 20))
CIS211, CIS212, CIS214 = "CIS-3.0:2.1.1", "CIS-3.0:2.1.2", "CIS-3.0:2.1.4"
CONTROLS = (S31, S32, S33, S35, S36, S38, S39, S310, S311, S312, S313, S314, S315, S317, S320)
CONTROLS += (CIS211, CIS212, CIS214)

REGION = "us-east-1"
OTHER_ACCOUNT = "210987654321"  # a foreign account named in policies
OTHER_CANONICAL = "c0ffee" * 10 + "abcd"  # a foreign account's canonical user id (64 hex)
ORG_ID = "o-a1b2c3d4e5"
VPCE = "vpce-1a2b3c4d"


@dataclass(frozen=True)
class Case:
    id: str  # unique, [a-z0-9-], <= 40 chars; part of the bucket name
    source: str  # one line: the AWS text (or peer issue) the labels come from
    expected: dict[str, str]  # control id -> "PASS" | "FAIL"; only the controls the case is about
    policy: dict[str, Any] | None = None
    acl_grants: tuple[tuple[str, str], ...] | None = None
    object_ownership: str | None = None
    public_access_block: dict[str, bool] | None = None
    account_public_access_block: dict[str, bool] | None = None
    encryption: dict[str, Any] | None = None
    versioning: str | None = None  # "Enabled" | "Suspended"
    lifecycle_rules: list[dict[str, Any]] | None = None
    logging: bool = False  # server access logs to a separate "<bucket>-logs" bucket
    notifications: dict[str, Any] | None = None
    object_lock: bool = False
    mfa_delete: bool = False  # PutBucketVersioning with MFADelete=Enabled (emulators only: needs root MFA)
    backends: frozenset[str] = BACKENDS  # where the case can be built faithfully
    note: str = ""  # why a backend is left out, or a labelling judgement worth knowing


# ---------------------------------------------------------------- building blocks
BUCKET_ARN = "arn:aws:s3:::{bucket}"
OBJECTS = "arn:aws:s3:::{bucket}/*"
BOTH = [BUCKET_ARN, OBJECTS]
OWNER_ROOT = "arn:aws:iam::{account}:root"
OWNER_ROLE = "arn:aws:iam::{account}:role/app"
OTHER_ROOT = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
OTHER_ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/partner"
BLACKLISTED = [
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutEncryptionConfiguration",
    "s3:PutObjectAcl",
]

ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ALL_OFF = dict.fromkeys(ALL_ON, False)


def only(*on: str) -> dict[str, bool]:
    """A Block Public Access configuration with exactly these settings on."""
    return {k: k in on for k in ALL_ON}


def all_but(off: str) -> dict[str, bool]:
    return {k: k != off for k in ALL_ON}


def _stmt(effect: str, action: Any, resource: Any, principal: Any, condition: Any, **extra: Any) -> dict:
    s: dict[str, Any] = {"Effect": effect}
    if "NotPrincipal" not in extra:
        s["Principal"] = principal
    if "NotAction" not in extra:
        s["Action"] = action
    if "NotResource" not in extra:
        s["Resource"] = resource
    s.update(extra)
    if condition:
        s["Condition"] = condition
    return s


def allow(
    action: Any = "s3:GetObject",
    resource: Any = OBJECTS,
    principal: Any = "*",
    condition: Any = None,
    **extra: Any,
) -> dict:
    return _stmt("Allow", action, resource, principal, condition, **extra)


def deny(
    action: Any = "s3:*", resource: Any = BOTH, principal: Any = "*", condition: Any = None, **extra: Any
) -> dict:
    return _stmt("Deny", action, resource, principal, condition, **extra)


def pol(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def cond(operator: str, key: str, value: Any) -> dict:
    return {operator: {key: value}}


INSECURE = cond("Bool", "aws:SecureTransport", "false")
TLS_DENY = deny(condition=INSECURE, Sid="DenyInsecureTransport")

SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
SSE_S3_BUCKET_KEY = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}]
}
SSE_KMS = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}
SSE_KMS_KEY = {
    "Rules": [
        {
            "ApplyServerSideEncryptionByDefault": {
                "SSEAlgorithm": "aws:kms",
                "KMSMasterKeyID": "arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
            "BucketKeyEnabled": True,
        }
    ]
}
SSE_DSSE = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms:dsse"}}]}

LC_EXPIRE = [
    {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 30}}
]
LC_NONCURRENT = [
    {
        "ID": "noncurrent",
        "Status": "Enabled",
        "Filter": {},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
    }
]
LC_ABORT = [
    {
        "ID": "abort-mpu",
        "Status": "Enabled",
        "Filter": {},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
]
LC_DISABLED = [{"ID": "paused", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 30}}]

QUEUE_ARN = "arn:aws:sqs:us-east-1:{account}:{bucket}"  # the builder creates this queue
NOTIFY_SQS = {"QueueConfigurations": [{"QueueArn": QUEUE_ARN, "Events": ["s3:ObjectCreated:*"]}]}
NOTIFY_SQS_FILTERED = {
    "QueueConfigurations": [
        {
            "QueueArn": QUEUE_ARN,
            "Events": ["s3:ObjectRemoved:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
        }
    ]
}

# ---------------------------------------------------------------- sources (one line each)
UG_PUBLIC = "S3 User Guide 'Blocking public access > The meaning of \"public\"'"
SRC_PUBLIC = f"Config s3-bucket-public-read-prohibited / s3-bucket-public-write-prohibited; {UG_PUBLIC}"
SRC_ACL = f"Config s3-bucket-public-read/write-prohibited (bucket ACL part); {UG_PUBLIC} (ACLs granting AllUsers/AuthenticatedUsers)"
SRC_FIXED = f"{UG_PUBLIC}: a policy granting access only to fixed values of this key is non-public"
SRC_NOT_FIXED = f"Config s3-bucket-public-read-prohibited note: non-public requires fixed values (no wildcard or variable); {UG_PUBLIC}"
SRC_SOURCEIP = f"{UG_PUBLIC}: aws:SourceIp counts as fixed only for IPv4 ranges no wider than /8"
SRC_DENY = f"IAM policy evaluation (explicit Deny overrides Allow) with {UG_PUBLIC}"
SRC_BPA_EFFECT = "S3 User Guide 'Block Public Access settings' (IgnorePublicAcls / RestrictPublicBuckets act on existing grants; BlockPublicAcls / BlockPublicPolicy only refuse new ones)"
SRC_SSL = "Config s3-bucket-ssl-requests-only / Security Hub S3.5, CIS 3.0 2.1.1: Deny aws:SecureTransport=false for all S3 actions on bucket and bucket/*"
SRC_BLACKLIST = "Config s3-bucket-blacklisted-actions-prohibited (Security Hub S3.6 blacklistedActionPatterns: s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration, s3:PutObjectAcl)"
SRC_BPA_BUCKET = "Config s3-bucket-level-public-access-prohibited (Security Hub S3.8); CIS 3.0 2.1.4 judgement: passes when the bucket or the account has all four on (cf. prowler#2647)"
SRC_BPA_ACCOUNT = "Config s3-account-level-public-access-blocks-periodic (Security Hub S3.1); CIS 3.0 2.1.4 judgement: passes when the bucket or the account has all four on (cf. prowler#2647)"
SRC_LOGGING = "Config s3-bucket-logging-enabled (Security Hub S3.9)"
SRC_VERSION_LC = "Config s3-version-lifecycle-policy-check (Security Hub S3.10): 'version enabled buckets' need an enabled lifecycle policy; Suspended is not version-enabled (judgement)"
SRC_NOTIFY = "Config s3-event-notifications-enabled (Security Hub S3.11): NON_COMPLIANT if S3 Event Notifications are not set"
SRC_ACL_USE = "Config s3-bucket-acl-prohibited (Security Hub S3.12): NON_COMPLIANT if ACLs are configured for user access (judgement: grants to anyone but the owner; cf. steampipe s3_bucket_acls_should_prohibit_user_access)"
SRC_LIFECYCLE = "Config s3-lifecycle-policy-check (Security Hub S3.13): NON_COMPLIANT if there is no active lifecycle rule"
SRC_VERSIONING = "Config s3-bucket-versioning-enabled (Security Hub S3.14): Suspended is NON_COMPLIANT"
SRC_LOCK = "Config s3-bucket-default-lock-enabled (Security Hub S3.15)"
SRC_KMS = "Config s3-default-encryption-kms (Security Hub S3.17): SSE-KMS or DSSE-KMS passes, SSE-S3 fails"
SRC_MFA = "Security Hub S3.20 (s3-bucket-mfa-delete-enabled; 'doesn't produce findings for buckets that have a lifecycle configuration') / CIS 3.0 2.1.2 (no such exception); LocalStack and moto never return MFADelete: labelled as the API answers there"


def public(
    id: str,
    source: str,
    policy: dict,
    read: bool,
    write: bool,
    *,
    extra: dict[str, str] | None = None,
    **kw: Any,
) -> Case:
    """A policy case about public read/write; the bucket's Block Public Access is off unless given."""
    kw.setdefault("public_access_block", ALL_OFF)
    expected = {S32: FAIL if read else PASS, S33: FAIL if write else PASS, **(extra or {})}
    return Case(id, source, expected, policy=policy, **kw)


def acl(
    id: str,
    grants: tuple[tuple[str, str], ...],
    read: bool,
    write: bool,
    *,
    extra: dict[str, str] | None = None,
    **kw: Any,
) -> Case:
    kw.setdefault("public_access_block", ALL_OFF)
    kw.setdefault("object_ownership", "BucketOwnerPreferred")
    kw.setdefault("source", SRC_ACL)
    expected = {S32: FAIL if read else PASS, S33: FAIL if write else PASS, **(extra or {})}
    return Case(id, kw.pop("source"), expected, acl_grants=grants, **kw)


def cross(
    id: str,
    policy: dict,
    fails: bool,
    *,
    source: str = SRC_BLACKLIST,
    extra: dict[str, str] | None = None,
    **kw: Any,
) -> Case:
    return Case(id, source, {S36: FAIL if fails else PASS, **(extra or {})}, policy=policy, **kw)


def tls(id: str, policy: dict | None, enforced: bool, *, source: str = SRC_SSL, **kw: Any) -> Case:
    verdict = PASS if enforced else FAIL
    return Case(id, source, {S35: verdict, CIS211: verdict}, policy=policy, **kw)


def bpa(id: str, bucket: dict | None, account: dict | None, *, s31: str | None, s38: str, cis: str) -> Case:
    expected = {S38: s38, CIS214: cis}
    if s31 is not None:
        expected[S31] = s31
    source = SRC_BPA_ACCOUNT if account is not None else SRC_BPA_BUCKET
    return Case(id, source, expected, public_access_block=bucket, account_public_access_block=account)


P, F = PASS, FAIL
PUBLIC_PAB = ALL_OFF

# ---------------------------------------------------------------- 1. baselines and hardened buckets
BASELINES = [
    Case(
        "default-new-bucket",
        "AWS defaults for new buckets since 2023 (BPA on, BucketOwnerEnforced, SSE-S3) against every control's rule",
        {
            S31: F,
            S32: P,
            S33: P,
            S35: F,
            S36: P,
            S38: P,
            S39: F,
            S310: P,
            S311: F,
            S312: P,
            S313: F,
            S314: F,
            S315: F,
            S317: F,
            S320: F,
            CIS211: F,
            CIS212: F,
            CIS214: P,
        },
    ),
    Case(
        "hardened-full",
        "Every control's AWS rule satisfied (account BPA, TLS deny, SSE-KMS, versioning+lifecycle, logging, events, Object Lock); S3.20 skips buckets with lifecycle rules, CIS 2.1.2 does not",
        {
            S31: P,
            S32: P,
            S33: P,
            S35: P,
            S36: P,
            S38: P,
            S39: P,
            S310: P,
            S311: P,
            S312: P,
            S313: P,
            S314: P,
            S315: P,
            S317: P,
            S320: P,
            CIS211: P,
            CIS212: F,
            CIS214: P,
        },
        policy=pol(TLS_DENY),
        account_public_access_block=ALL_ON,
        encryption=SSE_KMS,
        versioning="Enabled",
        lifecycle_rules=LC_NONCURRENT,
        logging=True,
        notifications=NOTIFY_SQS,
        object_lock=True,
    ),
    Case(
        "hardened-dsse-versioned",
        "Hardened bucket with DSSE-KMS, versioning and a noncurrent-version lifecycle rule, no event notifications",
        {
            S32: P,
            S33: P,
            S35: P,
            S36: P,
            S38: P,
            S39: P,
            S310: P,
            S311: F,
            S312: P,
            S313: P,
            S314: P,
            S317: P,
            CIS211: P,
        },
        policy=pol(TLS_DENY),
        encryption=SSE_DSSE,
        versioning="Enabled",
        lifecycle_rules=LC_NONCURRENT,
        logging=True,
    ),
    Case(
        "hardened-kms-key",
        SRC_KMS + "; customer managed key with S3 Bucket Key",
        {S317: P, S35: P, CIS211: P, S32: P, S33: P},
        policy=pol(TLS_DENY),
        encryption=SSE_KMS_KEY,
    ),
    Case(
        "hardened-vpce-read",
        f"{SRC_FIXED} (aws:SourceVpce) plus the S3.5 TLS deny; bucket BPA on",
        {S32: P, S33: P, S35: P, S36: P, S38: P, CIS211: P},
        policy=pol(
            TLS_DENY,
            allow(
                ["s3:GetObject", "s3:ListBucket"],
                BOTH,
                condition=cond("StringEquals", "aws:SourceVpce", VPCE),
            ),
        ),
    ),
    Case(
        "hardened-org-read",
        f"{SRC_FIXED} (aws:PrincipalOrgID); steampipe-mod-aws-compliance#952 false positive",
        {S32: P, S33: P, S38: P},
        policy=pol(
            allow(
                ["s3:GetObject", "s3:ListBucket"],
                BOTH,
                condition=cond("StringEquals", "aws:PrincipalOrgID", ORG_ID),
            )
        ),
    ),
    Case(
        "cloudfront-oac",
        f"S3 origin access control policy (Service cloudfront.amazonaws.com + AWS:SourceArn); {SRC_FIXED}",
        {S32: P, S33: P, S36: P},
        policy=pol(
            allow(
                principal={"Service": "cloudfront.amazonaws.com"},
                condition=cond(
                    "StringEquals",
                    "AWS:SourceArn",
                    "arn:aws:cloudfront::{account}:distribution/EDFDVBD6EXAMPLE",
                ),
            )
        ),
    ),
    Case(
        "cloudtrail-delivery",
        "CloudTrail bucket policy from the CloudTrail User Guide (service principal, aws:SourceArn); not public, no foreign account",
        {S32: P, S33: P, S36: P},
        policy=pol(
            allow(
                "s3:GetBucketAcl",
                BUCKET_ARN,
                {"Service": "cloudtrail.amazonaws.com"},
                cond("StringEquals", "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:{account}:trail/main"),
            ),
            allow(
                "s3:PutObject",
                "arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                {"Service": "cloudtrail.amazonaws.com"},
                {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:{account}:trail/main",
                    }
                },
            ),
        ),
    ),
    Case(
        "alb-log-delivery",
        "ELB access-log bucket policy (Service logdelivery.elasticloadbalancing.amazonaws.com): service principal, not public",
        {S32: P, S33: P, S36: P},
        policy=pol(
            allow(
                "s3:PutObject",
                "arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
            )
        ),
    ),
    Case(
        "elb-legacy-account-putobject",
        f"ELB legacy log delivery (account 127311923021 may PutObject): foreign account but not a blacklisted action; {SRC_BLACKLIST}",
        {S32: P, S33: P, S36: P},
        policy=pol(
            allow(
                "s3:PutObject",
                "arn:aws:s3:::{bucket}/AWSLogs/{account}/*",
                {"AWS": "arn:aws:iam::127311923021:root"},
            )
        ),
    ),
    Case(
        "owner-root-all-actions",
        f"{SRC_BLACKLIST}: only the owner account's principals",
        {S32: P, S33: P, S36: P},
        policy=pol(allow("s3:*", BOTH, {"AWS": OWNER_ROOT})),
    ),
    Case(
        "owner-role-admin",
        f"{SRC_BLACKLIST}: an owner-account role allowed every blacklisted action",
        {S32: P, S33: P, S36: P},
        policy=pol(allow(BLACKLISTED, BOTH, {"AWS": OWNER_ROLE})),
    ),
    Case(
        "owner-account-id-principal",
        f"{SRC_BLACKLIST}: Principal given as the owner's bare account id",
        {S32: P, S33: P, S36: P},
        policy=pol(allow("s3:*", BOTH, {"AWS": "{account}"})),
    ),
    Case(
        "deny-only-perimeter",
        f"A Deny-only data perimeter (unless aws:PrincipalAccount = owner) grants nothing; {UG_PUBLIC}",
        {S32: P, S33: P, S36: P},
        policy=pol(deny(condition=cond("StringNotEquals", "aws:PrincipalAccount", "{account}"))),
        public_access_block=PUBLIC_PAB,
    ),
    Case(
        "service-principal-logging",
        f"S3 server access log delivery policy (Service logging.s3.amazonaws.com, aws:SourceAccount); {SRC_FIXED}",
        {S32: P, S33: P, S36: P},
        policy=pol(
            allow(
                "s3:PutObject",
                OBJECTS,
                {"Service": "logging.s3.amazonaws.com"},
                cond("StringEquals", "aws:SourceAccount", "{account}"),
            )
        ),
        public_access_block=PUBLIC_PAB,
    ),
    Case(
        "canonical-user-other-getobject",
        f"Principal CanonicalUser of another account is a fixed principal (not public); GetObject is not blacklisted; {SRC_BLACKLIST}",
        {S32: P, S33: P, S36: P},
        policy=pol(allow(principal={"CanonicalUser": OTHER_CANONICAL})),
        public_access_block=PUBLIC_PAB,
    ),
    Case(
        "statement-object-pinned",
        f"Statement given as a single object, not a list (valid IAM grammar); {SRC_FIXED} (aws:SourceVpce)",
        {S32: P, S33: P},
        policy={
            "Version": "2012-10-17",
            "Statement": allow(condition=cond("StringEquals", "aws:SourceVpce", VPCE)),
        },
        public_access_block=PUBLIC_PAB,
    ),
]


# ---------------------------------------------------------------- 2. conditions that pin callers (not public)
def _pinned(
    id: str,
    key_note: str,
    condition: dict,
    action: Any = "s3:GetObject",
    resource: Any = OBJECTS,
    source: str = SRC_FIXED,
) -> Case:
    return public(
        id,
        f"{source} ({key_note})",
        pol(allow(action, resource, condition=condition)),
        read=False,
        write=False,
    )


PINNED = [
    _pinned(
        "fixed-sourceip-24",
        "aws:SourceIp 203.0.113.0/24",
        cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
        source=SRC_SOURCEIP,
    ),
    _pinned(
        "fixed-sourceip-slash8",
        "aws:SourceIp 10.0.0.0/8, the widest fixed range",
        cond("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
        "s3:*",
        BOTH,
        SRC_SOURCEIP,
    ),
    _pinned(
        "fixed-sourceip-host",
        "aws:SourceIp one /32 host",
        cond("IpAddress", "aws:SourceIp", "198.51.100.7/32"),
        source=SRC_SOURCEIP,
    ),
    _pinned(
        "fixed-sourceip-list",
        "aws:SourceIp two /16 ranges",
        cond("IpAddress", "aws:SourceIp", ["192.0.2.0/24", "172.16.0.0/16"]),
        "s3:*",
        BOTH,
        SRC_SOURCEIP,
    ),
    _pinned(
        "fixed-sourcevpc",
        "aws:SourceVpc",
        cond("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-sourcevpce",
        "aws:SourceVpce; prowler#4257 false positive",
        cond("StringEquals", "aws:SourceVpce", VPCE),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-principalaccount",
        "aws:PrincipalAccount",
        cond("StringEquals", "aws:PrincipalAccount", "{account}"),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-principalarn",
        "aws:PrincipalArn",
        cond("ArnEquals", "aws:PrincipalArn", OWNER_ROLE),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-principalarn-list",
        "aws:PrincipalArn, two fixed ARNs",
        cond("StringEquals", "aws:PrincipalArn", [OWNER_ROLE, "arn:aws:iam::{account}:role/ops"]),
    ),
    _pinned(
        "fixed-sourceaccount",
        "aws:SourceAccount",
        cond("StringEquals", "aws:SourceAccount", "{account}"),
        "s3:PutObject",
    ),
    _pinned(
        "fixed-sourcearn",
        "aws:SourceArn",
        cond("ArnEquals", "aws:SourceArn", "arn:aws:sns:us-east-1:{account}:events"),
        "s3:PutObject",
    ),
    _pinned(
        "fixed-sourceowner",
        "aws:SourceOwner",
        cond("StringEquals", "aws:SourceOwner", "{account}"),
        "s3:PutObject",
    ),
    _pinned("fixed-userid", "aws:userid", cond("StringEquals", "aws:userid", "AIDAJQABLZS4A3QDU576Q")),
    _pinned(
        "fixed-dap-account",
        "s3:DataAccessPointAccount",
        cond("StringEquals", "s3:DataAccessPointAccount", "{account}"),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-dap-arn",
        "s3:DataAccessPointArn",
        cond("StringEquals", "s3:DataAccessPointArn", "arn:aws:s3:us-east-1:{account}:accesspoint/app"),
    ),
    _pinned(
        "fixed-orgid-write",
        "aws:PrincipalOrgID on a write grant",
        cond("StringEquals", "aws:PrincipalOrgID", ORG_ID),
        ["s3:PutObject", "s3:DeleteObject"],
    ),
    _pinned(
        "key-case-sourceip-lower",
        "condition keys are case-insensitive: aws:sourceip",
        cond("IpAddress", "aws:sourceip", "203.0.113.0/24"),
        source=SRC_SOURCEIP,
    ),
    _pinned(
        "key-case-sourcevpc-lower",
        "condition keys are case-insensitive: aws:sourceVpc; security_monkey#641",
        cond("StringEquals", "aws:sourceVpc", "vpc-01234567"),
    ),
    _pinned(
        "key-case-sourcevpce-upper",
        "condition keys are case-insensitive: AWS:SOURCEVPCE",
        cond("StringEquals", "AWS:SOURCEVPCE", VPCE),
        "s3:*",
        BOTH,
    ),
    _pinned(
        "fixed-and-open-conditions",
        "conditions are ANDed: aws:SourceIp 0.0.0.0/0 AND a fixed aws:SourceVpce",
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}, "StringEquals": {"aws:SourceVpce": VPCE}},
        "s3:*",
        BOTH,
    ),
]


# ---------------------------------------------------------------- 3. conditions that pin nothing (public)
def _open(
    id: str,
    why: str,
    condition: dict,
    action: Any = "s3:GetObject",
    resource: Any = OBJECTS,
    *,
    read: bool = True,
    write: bool = False,
    source: str = SRC_NOT_FIXED,
) -> Case:
    return public(
        id, f"{source} ({why})", pol(allow(action, resource, condition=condition)), read=read, write=write
    )


OPEN_CONDITIONS = [
    _open(
        "cond-sourceip-all",
        "aws:SourceIp 0.0.0.0/0",
        cond("IpAddress", "aws:SourceIp", "0.0.0.0/0"),
        source=SRC_SOURCEIP,
    ),
    _open(
        "cond-sourceip-slash1",
        "aws:SourceIp 0.0.0.0/1 is wider than /8",
        cond("IpAddress", "aws:SourceIp", "0.0.0.0/1"),
        source=SRC_SOURCEIP,
    ),
    _open(
        "cond-sourceip-slash7",
        "aws:SourceIp 10.0.0.0/7 is wider than /8",
        cond("IpAddress", "aws:SourceIp", "10.0.0.0/7"),
        source=SRC_SOURCEIP,
    ),
    _open(
        "cond-sourceip-list-one-wide",
        "one of the ranges (0.0.0.0/1) is wider than /8",
        cond("IpAddress", "aws:SourceIp", ["10.0.0.0/8", "0.0.0.0/1"]),
        source=SRC_SOURCEIP,
    ),
    _open(
        "cond-sourceip-wide-write",
        "aws:SourceIp 0.0.0.0/1 on PutObject",
        cond("IpAddress", "aws:SourceIp", "0.0.0.0/1"),
        "s3:PutObject",
        read=False,
        write=True,
        source=SRC_SOURCEIP,
    ),
    _open(
        "cond-notipaddress-allow",
        "Allow with NotIpAddress 10.0.0.0/8 grants everyone else",
        cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ),
    _open(
        "cond-vpce-wildcard",
        "StringLike aws:SourceVpce vpce-*",
        cond("StringLike", "aws:SourceVpce", "vpce-*"),
    ),
    _open(
        "cond-vpc-wildcard",
        "StringLike aws:SourceVpc vpc-* (the user guide's own public example)",
        cond("StringLike", "aws:SourceVpc", "vpc-*"),
        "s3:PutObject",
        read=False,
        write=True,
    ),
    _open(
        "cond-vpce-ifexists",
        "StringEqualsIfExists holds when the key is absent",
        cond("StringEqualsIfExists", "aws:SourceVpce", VPCE),
    ),
    _open(
        "cond-org-forallvalues",
        "ForAllValues holds when the key is absent",
        cond("ForAllValues:StringEquals", "aws:PrincipalOrgID", ORG_ID),
    ),
    _open(
        "cond-principalaccount-variable",
        "a policy variable ${aws:PrincipalAccount} is not a fixed value",
        cond("StringEquals", "aws:PrincipalAccount", "${aws:PrincipalAccount}"),
    ),
    _open(
        "cond-principalarn-wildcard",
        "ArnLike aws:PrincipalArn arn:aws:iam::*:role/app",
        cond("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/app"),
    ),
    _open(
        "cond-orgid-wildcard",
        "StringLike aws:PrincipalOrgID o-*",
        cond("StringLike", "aws:PrincipalOrgID", "o-*"),
    ),
    _open(
        "cond-sourceaccount-wildcard",
        "StringLike aws:SourceAccount *",
        cond("StringLike", "aws:SourceAccount", "*"),
        "s3:PutObject",
        read=False,
        write=True,
    ),
    _open(
        "cond-vpce-stringnotequals",
        "Allow unless from one VPCE = everyone else",
        cond("StringNotEquals", "aws:SourceVpce", VPCE),
    ),
    _open(
        "cond-securetransport-only",
        "aws:SecureTransport is not a caller-pinning key",
        cond("Bool", "aws:SecureTransport", "true"),
    ),
    _open(
        "cond-referer",
        "aws:Referer is spoofable, not in the list",
        cond("StringLike", "aws:Referer", "https://www.example.com/*"),
    ),
    _open(
        "cond-useragent",
        "aws:UserAgent is not in the list",
        cond("StringEquals", "aws:UserAgent", "internal-client/1.0"),
    ),
    _open(
        "cond-null-vpce",
        "Null aws:SourceVpce=false only requires some VPCE",
        cond("Null", "aws:SourceVpce", "false"),
    ),
    _open(
        "cond-currenttime",
        "aws:CurrentTime is not in the list",
        cond("DateLessThan", "aws:CurrentTime", "2099-01-01T00:00:00Z"),
    ),
    _open(
        "cond-s3-prefix",
        "s3:prefix narrows objects, not callers",
        cond("StringEquals", "s3:prefix", "public/"),
        "s3:ListBucket",
        BUCKET_ARN,
    ),
    _open(
        "cond-acl-header-write",
        "s3:x-amz-acl on PutObject narrows the request, not the caller",
        cond("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"),
        "s3:PutObject",
        read=False,
        write=True,
    ),
]

# ---------------------------------------------------------------- 4. principal forms
PRINCIPALS = [
    public("principal-star", f'{SRC_PUBLIC}: Principal "*"', pol(allow()), True, False),
    public(
        "principal-aws-star",
        f'{SRC_PUBLIC}: Principal {{"AWS": "*"}}',
        pol(allow(principal={"AWS": "*"})),
        True,
        False,
    ),
    public(
        "principal-aws-star-list",
        f'{SRC_PUBLIC}: Principal {{"AWS": ["*"]}}; steampipe-mod-aws-compliance#538',
        pol(allow(principal={"AWS": ["*"]})),
        True,
        False,
    ),
    public(
        "principal-wildcard-root-arn",
        f"{SRC_PUBLIC}: wildcard ARN arn:aws:iam::*:root is anyone (real AWS rejects partial wildcards in Principal: emulator-only shape)",
        pol(allow(principal={"AWS": "arn:aws:iam::*:root"})),
        True,
        False,
    ),
    public(
        "principal-list-with-star",
        f'{SRC_PUBLIC}: [owner root, "*"] still includes anyone',
        pol(allow(principal={"AWS": [OWNER_ROOT, "*"]})),
        True,
        False,
    ),
    public(
        "notprincipal-allow-read",
        f"{SRC_PUBLIC}: Allow with NotPrincipal grants everyone but the listed principal",
        pol(allow(NotPrincipal={"AWS": OWNER_ROOT})),
        True,
        False,
    ),
    public(
        "notprincipal-allow-write",
        f"{SRC_PUBLIC}: Allow with NotPrincipal (write)",
        pol(allow("s3:PutObject", NotPrincipal={"AWS": OTHER_ROOT})),
        False,
        True,
    ),
    public(
        "statement-object-public",
        f"{SRC_PUBLIC}: Statement as a single object",
        {"Version": "2012-10-17", "Statement": allow()},
        True,
        False,
    ),
    public(
        "principal-other-account-read",
        f"{SRC_PUBLIC}: a named foreign account is not the public; {SRC_BLACKLIST}",
        pol(allow(["s3:GetObject", "s3:ListBucket"], BOTH, {"AWS": OTHER_ROOT})),
        False,
        False,
        extra={S36: P},
    ),
    public(
        "principal-service-cloudtrail",
        f"{SRC_PUBLIC}: a service principal is a fixed principal",
        pol(allow("s3:PutObject", OBJECTS, {"Service": "cloudtrail.amazonaws.com"})),
        False,
        False,
        extra={S36: P},
    ),
]

# ---------------------------------------------------------------- 5. actions (access levels)
SRC_LEVELS = f"{SRC_PUBLIC}; Service Authorization Reference access levels (Read/List = read; Write/Permissions management/Tagging = write)"


def _act(
    id: str,
    action: Any,
    read: bool,
    write: bool,
    resource: Any = OBJECTS,
    s36: str | None = None,
    why: str = "",
) -> Case:
    extra = {S36: s36} if s36 else None
    return public(
        id, f"{SRC_LEVELS}{': ' + why if why else ''}", pol(allow(action, resource)), read, write, extra=extra
    )


ACTIONS = [
    _act("action-star", "*", True, True, BOTH, F),
    _act("action-s3-star", "s3:*", True, True, BOTH, F, "steampipe-mod-aws-compliance#538 false negative"),
    _act(
        "action-star-object",
        "s3:*Object",
        True,
        True,
        why="matches GetObject and PutObject/DeleteObject/RestoreObject",
    ),
    _act("action-get-star", "s3:Get*", True, False, BOTH, P, "prowler#3346 flagged s3:Get* as write"),
    _act("action-list-star", "s3:List*", True, False, BUCKET_ARN),
    _act("action-listbucket", "s3:ListBucket", True, False, BUCKET_ARN),
    _act("action-getobjectversion", "s3:GetObjectVersion", True, False),
    _act("action-getobjectacl", "s3:GetObjectAcl", True, False),
    _act("action-getbucketpolicy", "s3:GetBucketPolicy", True, False, BUCKET_ARN),
    _act("action-question-wildcard", "s3:G?tObject", True, False, why="? is a one-character wildcard"),
    _act("action-name-case", "S3:GETOBJECT", True, False, why="action names are case-insensitive"),
    _act("action-put-star", "s3:Put*", False, True, BOTH, F),
    _act("action-putobject", "s3:PutObject", False, True, s36=P),
    _act("action-putobjectacl", "s3:PutObjectAcl", False, True, s36=F, why="Permissions management"),
    _act(
        "action-putbucketpolicy", "s3:PutBucketPolicy", False, True, BUCKET_ARN, F, "Permissions management"
    ),
    _act("action-putbucketacl", "s3:PutBucketAcl", False, True, BUCKET_ARN, F, "Permissions management"),
    _act("action-deleteobject", "s3:DeleteObject", False, True),
    _act("action-deleteobjectversion", "s3:DeleteObjectVersion", False, True),
    _act("action-restoreobject", "s3:RestoreObject", False, True),
    _act("action-putobjecttagging", "s3:PutObjectTagging", False, True, why="Tagging counts as write"),
    _act(
        "action-putbuckettagging",
        "s3:PutBucketTagging",
        False,
        True,
        BUCKET_ARN,
        why="Tagging counts as write",
    ),
    _act("action-replicateobject", "s3:ReplicateObject", False, True),
    _act("action-replicatedelete", "s3:ReplicateDelete", False, True),
    _act("action-bypassgovernance", "s3:BypassGovernanceRetention", False, True),
    _act("action-abortmultipart", "s3:AbortMultipartUpload", False, True),
    _act("action-get-and-put", ["s3:GetObject", "s3:PutObject"], True, True),
    public(
        "notaction-getobject",
        f"{SRC_LEVELS}: Allow with NotAction grants every action not excluded",
        pol(allow(NotAction="s3:GetObject", Resource=BOTH)),
        True,
        True,
        extra={S36: F},
    ),
    public(
        "notaction-put-delete",
        f"{SRC_LEVELS}: NotAction Put*/Delete* still leaves reads and RestoreObject/ReplicateObject/BypassGovernanceRetention",
        pol(allow(NotAction=["s3:Put*", "s3:Delete*"], Resource=BOTH)),
        True,
        True,
    ),
    Case(
        "notaction-get-list",
        f"{SRC_LEVELS}: NotAction Get*/List* leaves every write",
        {S33: F},
        policy=pol(allow(NotAction=["s3:Get*", "s3:List*"], Resource=BOTH)),
        public_access_block=PUBLIC_PAB,
    ),
]

# ---------------------------------------------------------------- 6. Deny statements interacting with public Allows
DENIES = [
    public(
        "deny-cancels-same-action",
        f"{SRC_DENY}: unconditional Deny of the only allowed action",
        pol(allow(), deny("s3:GetObject", OBJECTS)),
        False,
        False,
    ),
    public(
        "deny-get-star-covers-getobject",
        f"{SRC_DENY}: Deny s3:Get* covers s3:GetObject",
        pol(allow(), deny("s3:Get*", OBJECTS)),
        False,
        False,
    ),
    public(
        "deny-bucket-covers-prefix",
        f"{SRC_DENY}: Deny on bucket/* covers the Allow on bucket/public/*",
        pol(allow(resource="arn:aws:s3:::{bucket}/public/*"), deny("s3:GetObject", OBJECTS)),
        False,
        False,
    ),
    public(
        "deny-unless-vpce",
        f"{SRC_DENY}: Deny unless aws:SourceVpce = fixed leaves only that endpoint",
        pol(allow("s3:*", BOTH), deny(condition=cond("StringNotEquals", "aws:SourceVpce", VPCE))),
        False,
        False,
    ),
    public(
        "deny-unless-org",
        f"{SRC_DENY}: Deny unless aws:PrincipalOrgID = fixed",
        pol(allow(), deny(condition=cond("StringNotEquals", "aws:PrincipalOrgID", ORG_ID))),
        False,
        False,
    ),
    public(
        "deny-unless-vpce-ifexists",
        f"{SRC_DENY}: StringNotEqualsIfExists also denies callers without the key",
        pol(allow(), deny(condition=cond("StringNotEqualsIfExists", "aws:SourceVpce", VPCE))),
        False,
        False,
    ),
    public(
        "deny-unless-sourceip-8",
        f"{SRC_DENY}: Deny NotIpAddress 10.0.0.0/8 leaves a fixed range",
        pol(allow("s3:*", BOTH), deny(condition=cond("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"))),
        False,
        False,
    ),
    public(
        "deny-unless-owner-account",
        f"{SRC_DENY}: Deny unless aws:PrincipalAccount = owner",
        pol(
            allow("s3:*", BOTH), deny(condition=cond("StringNotEquals", "aws:PrincipalAccount", "{account}"))
        ),
        False,
        False,
        extra={S36: P},
    ),
    public(
        "allow-all-deny-getobject",
        f"{SRC_DENY}: Deny s3:GetObject leaves every other read and all writes of s3:*",
        pol(allow("s3:*", BOTH), deny("s3:GetObject", OBJECTS)),
        True,
        True,
    ),
    public(
        "allow-objectstar-deny-getobject",
        f"{SRC_DENY}: s3:*Object minus s3:GetObject leaves only writes (PutObject, DeleteObject, RestoreObject)",
        pol(allow("s3:*Object"), deny("s3:GetObject", OBJECTS)),
        False,
        True,
    ),
    public(
        "allow-getstar-deny-getobject",
        f"{SRC_DENY}: s3:Get* minus s3:GetObject leaves GetObjectAcl, GetObjectVersion...",
        pol(allow("s3:Get*", BOTH), deny("s3:GetObject", OBJECTS)),
        True,
        False,
    ),
    public(
        "allow-all-deny-put-delete",
        f"{SRC_DENY}: Deny Put*/Delete* leaves reads and RestoreObject/ReplicateObject/AbortMultipartUpload",
        pol(allow("s3:*", BOTH), deny(["s3:Put*", "s3:Delete*"])),
        True,
        True,
    ),
    public(
        "deny-securetransport-not-pinning",
        f"{SRC_DENY}: a Deny of plain HTTP still lets anyone in over HTTPS",
        pol(allow(), deny("s3:GetObject", OBJECTS, condition=INSECURE)),
        True,
        False,
    ),
    public(
        "deny-owner-principal-only",
        f"{SRC_DENY}: a Deny to the owner's root does not touch anonymous callers",
        pol(allow(), deny("s3:GetObject", OBJECTS, {"AWS": OWNER_ROOT})),
        True,
        False,
    ),
    public(
        "deny-bucket-arn-only",
        f"{SRC_DENY}: a Deny on the bucket ARN does not cover objects",
        pol(allow(), deny("s3:*", BUCKET_ARN)),
        True,
        False,
    ),
    public(
        "deny-private-prefix-only",
        f"{SRC_DENY}: a Deny on bucket/private/* leaves the other keys public",
        pol(allow(), deny("s3:GetObject", "arn:aws:s3:::{bucket}/private/*")),
        True,
        False,
    ),
    public(
        "deny-bracket-literal-resource",
        f"{SRC_DENY}: IAM Resource wildcards are only * and ?; bucket/[*] matches one literal key",
        pol(allow(), deny("s3:GetObject", "arn:aws:s3:::{bucket}/[*]")),
        True,
        False,
    ),
    public(
        "deny-uppercase-resource",
        f"{SRC_DENY}: Resource matching is case-sensitive, the upper-cased bucket ARN is another resource (real AWS rejects it: emulator-only shape)",
        pol(allow(), deny("s3:GetObject", "arn:aws:s3:::{BUCKET}/*")),
        True,
        False,
    ),
    public(
        "deny-notresource-public-prefix",
        f"{SRC_DENY}: Deny with NotResource bucket/public/* leaves public/ readable by anyone",
        pol(allow(), deny("s3:GetObject", NotResource="arn:aws:s3:::{bucket}/public/*")),
        True,
        False,
    ),
    public(
        "deny-notaction-getobject",
        f"{SRC_DENY}: Deny NotAction s3:GetObject denies everything but GetObject",
        pol(allow(), deny(NotAction="s3:GetObject", Resource=BOTH)),
        True,
        False,
    ),
    public(
        "deny-unless-wide-sourceip",
        f"{SRC_DENY}: Deny NotIpAddress 0.0.0.0/1 leaves half the internet (wider than /8)",
        pol(allow(), deny(condition=cond("NotIpAddress", "aws:SourceIp", "0.0.0.0/1"))),
        True,
        False,
    ),
    public(
        "deny-unless-useragent",
        f"{SRC_DENY}: Deny unless aws:UserAgent pins nothing",
        pol(allow(), deny(condition=cond("StringNotEquals", "aws:UserAgent", "internal-client/1.0"))),
        True,
        False,
    ),
    public(
        "deny-other-action",
        f"{SRC_DENY}: a Deny of s3:PutObject does not cancel an Allow of s3:GetObject",
        pol(allow(), deny("s3:PutObject", OBJECTS)),
        True,
        False,
    ),
]

# ---------------------------------------------------------------- 7. several statements
MULTI = [
    public(
        "multi-pinned-read-open-list",
        f"{SRC_PUBLIC}: one pinned statement does not excuse another open one",
        pol(
            allow(condition=cond("StringEquals", "aws:SourceVpce", VPCE)), allow("s3:ListBucket", BUCKET_ARN)
        ),
        True,
        False,
    ),
    public(
        "multi-pinned-write-open-read",
        f"{SRC_PUBLIC}: writes pinned to a /24, reads open",
        pol(allow("s3:PutObject", condition=cond("IpAddress", "aws:SourceIp", "203.0.113.0/24")), allow()),
        True,
        False,
    ),
    public(
        "multi-open-write-pinned-read",
        f"{SRC_PUBLIC}: reads pinned to the organisation, writes open",
        pol(allow(condition=cond("StringEquals", "aws:PrincipalOrgID", ORG_ID)), allow("s3:PutObject")),
        False,
        True,
    ),
    public(
        "multi-all-pinned",
        f"{SRC_FIXED}: every Allow pinned (VPCE for reads, owner account for writes)",
        pol(
            allow(
                ["s3:GetObject", "s3:ListBucket"],
                BOTH,
                condition=cond("StringEquals", "aws:SourceVpce", VPCE),
            ),
            allow("s3:PutObject", condition=cond("StringEquals", "aws:PrincipalAccount", "{account}")),
        ),
        False,
        False,
    ),
    public(
        "multi-owner-plus-public-read",
        f"{SRC_PUBLIC}: an owner grant plus a public read statement",
        pol(allow("s3:*", BOTH, {"AWS": OWNER_ROOT}), allow()),
        True,
        False,
        extra={S36: P},
    ),
    public(
        "tls-deny-plus-public-read",
        f"{SRC_PUBLIC}; {SRC_SSL}: the TLS Deny does not make a public read private",
        pol(TLS_DENY, allow()),
        True,
        False,
        extra={S35: P, CIS211: P},
    ),
]

# ---------------------------------------------------------------- 8. Block Public Access against existing grants
PUBLIC_READ = pol(allow())
PUBLIC_ALL = pol(allow("s3:*", BOTH))
NEUTRALISED = [
    public(
        "rpb-bucket-public-policy",
        f"{SRC_BPA_EFFECT}: bucket RestrictPublicBuckets neutralises the public policy; prowler#2715",
        PUBLIC_ALL,
        False,
        False,
        extra={S38: F},
        public_access_block=only("RestrictPublicBuckets"),
    ),
    public(
        "bpa-all-on-legacy-public-policy",
        f"{SRC_BPA_EFFECT}: a public policy written before BPA was turned on is restricted",
        PUBLIC_ALL,
        False,
        False,
        extra={S38: P},
        public_access_block=ALL_ON,
    ),
    public(
        "rpb-account-public-policy",
        f"{SRC_BPA_EFFECT}: account RestrictPublicBuckets neutralises the public policy",
        PUBLIC_ALL,
        False,
        False,
        extra={S31: F},
        account_public_access_block=only("RestrictPublicBuckets"),
    ),
    public(
        "blockpublicpolicy-only-existing",
        f"{SRC_BPA_EFFECT}: BlockPublicPolicy does not restrict a policy already in place; prowler#458",
        PUBLIC_READ,
        True,
        False,
        public_access_block=only("BlockPublicPolicy"),
    ),
    public(
        "ignoreacls-does-not-restrict-policy",
        f"{SRC_BPA_EFFECT}: IgnorePublicAcls has no effect on a public policy",
        PUBLIC_READ,
        True,
        False,
        public_access_block=only("IgnorePublicAcls", "BlockPublicAcls"),
    ),
    public(
        "account-ignoreacls-vs-policy",
        f"{SRC_BPA_EFFECT}: account IgnorePublicAcls has no effect on a public policy",
        PUBLIC_ALL,
        True,
        True,
        account_public_access_block=only("IgnorePublicAcls"),
    ),
    public(
        "account-blockpolicy-existing",
        f"{SRC_BPA_EFFECT}: account BlockPublicPolicy does not restrict a policy already in place",
        PUBLIC_READ,
        True,
        False,
        account_public_access_block=only("BlockPublicPolicy", "BlockPublicAcls"),
    ),
    acl(
        "ignoreacls-bucket-public-acl",
        (("AllUsers", "FULL_CONTROL"),),
        False,
        False,
        source=f"{SRC_BPA_EFFECT}: bucket IgnorePublicAcls neutralises the public ACL",
        public_access_block=only("IgnorePublicAcls"),
    ),
    acl(
        "ignoreacls-account-public-acl",
        (("AllUsers", "READ"), ("AllUsers", "WRITE")),
        False,
        False,
        source=f"{SRC_BPA_EFFECT}: account IgnorePublicAcls neutralises the public ACL (Prowler ignored the account level: prowler#2052)",
        extra={S31: F},
        account_public_access_block=only("IgnorePublicAcls"),
    ),
    acl(
        "blockpublicacls-only-existing-acl",
        (("AllUsers", "READ"),),
        True,
        False,
        source=f"{SRC_BPA_EFFECT}: BlockPublicAcls does not remove an existing public grant; prowler#458",
        public_access_block=only("BlockPublicAcls"),
    ),
    acl(
        "rpb-does-not-restrict-acl",
        (("AuthenticatedUsers", "WRITE"),),
        False,
        True,
        source=f"{SRC_BPA_EFFECT}: RestrictPublicBuckets has no effect on ACL grants",
        public_access_block=only("RestrictPublicBuckets", "BlockPublicPolicy"),
    ),
    acl(
        "account-all-on-bucket-open",
        (("AllUsers", "FULL_CONTROL"),),
        False,
        False,
        source=f"{SRC_BPA_EFFECT}; {SRC_BPA_ACCOUNT}: account BPA covers a bucket whose own BPA is off",
        extra={S31: P, S38: F, CIS214: P},
        policy=PUBLIC_ALL,
        account_public_access_block=ALL_ON,
    ),
]

# ---------------------------------------------------------------- 9. ACL grants
ACLS = [
    acl("acl-allusers-read", (("AllUsers", "READ"),), True, False, extra={S312: F}),
    acl("acl-allusers-read-acp", (("AllUsers", "READ_ACP"),), True, False),
    acl("acl-allusers-write", (("AllUsers", "WRITE"),), False, True, extra={S312: F}),
    acl("acl-allusers-write-acp", (("AllUsers", "WRITE_ACP"),), False, True),
    acl("acl-allusers-full-control", (("AllUsers", "FULL_CONTROL"),), True, True, extra={S312: F}),
    acl(
        "acl-authusers-read", (("AuthenticatedUsers", "READ"),), True, False, object_ownership="ObjectWriter"
    ),
    acl("acl-authusers-write", (("AuthenticatedUsers", "WRITE"),), False, True),
    acl("acl-authusers-full-control", (("AuthenticatedUsers", "FULL_CONTROL"),), True, True, extra={S312: F}),
    acl(
        "acl-canonical-other-read",
        ((OTHER_CANONICAL, "READ"),),
        False,
        False,
        source=f"{SRC_ACL}; {SRC_ACL_USE}: a grant to another account is not public but is ACL-managed access",
        extra={S312: F},
    ),
    acl(
        "acl-canonical-other-full-control",
        ((OTHER_CANONICAL, "FULL_CONTROL"),),
        False,
        False,
        source=f"{SRC_ACL}; {SRC_ACL_USE}",
        extra={S312: F},
        object_ownership="ObjectWriter",
    ),
    acl(
        "acl-log-delivery-group",
        (("LogDelivery", "WRITE"), ("LogDelivery", "READ_ACP")),
        False,
        False,
        source=f"{SRC_ACL}: the S3 Log Delivery group is not AllUsers/AuthenticatedUsers",
    ),
    Case(
        "acl-owner-only-preferred",
        SRC_ACL_USE + "; BucketOwnerPreferred with an owner-only ACL",
        {S312: P, S32: P, S33: P},
        object_ownership="BucketOwnerPreferred",
    ),
    Case(
        "acl-owner-only-objectwriter",
        SRC_ACL_USE + "; ObjectWriter with an owner-only ACL",
        {S312: P},
        object_ownership="ObjectWriter",
    ),
    Case(
        "acl-owner-enforced",
        SRC_ACL_USE + "; BucketOwnerEnforced disables ACLs",
        {S312: P, S32: P, S33: P},
        object_ownership="BucketOwnerEnforced",
    ),
]

# ---------------------------------------------------------------- 10. Block Public Access configuration (S3.1, S3.8, CIS 2.1.4)
BPA = [
    bpa("bpa-bucket-none", {}, None, s31=F, s38=F, cis=F),
    bpa("bpa-bucket-all-false", ALL_OFF, None, s31=None, s38=F, cis=F),
    bpa("bpa-bucket-no-blockpublicacls", all_but("BlockPublicAcls"), None, s31=None, s38=F, cis=F),
    bpa("bpa-bucket-no-ignorepublicacls", all_but("IgnorePublicAcls"), None, s31=None, s38=F, cis=F),
    bpa("bpa-bucket-no-blockpublicpolicy", all_but("BlockPublicPolicy"), None, s31=None, s38=F, cis=F),
    bpa("bpa-bucket-no-restrictpublic", all_but("RestrictPublicBuckets"), None, s31=None, s38=F, cis=F),
    bpa("bpa-bucket-all-on-explicit", ALL_ON, None, s31=F, s38=P, cis=P),
    bpa("acct-all-on-bucket-default", None, ALL_ON, s31=P, s38=P, cis=P),
    bpa("acct-all-on-bucket-off", ALL_OFF, ALL_ON, s31=P, s38=F, cis=P),
    bpa("acct-all-on-bucket-none", {}, ALL_ON, s31=P, s38=F, cis=P),
    bpa("acct-no-restrict-bucket-default", None, all_but("RestrictPublicBuckets"), s31=F, s38=P, cis=P),
    bpa("acct-no-ignoreacls-bucket-off", ALL_OFF, all_but("IgnorePublicAcls"), s31=F, s38=F, cis=F),
    bpa(
        "acct-no-blockpolicy-bucket-partial",
        all_but("BlockPublicAcls"),
        all_but("BlockPublicPolicy"),
        s31=F,
        s38=F,
        cis=F,
    ),
    bpa("acct-all-false-bucket-default", None, ALL_OFF, s31=F, s38=P, cis=P),
    bpa("acct-all-false-bucket-off", ALL_OFF, ALL_OFF, s31=F, s38=F, cis=F),
    bpa(
        "acct-and-bucket-complementary-halves",
        only("BlockPublicPolicy", "RestrictPublicBuckets"),
        only("BlockPublicAcls", "IgnorePublicAcls"),
        s31=F,
        s38=F,
        cis=F,
    ),
]

# ---------------------------------------------------------------- 11. TLS-only policies (S3.5, CIS 2.1.1)
TLS = [
    tls("tls-standard", pol(TLS_DENY), True),
    tls("tls-aws-star-principal", pol(deny(principal={"AWS": "*"}, condition=INSECURE)), True),
    tls("tls-action-star", pol(deny("*", condition=INSECURE)), True),
    tls(
        "tls-key-lowercase",
        pol(deny(condition=cond("Bool", "aws:securetransport", "false"))),
        True,
        source=SRC_SSL + "; condition keys are case-insensitive",
    ),
    tls(
        "tls-action-uppercase",
        pol(deny("S3:*", condition=INSECURE)),
        True,
        source=SRC_SSL + "; action names are case-insensitive",
    ),
    tls("tls-value-list", pol(deny(condition=cond("Bool", "aws:SecureTransport", ["false"]))), True),
    tls(
        "tls-split-statements",
        pol(deny(resource=BUCKET_ARN, condition=INSECURE), deny(resource=OBJECTS, condition=INSECURE)),
        True,
        source=SRC_SSL + "; two statements together cover bucket and objects",
    ),
    tls(
        "tls-bool-ifexists",
        pol(deny(condition=cond("BoolIfExists", "aws:SecureTransport", "false"))),
        True,
        source=SRC_SSL + "; BoolIfExists also denies when the key is absent",
    ),
    tls(
        "tls-bucket-prefix-wildcard",
        pol(deny(resource="arn:aws:s3:::{bucket}*", condition=INSECURE)),
        True,
        source=SRC_SSL + "; arn:aws:s3:::bucket* matches the bucket and every object (judgement)",
    ),
    tls("tls-with-owner-allow", pol(allow("s3:*", BOTH, {"AWS": OWNER_ROOT}), TLS_DENY), True),
    tls(
        "tls-objects-only",
        pol(deny("*", OBJECTS, condition=INSECURE)),
        False,
        source=SRC_SSL + "; objects only (the prowler#1481 policy)",
    ),
    tls("tls-bucket-only", pol(deny(resource=BUCKET_ARN, condition=INSECURE)), False),
    tls("tls-getobject-only", pol(deny("s3:GetObject", OBJECTS, condition=INSECURE)), False),
    tls(
        "tls-get-put-list",
        pol(deny(["s3:Get*", "s3:Put*", "s3:List*"], condition=INSECURE)),
        False,
        source=SRC_SSL + "; Delete*/Restore* still allowed over HTTP",
    ),
    tls(
        "tls-bracket-literal",
        pol(deny(resource=[BUCKET_ARN, "arn:aws:s3:::{bucket}/[*]"], condition=INSECURE)),
        False,
        source=SRC_SSL + "; [*] is a literal key, not a wildcard",
    ),
    tls(
        "tls-uppercase-resource",
        pol(deny(resource=["arn:aws:s3:::{BUCKET}", "arn:aws:s3:::{BUCKET}/*"], condition=INSECURE)),
        False,
        source=SRC_SSL
        + "; Resource matching is case-sensitive (real AWS rejects the policy: emulator-only shape)",
    ),
    tls(
        "tls-securetransport-true",
        pol(deny(condition=cond("Bool", "aws:SecureTransport", "true"))),
        False,
        source=SRC_SSL + "; denies HTTPS instead",
    ),
    tls(
        "tls-allow-only-secure",
        pol(allow("s3:*", BOTH, {"AWS": OWNER_ROOT}, cond("Bool", "aws:SecureTransport", "true"))),
        False,
        source=SRC_SSL + "; an Allow does not deny HTTP granted elsewhere",
    ),
    tls("tls-owner-principal-only", pol(deny(principal={"AWS": OWNER_ROOT}, condition=INSECURE)), False),
    tls(
        "tls-extra-condition",
        pol(
            deny(
                condition={
                    "Bool": {"aws:SecureTransport": "false"},
                    "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                }
            )
        ),
        False,
        source=SRC_SSL + "; a second condition narrows the Deny to one range",
    ),
    tls(
        "tls-version-only",
        pol(deny(condition=cond("NumericLessThan", "s3:TlsVersion", "1.2"))),
        False,
        source=SRC_SSL + "; s3:TlsVersion does not deny plain HTTP",
    ),
    tls(
        "tls-notaction-getobject",
        pol(deny(NotAction="s3:GetObject", Resource=BOTH, Condition=INSECURE)),
        False,
        source=SRC_SSL + "; GetObject left allowed over HTTP",
    ),
]


# ---------------------------------------------------------------- 12. foreign accounts and blacklisted actions (S3.6)
def _foreign(
    id: str, action: Any, fails: bool, principal: Any = None, resource: Any = BOTH, **kw: Any
) -> Case:
    return cross(id, pol(allow(action, resource, principal or {"AWS": OTHER_ROOT})), fails, **kw)


CROSS = [
    _foreign("xacct-putbucketpolicy", "s3:PutBucketPolicy", True, extra={S32: P, S33: P}),
    _foreign("xacct-getobject", "s3:GetObject", False, resource=OBJECTS),
    _foreign("xacct-s3-star", "s3:*", True),
    _foreign("xacct-put-star", "s3:Put*", True),
    _foreign("xacct-putobject", "s3:PutObject", False, resource=OBJECTS),
    _foreign("xacct-putobjectacl", "s3:PutObjectAcl", True, resource=OBJECTS),
    _foreign("xacct-deletebucketpolicy", "s3:DeleteBucketPolicy", True, resource=BUCKET_ARN),
    _foreign("xacct-putencryption", "s3:PutEncryptionConfiguration", True, resource=BUCKET_ARN),
    _foreign("xacct-putbucketacl", "s3:PutBucketAcl", True, resource=BUCKET_ARN),
    _foreign("xacct-action-star", "*", True),
    _foreign("xacct-acl-wildcard", "s3:*Acl", True),
    _foreign("xacct-get-put-object", ["s3:GetObject", "s3:PutObject"], False, resource=OBJECTS),
    _foreign(
        "xacct-action-uppercase",
        "S3:PUTBUCKETPOLICY",
        True,
        resource=BUCKET_ARN,
        source=SRC_BLACKLIST + "; action names are case-insensitive",
    ),
    _foreign("xacct-account-id-string", "s3:PutObjectAcl", True, {"AWS": OTHER_ACCOUNT}, OBJECTS),
    _foreign(
        "xacct-user-arn",
        "s3:PutEncryptionConfiguration",
        True,
        {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:user/alice"},
        BUCKET_ARN,
    ),
    _foreign(
        "xacct-mixed-principals", "s3:PutBucketAcl", True, {"AWS": [OWNER_ROOT, OTHER_ROLE]}, BUCKET_ARN
    ),
    cross(
        "xacct-notaction-getobject",
        pol(allow(NotAction="s3:GetObject", Resource=BOTH, Principal={"AWS": OTHER_ROOT})),
        True,
    ),
    cross(
        "xacct-notaction-blacklist",
        pol(allow(NotAction=BLACKLISTED, Resource=BOTH, Principal={"AWS": OTHER_ROOT})),
        False,
        source=SRC_BLACKLIST + "; NotAction excludes exactly the blacklisted actions",
    ),
    cross(
        "xacct-sourceip-condition",
        pol(
            allow(
                "s3:PutBucketPolicy",
                BUCKET_ARN,
                {"AWS": OTHER_ROLE},
                cond("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
            )
        ),
        True,
        source=SRC_BLACKLIST + "; a source-IP condition still lets the foreign account in",
    ),
    cross(
        "xacct-denied-explicitly",
        pol(allow("s3:*", BOTH, {"AWS": OTHER_ROOT}), deny("s3:*", BOTH, {"AWS": OTHER_ROOT})),
        False,
        source=SRC_BLACKLIST + "; an explicit Deny to the same account cancels the grant",
    ),
    cross(
        "xacct-star-deny-blacklist-all",
        pol(allow("s3:*", BOTH, {"AWS": OTHER_ROOT}), deny(BLACKLISTED)),
        False,
        source=SRC_BLACKLIST + "; every blacklisted action denied to everyone",
    ),
    cross(
        "xacct-star-deny-blacklist-part",
        pol(allow("s3:*", BOTH, {"AWS": OTHER_ROOT}), deny(["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"])),
        True,
        source=SRC_BLACKLIST + "; PutBucketAcl/PutObjectAcl/PutEncryptionConfiguration remain",
    ),
    cross(
        "xacct-canonical-putobjectacl",
        pol(allow("s3:PutObjectAcl", OBJECTS, {"CanonicalUser": OTHER_CANONICAL})),
        True,
        source=SRC_BLACKLIST + "; a CanonicalUser principal of another account (judgement)",
    ),
    cross(
        "xacct-service-putobjectacl",
        pol(allow("s3:PutObjectAcl", OBJECTS, {"Service": "logging.s3.amazonaws.com"})),
        False,
        source=SRC_BLACKLIST + "; a service principal is no other account",
    ),
    cross(
        "public-star-putbucketacl",
        pol(allow("s3:PutBucketAcl", BUCKET_ARN)),
        True,
        extra={S33: F},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "public-notprincipal-putbucketpolicy",
        pol(allow("s3:PutBucketPolicy", BUCKET_ARN, NotPrincipal={"AWS": OWNER_ROOT})),
        True,
        extra={S33: F},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "star-principalaccount-owner",
        pol(allow("s3:*", BOTH, condition=cond("StringEquals", "aws:PrincipalAccount", "{account}"))),
        False,
        source=SRC_BLACKLIST + "; Principal * pinned to the owner account",
        extra={S32: P, S33: P},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "star-principalaccount-other",
        pol(
            allow(
                "s3:PutBucketPolicy",
                BUCKET_ARN,
                condition=cond("StringEquals", "aws:PrincipalAccount", OTHER_ACCOUNT),
            )
        ),
        True,
        source=SRC_BLACKLIST + "; Principal * pinned to a foreign account: not public, but cross-account",
        extra={S33: P},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "star-principalarn-other",
        pol(allow("s3:PutObjectAcl", OBJECTS, condition=cond("ArnEquals", "aws:PrincipalArn", OTHER_ROLE))),
        True,
        source=SRC_BLACKLIST + "; Principal * pinned to a foreign role ARN",
        extra={S33: P},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "star-orgid-putbucketpolicy",
        pol(
            allow(
                "s3:PutBucketPolicy", BUCKET_ARN, condition=cond("StringEquals", "aws:PrincipalOrgID", ORG_ID)
            )
        ),
        True,
        source=SRC_BLACKLIST + "; an organisation holds other accounts (judgement); not public",
        extra={S33: P},
        public_access_block=PUBLIC_PAB,
    ),
    cross(
        "deny-unless-other-account",
        pol(
            allow("s3:PutBucketPolicy", BUCKET_ARN),
            deny(condition=cond("StringNotEquals", "aws:PrincipalAccount", OTHER_ACCOUNT)),
        ),
        True,
        source=SRC_BLACKLIST
        + "; Principal * with Deny unless aws:PrincipalAccount = a foreign account leaves exactly that account",
        extra={S33: P},
        public_access_block=PUBLIC_PAB,
    ),
]

# ---------------------------------------------------------------- 13. logging, versioning, lifecycle, events, lock, encryption, MFA
OTHERS = [
    Case("logging-enabled", SRC_LOGGING, {S39: P}, logging=True),
    Case(
        "versioned-no-logging",
        f"{SRC_LOGGING}; {SRC_VERSIONING}",
        {S39: F, S314: P},
        versioning="Enabled",
        lifecycle_rules=LC_NONCURRENT,
    ),
    Case(
        "versioned-no-lifecycle",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}; {SRC_VERSIONING}; {SRC_MFA}",
        {S310: F, S313: F, S314: P, S320: F, CIS212: F},
        versioning="Enabled",
    ),
    Case(
        "versioned-lifecycle-expire",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}",
        {S310: P, S313: P, S314: P},
        versioning="Enabled",
        lifecycle_rules=LC_EXPIRE,
    ),
    Case(
        "versioned-lifecycle-noncurrent",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}",
        {S310: P, S313: P},
        versioning="Enabled",
        lifecycle_rules=LC_NONCURRENT,
    ),
    Case(
        "versioned-lifecycle-disabled-only",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}: a Disabled rule is not an enabled lifecycle policy",
        {S310: F, S313: F},
        versioning="Enabled",
        lifecycle_rules=LC_DISABLED,
    ),
    Case(
        "versioned-lifecycle-mixed",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}: one enabled rule among disabled ones",
        {S310: P, S313: P},
        versioning="Enabled",
        lifecycle_rules=LC_DISABLED + LC_ABORT,
    ),
    Case(
        "suspended-no-lifecycle",
        f"{SRC_VERSION_LC}; {SRC_VERSIONING}; {SRC_MFA}",
        {S310: P, S313: F, S314: F, S320: F, CIS212: F},
        versioning="Suspended",
    ),
    Case(
        "suspended-with-lifecycle",
        f"{SRC_VERSION_LC}; {SRC_VERSIONING}; {SRC_LIFECYCLE}",
        {S310: P, S313: P, S314: F},
        versioning="Suspended",
        lifecycle_rules=LC_NONCURRENT,
    ),
    Case(
        "unversioned-lifecycle-abort",
        f"{SRC_VERSION_LC}; {SRC_LIFECYCLE}; {SRC_VERSIONING}",
        {S310: P, S313: P, S314: F},
        lifecycle_rules=LC_ABORT,
    ),
    Case(
        "unversioned-lifecycle-disabled",
        f"{SRC_LIFECYCLE}: only a Disabled rule; {SRC_VERSION_LC} (unversioned)",
        {S313: F, S310: P},
        lifecycle_rules=LC_DISABLED,
    ),
    Case(
        "object-lock-no-lifecycle",
        f"{SRC_LOCK}; {SRC_VERSION_LC} (Object Lock turns versioning on)",
        {S315: P, S314: P, S310: F},
        object_lock=True,
    ),
    Case(
        "object-lock-with-lifecycle",
        f"{SRC_LOCK}; {SRC_VERSION_LC}",
        {S315: P, S310: P, S313: P},
        object_lock=True,
        lifecycle_rules=LC_NONCURRENT,
    ),
    Case(
        "no-object-lock-versioned", SRC_LOCK, {S315: F}, versioning="Enabled", lifecycle_rules=LC_NONCURRENT
    ),
    Case(
        "mfa-delete-requested",
        SRC_MFA,
        {S320: F, CIS212: F, S314: P},
        versioning="Enabled",
        mfa_delete=True,
        note="MFADelete=Enabled is accepted by PutBucketVersioning on both emulators but never returned; on AWS it needs the root user's MFA",
    ),
    Case(
        "lifecycle-skips-mfa-delete-control",
        SRC_MFA,
        {S320: P, CIS212: F},
        versioning="Enabled",
        lifecycle_rules=LC_NONCURRENT,
    ),
    Case("notify-sqs", SRC_NOTIFY, {S311: P}, notifications=NOTIFY_SQS),
    Case(
        "notify-sqs-filtered",
        SRC_NOTIFY + "; a filtered configuration is still configured",
        {S311: P},
        notifications=NOTIFY_SQS_FILTERED,
    ),
    Case(
        "notify-eventbridge",
        SRC_NOTIFY + "; S3 User Guide lists EventBridge as an event notification destination (judgement)",
        {S311: P},
        notifications={"EventBridgeConfiguration": {}},
        backends=frozenset({"localstack"}),
        note="moto drops EventBridgeConfiguration (GetBucketNotificationConfiguration answers empty)",
    ),
    Case("notify-none-versioned", SRC_NOTIFY, {S311: F}, versioning="Enabled", lifecycle_rules=LC_NONCURRENT),
    Case("sse-s3-explicit", SRC_KMS, {S317: F}, encryption=SSE_S3),
    Case(
        "sse-s3-bucket-key",
        SRC_KMS + "; S3 Bucket Key does not make SSE-S3 into KMS",
        {S317: F},
        encryption=SSE_S3_BUCKET_KEY,
    ),
    Case("sse-kms-aws-managed", SRC_KMS, {S317: P}, encryption=SSE_KMS),
    Case("sse-dsse-kms", SRC_KMS, {S317: P}, encryption=SSE_DSSE),
]

CASES: list[Case] = [
    *BASELINES,
    *PINNED,
    *OPEN_CONDITIONS,
    *PRINCIPALS,
    *ACTIONS,
    *DENIES,
    *MULTI,
    *NEUTRALISED,
    *ACLS,
    *BPA,
    *TLS,
    *CROSS,
    *OTHERS,
]
CASES_BY_ID = {c.id: c for c in CASES}
