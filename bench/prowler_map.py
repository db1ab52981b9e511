"""Which Prowler checks decide which control, for bench/peers.py.

Prowler maps its checks to standards in its own compliance files (installed package,
`prowler/compliance/aws/<framework>.json`: one requirement id -> the check ids that decide it).
`SHIPPED` is that mapping for the S3 requirements of the two standards the project's controls
name (`FSBP:S3.x`, `CIS-3.0:2.1.x`), copied from Prowler `PROWLER_VERSION`; `ADJUSTED` is what
the bench uses where the shipped mapping is empty or wrong, each with its reason. A control maps
to no check here when Prowler has none for it: it is "n/a" for Prowler in the comparison.

A control's verdict from Prowler for one bucket: FAIL when any mapped check has a FAIL finding
for that bucket (or for its account: Prowler reports some checks once per account, e.g. the
public-access checks when the account's Block Public Access covers every bucket), else PASS when
any has a PASS, else what the findings said (MANUAL) or NONE when no mapped check reported it.

Check the copy against the installed package (after upgrading Prowler):

    .venv/bin/python -m bench.prowler_map        # exit 1 when the installed mapping differs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench._common import PROWLER_VENV

PROWLER_VERSION = "5.46.0"

# standard prefix used in control ids -> Prowler's compliance file for it
FRAMEWORK_FILES = {
    "FSBP": "aws_foundational_security_best_practices_aws.json",
    "CIS-3.0": "cis_3.0_aws.json",
}

# As shipped in Prowler's compliance files (S3 requirements only).
SHIPPED: dict[str, tuple[str, ...]] = {
    "FSBP:S3.1": ("s3_account_level_public_access_blocks",),
    "FSBP:S3.2": (),
    "FSBP:S3.3": ("s3_bucket_policy_public_write_access", "s3_bucket_public_write_acl"),
    "FSBP:S3.5": ("s3_bucket_secure_transport_policy",),
    "FSBP:S3.6": ("s3_bucket_cross_account_access",),
    "FSBP:S3.7": ("s3_bucket_cross_account_access",),
    "FSBP:S3.8": ("s3_bucket_level_public_access_block",),
    "FSBP:S3.9": ("s3_bucket_server_access_logging_enabled",),
    "FSBP:S3.10": (),
    "FSBP:S3.11": (),
    "FSBP:S3.12": ("s3_bucket_acl_prohibited",),
    "FSBP:S3.13": ("s3_bucket_lifecycle_enabled",),
    "FSBP:S3.14": ("s3_bucket_object_versioning",),
    "FSBP:S3.15": ("s3_bucket_object_lock",),
    "FSBP:S3.17": ("s3_bucket_kms_encryption",),
    "FSBP:S3.19": ("s3_access_point_public_access_block",),
    "FSBP:S3.20": ("s3_bucket_no_mfa_delete",),
    "CIS-3.0:2.1.1": ("s3_bucket_secure_transport_policy",),
    "CIS-3.0:2.1.2": ("s3_bucket_no_mfa_delete",),
    "CIS-3.0:2.1.3": ("macie_is_enabled",),
    "CIS-3.0:2.1.4": ("s3_bucket_level_public_access_block", "s3_account_level_public_access_blocks"),
}

# control -> (checks the bench uses instead, why)
ADJUSTED: dict[str, tuple[tuple[str, ...], str]] = {
    "FSBP:S3.2": (
        ("s3_bucket_public_access", "s3_bucket_public_list_acl"),
        "Prowler maps no check to S3.2; these two are its public-read checks (policy or ACL open to "
        "everyone; ACL READ/READ_ACP/FULL_CONTROL to AllUsers/AuthenticatedUsers). "
        "s3_bucket_public_access also fails a policy that is public for writes only.",
    ),
    "FSBP:S3.4": (
        ("s3_bucket_default_encryption",),
        "AWS retired S3.4 and Prowler's FSBP file dropped it; the check still exists (deprecated).",
    ),
    "FSBP:S3.7": (
        ("s3_bucket_cross_region_replication",),
        "Prowler's file maps S3.7 (cross-Region replication) to s3_bucket_cross_account_access, "
        "which is S3.6's check; its replication check is this one.",
    ),
    "FSBP:S3.11": (
        ("s3_bucket_event_notifications_enabled",),
        "Prowler maps no check to S3.11; this check is the same test (any notification configured).",
    ),
}


def control_checks() -> dict[str, tuple[str, ...]]:
    """control id -> the Prowler checks that decide it in the bench (empty: n/a for Prowler)."""
    merged = dict(SHIPPED)
    merged.update({control: checks for control, (checks, _) in ADJUSTED.items()})
    return merged


def all_checks() -> list[str]:
    """Every S3 check the bench asks Prowler to run (its `--check` list)."""
    return sorted({c for checks in control_checks().values() for c in checks if c.startswith("s3_")})


def compliance_dir(venv: Path = PROWLER_VENV) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages/prowler/compliance/aws"))
    if not found:
        raise FileNotFoundError(f"no Prowler installed in {venv} (bench.peers installs it)")
    return found[-1]


def installed(venv: Path = PROWLER_VENV) -> dict[str, tuple[str, ...]]:
    """The S3 part of the mapping as the installed Prowler ships it (same shape as SHIPPED)."""
    folder = compliance_dir(venv)
    out: dict[str, tuple[str, ...]] = {}
    for prefix, name in FRAMEWORK_FILES.items():
        framework = json.loads((folder / name).read_text())
        for requirement in framework["Requirements"]:
            rid = requirement["Id"]
            if (prefix == "FSBP" and rid.startswith("S3.")) or (prefix != "FSBP" and rid.startswith("2.1.")):
                out[f"{prefix}:{rid}"] = tuple(requirement["Checks"])
    return out


def main() -> int:
    found = installed()
    differs = {c for c in found.keys() | SHIPPED.keys() if found.get(c) != SHIPPED.get(c)}
    for control, checks in control_checks().items():
        mark = " (adjusted)" if control in ADJUSTED else ""
        print(f"{control:16} {', '.join(checks) or 'n/a'}{mark}")
    if differs:
        print("\nthe installed Prowler's mapping differs from SHIPPED:")
        for control in sorted(differs):
            print(f"  {control}: installed {found.get(control)} recorded {SHIPPED.get(control)}")
        return 1
    print(f"\nSHIPPED matches the installed Prowler's compliance files ({compliance_dir()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
