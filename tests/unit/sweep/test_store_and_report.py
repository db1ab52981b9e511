"""The sweep's records on moto: the request the API sealed is the only one the tools accept, and
Write Posture Report turns what the tools stored into the posture report and the findings (OCSF
and ASFF pages of at most 100), imports only the deployment's own findings into Security Hub,
and never claims more completeness than was recorded."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from secagent.models.errors import AuditNotRequested
from secagent.models.findings import Severity, Status
from secagent.models.outcome import Outcome
from secagent.models.posture import PostureReport
from secagent.models.report import ReportFinding
from secagent.models.snapshot import BUCKET, ResourceRef
from secagent.models.sweep import (
    AccountListing,
    ResourceResult,
    SweepItem,
    findings_index_key,
    markdown_key,
    page_key,
    report_key,
    request_key,
    resource_key,
)
from secagent.sweep.posture import posture_of
from secagent.sweep.report import PAGE_SIZE, write_sweep_report
from secagent.sweep.store import load_sweep_request, read_results, write_listing
from secagent.workflow.store import KmsSealer, write_object, write_sealed
from tests.unit.sweep.conftest import MEMBER_B, OWN, REPORTS, SWEEP, World, seal_request, sweep_request

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FINISHED = datetime(2025, 3, 1, 12, 9, tzinfo=UTC)
# Five checks a bucket is judged by: one FAIL, the others PASS.
FIVE = {
    "s3_bucket_policy_public": (Severity.CRITICAL, Status.PASS),
    "s3_bucket_block_public_access_off": (Severity.HIGH, Status.FAIL),
    "s3_bucket_versioning_disabled": (Severity.MEDIUM, Status.PASS),
    "s3_bucket_default_encryption_missing": (Severity.MEDIUM, Status.PASS),
    "s3_bucket_acl_public_read": (Severity.CRITICAL, Status.PASS),
}


def judged(account: str, bucket: str, checks: dict[str, tuple[Severity, Status]]) -> ResourceResult:
    arn = f"arn:aws:s3:::{bucket}"
    findings = [
        ReportFinding(
            finding_id=f"{bucket}#{check}",
            check_id=check,
            title=check.replace("_", " "),
            severity=severity,
            status=status,
            controls=[],
            first_observed_at=AT,
            last_observed_at=AT,
        )
        for check, (severity, status) in checks.items()
    ]
    failing = any(f.status != Status.PASS for f in findings)
    return ResourceResult(
        sweep_id=SWEEP,
        account_id=account,
        region="us-east-1",
        resource=ResourceRef(type=BUCKET, id=bucket),
        resource_arn=arn,
        observed_at=AT,
        outcome=Outcome.NON_COMPLIANT if failing else Outcome.COMPLIANT,
        findings=findings,
    )


def store(world: World, accounts: list[str], results: list[ResourceResult], extra_items: int = 0) -> None:
    """What List Resources and Scan Resource leave: the listing, the items, one result per item
    judged (``extra_items`` listed items have no result: their child execution failed)."""
    items = [SweepItem(sweep_id=SWEEP, account_id=r.account_id, resource=r.resource) for r in results]
    items += [
        SweepItem(sweep_id=SWEEP, account_id=accounts[0], resource=ResourceRef(id=f"never-judged-{n}"))
        for n in range(extra_items)
    ]
    listings = [
        AccountListing(account_id=a, status="LISTED", resources=sum(1 for i in items if i.account_id == a))
        for a in accounts
    ]
    write_listing(REPORTS, SWEEP, listings, items, world.clients)
    for r in results:
        write_object(REPORTS, resource_key(SWEEP, r.account_id, r.resource), r.to_json_dict(), world.clients)


def stored(world: World, key: str) -> Any:
    s3 = world.session_in(OWN).client("s3")
    return json.loads(s3.get_object(Bucket=REPORTS, Key=key)["Body"].read())


def keys(world: World, prefix: str) -> list[str]:
    s3 = world.session_in(OWN).client("s3")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=REPORTS, Prefix=prefix).get("Contents", [])]


# -- the sealed request -------------------------------------------------------------------------


def test_load_sweep_request_returns_the_sealed_request(world: World, sealer: KmsSealer) -> None:
    request = seal_request(sweep_request([OWN, MEMBER_B]), sealer, world.clients)
    assert load_sweep_request(SWEEP, REPORTS, sealer, world.clients) == request


def test_load_sweep_request_refuses_a_missing_request(world: World, sealer: KmsSealer) -> None:
    with pytest.raises(AuditNotRequested, match="POST /sweeps"):
        load_sweep_request(SWEEP, REPORTS, sealer, world.clients)


@pytest.mark.parametrize(
    "planted",
    [
        pytest.param(lambda r: r, id="bare request JSON"),
        pytest.param(lambda r: {"record": r}, id="no seal"),
        pytest.param(lambda r: {"record": r, "seal": "Zm9yZ2Vk"}, id="made-up seal"),
        pytest.param(lambda r: {"record": r, "seal": ""}, id="empty seal"),
        pytest.param(lambda r: {"record": r, "seal": 1}, id="seal not a string"),
    ],
)
def test_load_sweep_request_refuses_a_planted_unsealed_request(
    world: World, sealer: KmsSealer, planted: Any
) -> None:
    # Given someone with write access to the bucket plants a request naming accounts of their choosing
    body = sweep_request([OWN, MEMBER_B]).to_json_dict()
    write_object(REPORTS, request_key(SWEEP), planted(body), world.clients)
    # When a sweep tool loads it, it is refused
    with pytest.raises(AuditNotRequested):
        load_sweep_request(SWEEP, REPORTS, sealer, world.clients)


def test_load_sweep_request_refuses_a_sealed_request_whose_content_was_edited(
    world: World, sealer: KmsSealer
) -> None:
    seal_request(sweep_request([OWN]), sealer, world.clients)
    record = stored(world, request_key(SWEEP))
    record["record"]["accounts"] = [OWN, MEMBER_B]  # widened after sealing
    write_object(REPORTS, request_key(SWEEP), record, world.clients)
    with pytest.raises(AuditNotRequested):
        load_sweep_request(SWEEP, REPORTS, sealer, world.clients)


def test_load_sweep_request_refuses_a_request_of_another_sweep_under_this_key(
    world: World, sealer: KmsSealer
) -> None:
    # Given the API's genuine, sealed request of another sweep, copied under this sweep's key
    other = sweep_request([OWN, MEMBER_B], sweep_id="another-sweep")
    write_sealed(REPORTS, request_key(SWEEP), other, sealer, world.clients)
    # When this sweep's tools load their request, it is refused
    with pytest.raises(AuditNotRequested):
        load_sweep_request(SWEEP, REPORTS, sealer, world.clients)


@pytest.mark.parametrize("sweep_id", ["../requests/x", "a" * 81, "with space", "", "sweep/one", "é"])
def test_load_sweep_request_refuses_a_malformed_id_without_reading(
    world: World, sealer: KmsSealer, sweep_id: str
) -> None:
    with pytest.raises(AuditNotRequested, match="not a sweep id"):
        load_sweep_request(sweep_id, REPORTS, sealer, world.clients)
    assert world.calls == []


def test_read_results_skips_objects_that_are_not_this_sweeps_results(world: World) -> None:
    mine = judged(OWN, "own-app", FIVE)
    write_object(REPORTS, resource_key(SWEEP, OWN, mine.resource), mine.to_json_dict(), world.clients)
    other = mine.model_copy(update={"sweep_id": "another-sweep", "resource": ResourceRef(id="x-app")})
    write_object(REPORTS, resource_key(SWEEP, OWN, other.resource), other.to_json_dict(), world.clients)
    write_object(REPORTS, f"sweep-resources/{SWEEP}/{OWN}/junk.json", {"not": "a result"}, world.clients)
    assert read_results(REPORTS, SWEEP, world.clients) == [mine]


# -- the posture report -------------------------------------------------------------------------


def test_write_sweep_report_writes_the_posture_and_findings_in_pages_of_100(world: World) -> None:
    # Given 50 buckets judged by five checks each: 250 findings, over the own account and B
    results = [judged(OWN if n % 2 else MEMBER_B, f"bucket-{n:03d}", FIVE) for n in range(50)]
    assert sum(len(r.findings) for r in results) == 250
    store(world, [OWN, MEMBER_B], results)
    # When the report is written
    posture, imported = write_sweep_report(
        sweep_request([OWN, MEMBER_B]), {}, bucket=REPORTS, clients=world.clients, now=lambda: FINISHED
    )
    # Then posture.json is the posture, complete, and posture.md renders it
    assert imported is None  # Security Hub import is off unless the deployment says so
    assert posture.complete and posture.incomplete_reasons == []
    assert PostureReport.model_validate(stored(world, report_key(SWEEP))) == posture
    assert posture.totals.resources == 50 and posture.totals.non_compliant == 50
    markdown = world.session_in(OWN).client("s3").get_object(Bucket=REPORTS, Key=markdown_key(SWEEP))
    assert markdown["ContentType"].startswith("text/markdown") and SWEEP in markdown["Body"].read().decode()
    # And findings.json indexes 3 pages of each format; the pages hold 100, 100 and 50 findings
    assert stored(world, findings_index_key(SWEEP)) == {
        "ocsf": {"findings": 250, "pages": 3},
        "asff": {"findings": 250, "pages": 3},
    }
    for fmt in ("ocsf", "asff"):
        assert keys(world, f"sweep-reports/{SWEEP}/{fmt}/") == [page_key(SWEEP, fmt, n) for n in range(3)]
        sizes = [len(stored(world, page_key(SWEEP, fmt, n))) for n in range(3)]
        assert sizes == [PAGE_SIZE, PAGE_SIZE, 50]
    # And every ASFF finding names its resource's account
    asff = [f for n in range(3) for f in stored(world, page_key(SWEEP, "asff", n))]
    assert {f["AwsAccountId"] for f in asff} == {OWN, MEMBER_B}


def test_the_posture_written_in_one_pass_is_the_posture_of_the_whole_results(world: World) -> None:
    """The report keeps the results without their evidence (memory) and writes the pages as it
    goes: the posture must be what posture_of makes of the whole results, and the pages keep the
    evidence."""
    results = [judged(OWN if n % 3 else MEMBER_B, f"bucket-{n:03d}", FIVE) for n in range(30)]
    store(world, [OWN, MEMBER_B], results)
    request = sweep_request([OWN, MEMBER_B])
    posture, _ = write_sweep_report(request, {}, bucket=REPORTS, clients=world.clients, now=lambda: FINISHED)
    listings = [
        AccountListing(account_id=a, status="LISTED", resources=10 if a == MEMBER_B else 20)
        for a in (OWN, MEMBER_B)
    ]
    whole = posture_of(request, listings, read_results(REPORTS, SWEEP, world.clients), finished_at=FINISHED)
    assert posture == whole
    evidence = [f["evidences"] for f in stored(world, page_key(SWEEP, "ocsf", 0))]
    assert evidence and all(evidence)


def test_write_sweep_report_of_no_findings_writes_no_pages(world: World) -> None:
    store(world, [OWN], [])
    posture, _ = write_sweep_report(sweep_request([OWN]), {}, bucket=REPORTS, clients=world.clients)
    assert posture.complete and posture.totals.resources == 0
    assert stored(world, findings_index_key(SWEEP)) == {
        "ocsf": {"findings": 0, "pages": 0},
        "asff": {"findings": 0, "pages": 0},
    }


def test_posture_is_incomplete_when_listed_items_have_no_result(world: World) -> None:
    # Given 3 items listed, of which only 1 has a result (two child executions failed)
    store(world, [OWN], [judged(OWN, "own-app", FIVE)], extra_items=2)
    # When the report is written
    posture, _ = write_sweep_report(sweep_request([OWN]), {}, bucket=REPORTS, clients=world.clients)
    # Then it is incomplete, naming the two resources never judged
    assert not posture.complete and posture.incomplete_reasons
    unjudged = {(u.resource.id, u.outcome) for u in posture.unjudged_resources}
    assert unjudged == {("never-judged-0", "FAILED"), ("never-judged-1", "FAILED")}
    assert all(u.error and u.error.error == "NoResult" for u in posture.unjudged_resources)


def test_posture_is_incomplete_when_the_map_exceeded_its_tolerated_failures(world: World) -> None:
    # Given every listed item judged, but the Map run stopped (its Catch recorded the error)
    store(world, [OWN], [judged(OWN, "own-app", FIVE)])
    state = {"error": {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "Traceback ... secret"}}
    # When the report is written
    posture, _ = write_sweep_report(sweep_request([OWN]), state, bucket=REPORTS, clients=world.clients)
    # Then it is incomplete: the sweep stopped, said in our words (never the cause)
    assert not posture.complete
    [reason] = [r for r in posture.incomplete_reasons if r.reason == "SWEEP_STOPPED"]
    assert "ToleratedFailurePercentage" in reason.message and "Traceback" not in reason.message


def test_posture_is_incomplete_when_no_listing_was_recorded(world: World) -> None:
    posture, _ = write_sweep_report(sweep_request([OWN]), {}, bucket=REPORTS, clients=world.clients)
    assert not posture.complete


def test_security_hub_import_takes_only_the_own_accounts_findings(world: World) -> None:
    # Given results in the own account and in member B
    results = [judged(OWN, "own-app", FIVE), judged(MEMBER_B, "b-app", FIVE), judged(MEMBER_B, "b-two", FIVE)]
    store(world, [OWN, MEMBER_B], results)
    sent: list[dict[str, Any]] = []
    world.own.events.register(
        "provide-client-params.securityhub.BatchImportFindings",
        lambda params, **_: sent.extend(params["Findings"]),
    )
    # When the report is written with the import on
    _, imported = write_sweep_report(
        sweep_request([OWN, MEMBER_B]),
        {},
        bucket=REPORTS,
        clients=world.clients,
        security_hub_account=OWN,
    )
    # Then only the own account's 5 findings were sent to Security Hub, and were imported
    assert imported is not None and (imported.imported, imported.failed) == (5, 0)
    assert len(sent) == 5 and {f["AwsAccountId"] for f in sent} == {OWN}
    assert {f["Resources"][0]["Id"] for f in sent} == {"arn:aws:s3:::own-app"}
    # And the member's stay in the ASFF pages
    assert {f["AwsAccountId"] for f in stored(world, page_key(SWEEP, "asff", 0))} == {OWN, MEMBER_B}
    hub = world.session_in(OWN).client("securityhub").get_findings()["Findings"]
    assert {f["AwsAccountId"] for f in hub} == {OWN}


def test_security_hub_import_of_a_sweep_of_members_only_sends_nothing(world: World) -> None:
    store(world, [MEMBER_B], [judged(MEMBER_B, "b-app", FIVE)])
    world.own.events.register(
        "provide-client-params.securityhub.BatchImportFindings",
        lambda **_: pytest.fail("a member's findings were sent to Security Hub"),
    )
    _, imported = write_sweep_report(
        sweep_request([MEMBER_B]), {}, bucket=REPORTS, clients=world.clients, security_hub_account=OWN
    )
    assert imported is not None and (imported.imported, imported.failed) == (0, 0)
