"""The sweep's records in the report bucket (layout: secagent/models/sweep.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError
from pydantic import ValidationError

from secagent.aws import ClientFactory
from secagent.models.errors import AuditNotRequested
from secagent.models.sweep import (
    SWEEP_ID,
    AccountListing,
    ResourceResult,
    SweepItem,
    SweepRequest,
    accounts_key,
    items_key,
    request_key,
    resources_prefix,
    sweep_execution_arn,
)
from secagent.workflow.store import (
    SealBroken,
    Sealer,
    read_document,
    read_object,
    read_sealed,
    write_object,
)

READ_CONCURRENCY = 16


def load_sweep_request(sweep_id: str, bucket: str, sealer: Sealer, clients: ClientFactory) -> SweepRequest:
    """The request the API sealed; AuditNotRequested when there is none or it is not the API's
    (a StartExecution with any name reads nothing)."""
    if not SWEEP_ID.fullmatch(sweep_id):
        raise AuditNotRequested("not a sweep id")
    try:
        request = read_sealed(bucket, request_key(sweep_id), SweepRequest, sealer, clients)
    except SealBroken:
        request = None
    if request is None or request.sweep_id != sweep_id:
        raise AuditNotRequested(
            "This execution was not started by the audit API: there is no sweep request sealed by "
            "the API under its name. Nothing was read; start sweeps with POST /sweeps."
        )
    return request


def confirm_sweep_execution(
    execution_arn: str, sweep_id: str, machine_arn: str, clients: ClientFactory
) -> None:
    """AuditNotRequested unless `execution_arn` is the sweep's own execution (named by its id, of
    the sweep state machine) and still running: a tool invoked directly, or again after the sweep
    ended, rewrites nothing of it."""
    if not machine_arn or execution_arn != sweep_execution_arn(machine_arn, sweep_id):
        raise AuditNotRequested(f"execution {execution_arn[-120:]!r} is not sweep {sweep_id}'s")
    try:
        status = clients("stepfunctions", None).describe_execution(executionArn=execution_arn)["status"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code")
        raise AuditNotRequested(f"sweep {sweep_id}'s execution cannot be read ({code})") from None
    if status != "RUNNING":
        raise AuditNotRequested(f"sweep {sweep_id} is not running ({status}): nothing is rewritten")


def read_items(bucket: str, sweep_id: str, clients: ClientFactory) -> list[SweepItem]:
    """The items List Resources wrote for the sweep (none when it wrote none)."""
    return [SweepItem.model_validate(i) for i in read_document(bucket, items_key(sweep_id), clients) or []]


def write_listing(
    bucket: str, sweep_id: str, listings: list[AccountListing], items: list[SweepItem], clients: ClientFactory
) -> None:
    """The map's items (a JSON array: the Distributed Map's ItemReader) and each account's listing."""
    write_object(bucket, items_key(sweep_id), [i.to_json_dict() for i in items], clients)
    write_object(bucket, accounts_key(sweep_id), [a.to_json_dict() for a in listings], clients)


def read_listings(bucket: str, sweep_id: str, clients: ClientFactory) -> list[AccountListing] | None:
    """Each account's listing, or None when List Resources wrote none (it failed)."""
    stored = read_document(bucket, accounts_key(sweep_id), clients)
    return None if stored is None else [AccountListing.model_validate(a) for a in stored]


def _result_keys(bucket: str, sweep_id: str, clients: ClientFactory) -> Iterator[str]:
    pages = (
        clients("s3", None)
        .get_paginator("list_objects_v2")
        .paginate(Bucket=bucket, Prefix=resources_prefix(sweep_id))
    )
    for page in pages:
        for entry in page.get("Contents", []):
            yield entry["Key"]


def iter_results(
    bucket: str, sweep_id: str, clients: ClientFactory, *, chunk: int = 4 * READ_CONCURRENCY
) -> Iterator[ResourceResult]:
    """Every resource result of the sweep, in key order, read side by side a chunk at a time (so a
    caller holds one chunk, not the sweep); one that is not a result of this sweep is skipped."""

    def one(key: str) -> ResourceResult | None:
        try:
            data = read_object(bucket, key, clients)
            result = ResourceResult.model_validate(data) if data is not None else None
        except ValidationError:
            return None
        return result if result is not None and result.sweep_id == sweep_id else None

    keys = sorted(_result_keys(bucket, sweep_id, clients))
    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
        for start in range(0, len(keys), chunk):
            for result in pool.map(one, keys[start : start + chunk]):
                if result is not None:
                    yield result


def read_results(bucket: str, sweep_id: str, clients: ClientFactory) -> list[ResourceResult]:
    """Every resource result of the sweep, by account, type and id."""
    results = list(iter_results(bucket, sweep_id, clients))
    return sorted(results, key=lambda r: r.identity)
