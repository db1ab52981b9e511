"""Discover: read one S3 bucket's security-relevant configuration.

The only module that calls AWS to read configuration. Each reader turns one API
response into a typed value; "not configured" answers become ``None`` (data, not
failures). Error policy:
  - bucket missing            -> ResourceNotFound (not retryable)
  - throttling / 5xx / network -> TransientError (retryable)
  - access denied / anything else on one call -> that field is ``unknown`` with the reason

A caller may ask for some fields only (``fields``): the others cost no call and are ``unknown``
with the reason ``NOT_REQUESTED``, so a check that needs one answers UNKNOWN, never a guess.
"""

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError

from secagent.aws import TRANSIENT_ERROR_CODES, ClientFactory, client_factory
from secagent.discovery._calls import UNSUPPORTED, error_code, http_status, whoami
from secagent.discovery.names import validate_bucket_name
from secagent.models.errors import ResourceNotFound, TransientError
from secagent.models.probe import Probe
from secagent.models.snapshot import (
    Acl,
    BucketSnapshot,
    CorsRule,
    Encryption,
    Grant,
    Logging,
    ObjectLock,
    PublicAccessBlock,
    ReadBy,
    ResourceRef,
    S3BucketConfig,
    Versioning,
)

NOT_CONFIGURED = frozenset(
    {
        "NoSuchBucketPolicy",
        "NoSuchPublicAccessBlockConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
        "OwnershipControlsNotFoundError",
        "NoSuchLifecycleConfiguration",
        "ObjectLockConfigurationNotFoundError",
        "NoSuchWebsiteConfiguration",
        "NoSuchCORSConfiguration",
        "ReplicationConfigurationNotFoundError",
        "NoSuchTagSet",
        "NoSuchTagSetError",
    }
)
MISSING = frozenset({"NoSuchBucket", "404", "NotFound"})

# Every configuration field Discover reads, one API call each; the account's own fields need the
# caller's account id (GetCallerIdentity), the others are the bucket's.
FIELDS: tuple[str, ...] = tuple(S3BucketConfig.model_fields)
ACCOUNT_FIELDS = frozenset({"account_public_access_block"})
# The reason of a field the caller did not ask for (an unknown field, never "not configured").
NOT_REQUESTED = "not read: not requested"


class _NotConfigured(Exception):
    pass


# Evidence the analysis can do without (it decides "is this policy public" itself): an error
# reading it, even a 5xx, leaves the field unknown instead of failing the whole Discover.
# LocalStack answers GetBucketPolicyStatus with 500 InternalFailure.
SUPPLEMENTARY = frozenset({"policy_status_is_public"})


def _raise_if_fatal(err: ClientError, bucket: str, operation: str) -> None:
    code = error_code(err)
    if code in UNSUPPORTED:
        return
    if code in TRANSIENT_ERROR_CODES or http_status(err) >= 500:
        raise TransientError(f"{operation} on {bucket}: {code or http_status(err)}") from err
    if code == "NoSuchBucket":
        raise ResourceNotFound(f"bucket {bucket} does not exist") from err


def _strip(resp: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def _pab(cfg: dict[str, Any]) -> PublicAccessBlock:
    return PublicAccessBlock(
        block_public_acls=cfg.get("BlockPublicAcls", False),
        ignore_public_acls=cfg.get("IgnorePublicAcls", False),
        block_public_policy=cfg.get("BlockPublicPolicy", False),
        restrict_public_buckets=cfg.get("RestrictPublicBuckets", False),
    )


def _acl(resp: dict[str, Any]) -> Acl:
    grants = [
        Grant(
            grantee_type=g["Grantee"].get("Type", ""),
            permission=g["Permission"],
            grantee_id=g["Grantee"].get("ID"),
            grantee_uri=g["Grantee"].get("URI"),
            grantee_email=g["Grantee"].get("EmailAddress"),
            display_name=g["Grantee"].get("DisplayName"),
        )
        for g in resp.get("Grants", [])
    ]
    owner = resp.get("Owner", {})
    return Acl(owner_id=owner.get("ID"), owner_display_name=owner.get("DisplayName"), grants=grants)


def _encryption(resp: dict[str, Any]) -> Encryption | None:
    rules = resp.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return None
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    return Encryption(
        algorithm=default.get("SSEAlgorithm", ""),
        kms_key_id=default.get("KMSMasterKeyID"),
        bucket_key_enabled=bool(rules[0].get("BucketKeyEnabled", False)),
        blocked_encryption_types=list(rules[0].get("BlockedEncryptionTypes", {}).get("EncryptionType", [])),
    )


def _cors(resp: dict[str, Any]) -> list[CorsRule]:
    return [
        CorsRule(
            allowed_methods=r.get("AllowedMethods", []),
            allowed_origins=r.get("AllowedOrigins", []),
            allowed_headers=r.get("AllowedHeaders", []),
            expose_headers=r.get("ExposeHeaders", []),
            max_age_seconds=r.get("MaxAgeSeconds"),
            id=r.get("ID"),
        )
        for r in resp.get("CORSRules", [])
    ]


def _logging(resp: dict[str, Any]) -> Logging | None:
    enabled = resp.get("LoggingEnabled")
    if not enabled:
        return None
    return Logging(target_bucket=enabled["TargetBucket"], target_prefix=enabled.get("TargetPrefix", ""))


def bucket_readers(s3: Any, bucket: str, owner: str | None = None) -> dict[str, Callable[[], Any]]:
    """The bucket's config field -> zero-arg reader. One API call each.

    ``owner``: the account the bucket must belong to (ExpectedBucketOwner). A bucket of another
    account then answers 403 to every read, so no verdict (and no fix) is made on it as if the
    caller's account owned it: the fixes pin policies to that account.
    """
    b = {"Bucket": bucket, **({"ExpectedBucketOwner": owner} if owner else {})}
    return {
        "public_access_block": lambda: _pab(
            s3.get_public_access_block(**b)["PublicAccessBlockConfiguration"]
        ),
        "acl": lambda: _acl(s3.get_bucket_acl(**b)),
        "ownership_controls": lambda: s3.get_bucket_ownership_controls(**b)["OwnershipControls"]["Rules"][0][
            "ObjectOwnership"
        ],
        "policy": lambda: json.loads(s3.get_bucket_policy(**b)["Policy"]),
        "policy_status_is_public": lambda: bool(s3.get_bucket_policy_status(**b)["PolicyStatus"]["IsPublic"]),
        "encryption": lambda: _encryption(s3.get_bucket_encryption(**b)),
        "versioning": lambda: _versioning(s3.get_bucket_versioning(**b)),
        "logging": lambda: _logging(s3.get_bucket_logging(**b)),
        "lifecycle_rules": lambda: s3.get_bucket_lifecycle_configuration(**b).get("Rules") or None,
        "object_lock": lambda: _object_lock(s3.get_object_lock_configuration(**b)),
        "website": lambda: _strip(s3.get_bucket_website(**b)) or None,
        "cors": lambda: _cors(s3.get_bucket_cors(**b)) or None,
        "replication": lambda: s3.get_bucket_replication(**b).get("ReplicationConfiguration"),
        "notifications": lambda: _strip(s3.get_bucket_notification_configuration(**b)) or None,
        "tags": lambda: {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(**b).get("TagSet", [])} or None,
    }


def _versioning(resp: dict[str, Any]) -> Versioning:
    return Versioning(status=resp.get("Status"), mfa_delete=resp.get("MFADelete"))


def _object_lock(resp: dict[str, Any]) -> ObjectLock:
    cfg = resp.get("ObjectLockConfiguration", {})
    return ObjectLock(enabled=cfg.get("ObjectLockEnabled") == "Enabled", rule=cfg.get("Rule"))


def _probe(field: str, reader: Callable[[], Any], bucket: str) -> Probe[Any]:
    try:
        return Probe(value=reader())
    except ClientError as err:
        code = error_code(err)
        if code in NOT_CONFIGURED:
            return Probe(value=None)
        if field not in SUPPLEMENTARY or code in MISSING:
            _raise_if_fatal(err, bucket, field)
        message = err.response.get("Error", {}).get("Message", "")
        return Probe(state="unknown", reason=f"{code or http_status(err)}: {message}".strip(": "))
    except (ConnectionError, HTTPClientError) as err:
        # The class names the trouble; its text holds endpoint URLs (VPC endpoints, proxies): logs only.
        raise TransientError(f"{field} on {bucket}: {type(err).__name__}") from err
    except BotoCoreError as err:
        return Probe(state="unknown", reason=type(err).__name__)


def _locate(s3: Any, bucket: str, fallback_region: str) -> str:
    """HeadBucket: existence and region. 403 still tells the region in a header."""
    try:
        resp = s3.head_bucket(Bucket=bucket)
        headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return resp.get("BucketRegion") or headers.get("x-amz-bucket-region") or fallback_region
    except ClientError as err:
        code = error_code(err)
        if code in MISSING or http_status(err) == 404:
            raise ResourceNotFound(f"bucket {bucket} does not exist") from err
        _raise_if_fatal(err, bucket, "HeadBucket")
        headers = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return headers.get("x-amz-bucket-region") or fallback_region
    except (ConnectionError, HTTPClientError) as err:
        raise TransientError(f"HeadBucket on {bucket}: {type(err).__name__}") from err


def _requested(fields: Iterable[str] | None) -> frozenset[str]:
    if fields is None:
        return frozenset(FIELDS)
    requested = frozenset(fields)
    if unknown := sorted(requested - set(FIELDS)):
        raise ValueError(f"not configuration fields of a bucket: {unknown}")
    return requested


def discover_bucket(
    name: str,
    session: boto3.Session | None = None,
    *,
    clients: ClientFactory | None = None,
    concurrent: bool = True,
    max_workers: int = 16,
    fields: Iterable[str] | None = None,
    exists_in_region: str | None = None,
) -> BucketSnapshot:
    """Read the bucket's configuration into a Snapshot. Calls run concurrently by default.

    ``fields``: the configuration fields to read (names of ``S3BucketConfig`` fields; default:
    every one). Each field left out costs no call and is ``unknown`` with reason ``NOT_REQUESTED``.
    ``exists_in_region``: the caller already knows the bucket exists and its region (ListBuckets
    names the bucket and its ``BucketRegion``): no HeadBucket then. A bucket deleted since is still
    ResourceNotFound, from its first read.
    """
    validate_bucket_name(name)
    requested = _requested(fields)
    started = time.perf_counter()
    session = session or boto3.Session()
    make = clients or client_factory(session)
    home_region = session.region_name or "us-east-1"

    region = exists_in_region or _locate(make("s3", home_region), name, home_region)
    account_id, caller_arn, account_reason = whoami(make("sts", region))
    s3 = make("s3", region)
    readers = {f: r for f, r in bucket_readers(s3, name, account_id).items() if f in requested}
    if account_id and "account_public_access_block" in requested:
        s3control = make("s3control", region)
        readers["account_public_access_block"] = lambda: _pab(
            s3control.get_public_access_block(AccountId=account_id)["PublicAccessBlockConfiguration"]
        )

    if concurrent:
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="discover") as pool:
            futures = {f: pool.submit(_probe, f, r, name) for f, r in readers.items()}
            # .result() re-raises ResourceNotFound / TransientError in the caller's thread
            probes = {f: fut.result() for f, fut in futures.items()}
    else:
        probes = {f: _probe(f, r, name) for f, r in readers.items()}
    for field in (ACCOUNT_FIELDS & requested) - probes.keys():  # requested, but no account id to read them
        probes[field] = Probe(state="unknown", reason=account_reason)
    not_read = [f for f in FIELDS if f not in requested]
    probes.update({f: Probe(state="unknown", reason=NOT_REQUESTED) for f in not_read})

    calls = len(readers) + (0 if exists_in_region else 1) + 1  # + HeadBucket + GetCallerIdentity
    mode = "concurrent" if concurrent else "sequential"
    how = f"boto3 s3 API, {calls} calls {mode}" + (f"; not read: {', '.join(not_read)}" if not_read else "")
    return BucketSnapshot(
        resource=ResourceRef(id=name),
        account_id=account_id,
        region=region,
        read_at=datetime.now(UTC),
        read_by=ReadBy(
            principal_arn=caller_arn,
            account_id=account_id,
            region=region,
            how=how,
            calls=calls,
            concurrent=concurrent,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        ),
        config=S3BucketConfig(**probes),
    )
