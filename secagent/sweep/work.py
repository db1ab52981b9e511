"""What the sweep's tools do: list each account's resources, then judge one resource at a time.

The same `discover` and `analyze` as an audit and `secagent scan`; nothing here writes to a
resource. A failure of one account is that account's (``AccountListing.status == "FAILED"``), and a
failure of one resource is that resource's outcome: neither stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from secagent.checks import analyze
from secagent.discovery import discover
from secagent.discovery._calls import error_code
from secagent.discovery.listing import list_buckets, list_security_groups
from secagent.models import AgentSettings
from secagent.models.errors import AccessDenied, ResourceNotFound, SecAgentError, TransientError
from secagent.models.findings import Status
from secagent.models.outcome import Outcome
from secagent.models.report import ReportFinding, StepError
from secagent.models.snapshot import BUCKET, ResourceRef, ResourceType
from secagent.models.sweep import AccountListing, ResourceResult, SweepItem, SweepRequest
from secagent.sweep.accounts import AccountSessions, AccountUnreachable
from secagent.workflow.report import AwsLocation, report_findings, resource_arn_of

# Accounts listed side by side (each listing is a handful of paged calls).
LISTING_CONCURRENCY = 8


def list_account(
    sweep_id: str,
    account_id: str,
    types: Sequence[ResourceType],
    sessions: AccountSessions,
    region: str,
) -> tuple[AccountListing, list[SweepItem]]:
    """Every resource of `types` in the account (buckets: all of the account; groups: `region`'s),
    or why it could not be listed. The stack's own and CDK's buckets are swept too (reading them
    is harmless, and a bucket named cdk-... is not left unseen); an audit of them is refused."""
    try:
        clients = sessions.clients(account_id)
        items: list[SweepItem] = []
        for resource_type in types:
            if resource_type == BUCKET:
                located = list_buckets(clients("s3", None))
            else:
                located = dict.fromkeys(list_security_groups(clients("ec2", region)), region)
            for resource_id, where in located.items():
                resource = ResourceRef(type=resource_type, id=resource_id)
                items.append(
                    SweepItem(sweep_id=sweep_id, account_id=account_id, resource=resource, region=where)
                )
    except AccountUnreachable as err:
        return AccountListing(account_id=account_id, status="FAILED", error=err.step_error), []
    except ClientError as err:
        code = error_code(err) or "ClientError"
        return _listing_failed(account_id, code, f"the account's resources could not be listed ({code})"), []
    except BotoCoreError as err:
        name = type(err).__name__
        return _listing_failed(account_id, name, f"the account's resources could not be listed ({name})"), []
    return AccountListing(account_id=account_id, status="LISTED", resources=len(items)), items


def _listing_failed(account_id: str, error: str, message: str) -> AccountListing:
    return AccountListing(
        account_id=account_id, status="FAILED", error=StepError(error=error, message=message)
    )


def list_sweep(
    request: SweepRequest, sessions: AccountSessions, region: str
) -> tuple[list[AccountListing], list[SweepItem]]:
    """Every account of the request, side by side, in the request's order."""
    with ThreadPoolExecutor(max_workers=min(LISTING_CONCURRENCY, len(request.accounts))) as pool:
        listed = list(
            pool.map(
                lambda account: list_account(
                    request.sweep_id, account, request.resource_types, sessions, region
                ),
                request.accounts,
            )
        )
    return [listing for listing, _ in listed], [item for _, items in listed for item in items]


def judge_item(
    item: SweepItem,
    sessions: AccountSessions,
    settings: AgentSettings,
    *,
    region: str,
    partition: str = "aws",
    now: datetime | None = None,
) -> ResourceResult:
    """Discover + Analyze one resource in its account. A resource that is gone, unreadable or
    failing to read is its own outcome; TransientError is raised (the state retries it)."""
    started = now or datetime.now(UTC)
    listed_in = AwsLocation(partition=partition, region=item.region or region, account=item.account_id)

    def unjudged(outcome: Outcome, error: str, message: str) -> ResourceResult:
        return _result(item, listed_in, started, outcome, error=StepError(error=error, message=message))

    try:
        clients = sessions.clients(item.account_id)
        snapshot = discover(item.resource, clients=clients, **_discover_options(item))
        analysis = analyze(snapshot, settings)
    except AccountUnreachable as err:
        return unjudged(Outcome.ACCESS_DENIED, err.step_error.error or "AccessDenied", str(err))
    except ResourceNotFound:
        return unjudged(Outcome.RESOURCE_NOT_FOUND, "ResourceNotFound", "deleted since it was listed")
    except AccessDenied:
        return unjudged(Outcome.ACCESS_DENIED, "AccessDenied", "the sweep's role may not read this resource")
    except TransientError:
        raise
    except (SecAgentError, ClientError, BotoCoreError) as err:
        return unjudged(Outcome.FAILED, type(err).__name__, "its configuration could not be read")
    read_in = AwsLocation(
        partition=partition, region=snapshot.region or listed_in.region, account=item.account_id
    )
    arn = resource_arn_of(item.resource, read_in)
    judged = all(f.status in (Status.PASS, Status.EXEMPT) for f in analysis.findings)
    return _result(
        item,
        read_in,
        snapshot.read_at,
        # A check that could not judge leaves the resource unproven: never COMPLIANT.
        Outcome.COMPLIANT if judged else Outcome.NON_COMPLIANT,
        findings=report_findings(analysis.findings, arn, snapshot.read_at, None, snapshot.read_at),
    )


def _result(
    item: SweepItem,
    location: AwsLocation,
    observed_at: datetime,
    outcome: Outcome,
    *,
    findings: list[ReportFinding] | None = None,
    error: StepError | None = None,
) -> ResourceResult:
    return ResourceResult(
        sweep_id=item.sweep_id,
        account_id=item.account_id,
        region=location.region,
        partition=location.partition,
        resource=item.resource,
        resource_arn=resource_arn_of(item.resource, location),
        observed_at=observed_at,
        outcome=outcome,
        findings=findings or [],
        error=error,
    )


def _discover_options(item: SweepItem) -> dict[str, Any]:
    """A bucket is read whole, as an audit's Discover reads it (the same snapshot, the same calls
    for the IAM proof), where its listing located it (no HeadBucket); a group is read whole, in
    the region it was listed in."""
    if item.resource.type != BUCKET:
        return {"region": item.region} if item.region else {}
    return {"concurrent": True, "exists_in_region": item.region}
