"""The sweep's tool handlers (List Resources, Scan Resource, Write Posture Report) on moto, with
the own account and member B reached through its member role.

They act only on the sweep request the API sealed: the accounts and types come from it, never
from the execution's input or the item; a sweep started directly, a planted request or an item
outside the request reads nothing of any account."""

import json
from typing import Any

import pytest

from lambdas import deps, list_resources, scan_resource, write_posture_report
from secagent.models.errors import AuditNotRequested
from secagent.models.outcome import Outcome
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef
from secagent.models.sweep import (
    ITEMS_PREFIX,
    REPORTS_PREFIX,
    RESOURCES_PREFIX,
    ResourceResult,
    SweepRequest,
    accounts_key,
    items_key,
    report_key,
    request_key,
    resource_key,
)
from secagent.sweep.accounts import SECURITY_HUB_IMPORT_ENV
from secagent.sweep.store import confirm_sweep_execution
from secagent.workflow.store import write_object, write_sealed
from tests.unit.lambdas.conftest import Tools
from tests.unit.lambdas.fakes import FakeLambdaContext
from tests.unit.sweep.conftest import EXTERNAL_ID, MEMBER_B, MEMBER_C, OUTSIDER, OWN, SWEEP, World
from tests.unit.workflow.conftest import BUCKET as OWN_BUCKET
from tests.unit.workflow.conftest import REPORTS

MACHINE = f"arn:aws:states:us-east-1:{OWN}:stateMachine:SecAgentSweep"
EXECUTION = f"arn:aws:states:us-east-1:{OWN}:execution:SecAgentSweep:{SWEEP}"
MEMBER_BUCKET = "b-app-data"
# What reading the sealed request costs the own account; anything else is reading an account.
REQUEST_READ = {"s3.GetObject", "kms.VerifyMac"}


RUNNING: dict[str, str] = {}  # execution ARN -> status Step Functions answers (default RUNNING)


class _Executions:
    def describe_execution(self, executionArn: str) -> dict[str, str]:
        return {"status": RUNNING.get(executionArn, "RUNNING")}


def _confirm_against(statuses: dict[str, str]) -> Any:
    def confirm(execution_arn: str, sweep_id: str, machine_arn: str, clients: Any) -> None:
        confirm_sweep_execution(execution_arn, sweep_id, machine_arn, lambda *_: _Executions())

    return confirm


@pytest.fixture
def world(tools: Tools, monkeypatch: pytest.MonkeyPatch) -> World:
    """The tools' environment for a sweep: members B and C (B with its member role and a bucket),
    the report bucket protected, and every call of the own and member clients recorded."""
    monkeypatch.setenv("DEPLOYMENT_ACCOUNT", OWN)
    monkeypatch.setenv("SWEEP_MEMBER_ACCOUNTS", f"{MEMBER_B},{MEMBER_C}")
    monkeypatch.setenv("SWEEP_EXTERNAL_ID", EXTERNAL_ID)
    monkeypatch.setenv("PROTECTED_BUCKETS", REPORTS)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.delenv(SECURITY_HUB_IMPORT_ENV, raising=False)
    monkeypatch.setattr(scan_resource, "_sweeps", {})  # no sweep cached from another test
    monkeypatch.setenv("SWEEP_STATE_MACHINE_ARN", MACHINE)
    # Step Functions answers that each sweep execution asked about runs (confirm_sweep_execution's
    # own check of the name and the machine stays real); `running` ends one.
    monkeypatch.setattr(deps, "confirm_sweep_execution", _confirm_against(RUNNING))
    world = World.attach(tools.session, monkeypatch)
    world.install_member_role(MEMBER_B)
    world.buckets(MEMBER_B, MEMBER_BUCKET)
    return world


def request(accounts: list[str], types: list[str] | None = None, sweep_id: str = SWEEP) -> SweepRequest:
    return SweepRequest.model_validate(
        {
            "sweepId": sweep_id,
            "accounts": accounts,
            "resourceTypes": types or [BUCKET],
            "requestedBy": "arn:aws:iam::123456789012:role/Auditor",
            "requestedAt": "2025-03-01T12:00:00Z",
        }
    )


def seal(tools: Tools, swept: SweepRequest) -> SweepRequest:
    """POST /sweeps' record: sealed with the API's key, written once."""
    write_sealed(REPORTS, request_key(swept.sweep_id), swept, tools.storage.sealer, tools.clients, once=True)
    return swept


def plant(tools: Tools, swept: SweepRequest, seal: str | None) -> None:
    """A request record written by someone with access to the bucket, not by the API."""
    body: dict[str, Any] = {"record": swept.to_json_dict()}
    if seal is not None:
        body["seal"] = seal
    write_object(REPORTS, request_key(swept.sweep_id), body, tools.clients)


def keys(tools: Tools, prefix: str) -> list[str]:
    s3 = tools.session.client("s3")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=REPORTS, Prefix=prefix).get("Contents", [])]


def stored(tools: Tools, key: str) -> Any:
    return json.loads(tools.session.client("s3").get_object(Bucket=REPORTS, Key=key)["Body"].read())


def listing_event(**extra: Any) -> dict[str, Any]:
    return {"sweepId": SWEEP, "executionArn": EXECUTION, **extra}


def item_event(account: str, resource_id: str, kind: str = BUCKET) -> dict[str, Any]:
    return {"sweepId": SWEEP, "accountId": account, "resource": {"type": kind, "id": resource_id}}


def assert_read_nothing(world: World) -> None:
    """No account was read: no AssumeRole, no member call, and of the own account nothing but the
    sealed request (no ListBuckets, no read of any resource)."""
    assert world.assumed == []
    assert world.member_calls() == []
    assert set(world.made(OWN)) <= REQUEST_READ


# -- List Resources ---------------------------------------------------------------------------------


def test_list_resources_lists_the_sealed_requests_accounts_and_writes_the_items(
    tools: Tools, world: World
) -> None:
    # Given the API sealed a sweep of the own account's and B's buckets
    seal(tools, request([OWN, MEMBER_B]))
    # When List Resources runs, with an input that tries to add C and security groups
    answer = list_resources.handler(
        listing_event(accounts=[MEMBER_C], resourceTypes=[SECURITY_GROUP]), FakeLambdaContext()
    )
    # Then it listed the request's accounts and types only (C is never assumed, no group listed)
    assert [p["RoleArn"].split(":")[4] for p in world.assumed] == [MEMBER_B]
    assert world.assumed[0]["ExternalId"] == EXTERNAL_ID
    assert not [c for _, c in world.calls if c.startswith("ec2.")]
    # And the items are every bucket of both (the stack's report bucket too: a sweep only reads)
    items = stored(tools, items_key(SWEEP))
    assert {(i["accountId"], i["resource"]["id"]) for i in items} == {
        (OWN, OWN_BUCKET),
        (OWN, "check-fixture-bucket"),
        (OWN, REPORTS),
        (MEMBER_B, MEMBER_BUCKET),
    }
    # And the answer is the Map's starting state, with each account's listing (also stored)
    assert answer["sweepId"] == SWEEP and answer["bucket"] == REPORTS
    assert (answer["itemsKey"], answer["items"]) == (items_key(SWEEP), 4)
    assert [(a["accountId"], a["status"], a["resources"]) for a in answer["accounts"]] == [
        (OWN, "LISTED", 3),
        (MEMBER_B, "LISTED", 1),
    ]
    assert stored(tools, accounts_key(SWEEP)) == answer["accounts"]


def test_list_resources_records_an_unreachable_member_and_lists_the_others(
    tools: Tools, world: World
) -> None:
    seal(tools, request([OWN, MEMBER_B, MEMBER_C]))  # C has no member role
    answer = list_resources.handler(listing_event(), FakeLambdaContext())
    statuses = {
        a["accountId"]: (a["status"], (a.get("error") or {}).get("error")) for a in answer["accounts"]
    }
    assert statuses == {
        OWN: ("LISTED", None),
        MEMBER_B: ("LISTED", None),
        MEMBER_C: ("FAILED", "MemberRoleMissing"),
    }
    assert answer["items"] == 4


def test_attack_list_resources_of_a_sweep_started_directly_reads_nothing(tools: Tools, world: World) -> None:
    """StartExecution by anyone allowed to, with a name no POST /sweeps gave: no sealed request."""
    with pytest.raises(AuditNotRequested):
        list_resources.handler(listing_event(), FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, ITEMS_PREFIX) == []


@pytest.mark.parametrize(
    "seal_value",
    [pytest.param(None, id="no seal"), pytest.param("Zm9yZ2Vk", id="made-up seal")],
)
def test_attack_list_resources_refuses_a_planted_sweep_request(
    tools: Tools, world: World, seal_value: str | None
) -> None:
    # Given a request record planted in the bucket, naming member B, and an execution of its name
    plant(tools, request([MEMBER_B]), seal_value)
    world.calls.clear()
    # When List Resources runs, it refuses, having read no account and written no item
    with pytest.raises(AuditNotRequested):
        list_resources.handler(listing_event(), FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, ITEMS_PREFIX) == []


# -- Scan Resource ----------------------------------------------------------------------------------


def listed(tools: Tools, *items: tuple[str, str, str]) -> None:
    """The items file List Resources writes (the map's ItemReader reads it)."""
    body = [item_event(account, resource_id, kind) for account, resource_id, kind in items]
    tools.session.client("s3").put_object(
        Bucket=REPORTS, Key=items_key(SWEEP), Body=json.dumps(body).encode()
    )


def test_scan_resource_judges_a_members_bucket_and_stores_its_result(tools: Tools, world: World) -> None:
    # Given a sealed sweep of B's buckets, whose listing found B's bucket
    seal(tools, request([OWN, MEMBER_B]))
    listed(tools, (MEMBER_B, MEMBER_BUCKET, BUCKET))
    # When Scan Resource runs on one of its items
    answer = scan_resource.handler(item_event(MEMBER_B, MEMBER_BUCKET), FakeLambdaContext())
    # Then the bucket was read in B, with B's member role
    assert [p["RoleArn"] for p in world.assumed] == [f"arn:aws:iam::{MEMBER_B}:role/SecurityAgentSweepReader"]
    assert "s3.GetBucketPolicy" in world.made(MEMBER_B)
    # And its result is stored under its key, and summed up in the answer
    key = resource_key(SWEEP, MEMBER_B, ResourceRef(id=MEMBER_BUCKET))
    result = ResourceResult.model_validate(stored(tools, key))
    assert (result.account_id, result.resource_arn) == (MEMBER_B, f"arn:aws:s3:::{MEMBER_BUCKET}")
    assert result.outcome == Outcome.NON_COMPLIANT  # a bare moto bucket fails several checks
    assert answer == {
        "accountId": MEMBER_B,
        "resource": {"type": BUCKET, "id": MEMBER_BUCKET},
        "outcome": "NON_COMPLIANT",
        "failing": len(result.failing),
        "key": key,
    }


@pytest.mark.parametrize(
    ("account", "resource_id", "kind"),
    [
        pytest.param(MEMBER_B, MEMBER_BUCKET, BUCKET, id="a member the request does not name"),
        pytest.param(OUTSIDER, "outsider-bucket", BUCKET, id="an account of no deployment"),
        pytest.param(OWN, "sg-0123456789abcdef0", SECURITY_GROUP, id="a type the request does not name"),
    ],
)
def test_attack_scan_resource_of_an_item_outside_the_sealed_request_reads_nothing(
    tools: Tools, world: World, account: str, resource_id: str, kind: str
) -> None:
    """A direct invocation of Scan Resource (or a tampered items file) with a made-up item: the
    sealed request names the own account's buckets only."""
    seal(tools, request([OWN], [BUCKET]))
    world.calls.clear()
    with pytest.raises(AuditNotRequested):
        scan_resource.handler(item_event(account, resource_id, kind), FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, RESOURCES_PREFIX) == []


def test_attack_scan_resource_with_a_planted_request_reads_nothing(tools: Tools, world: World) -> None:
    plant(tools, request([MEMBER_B]), "Zm9yZ2Vk")
    listed(tools, (MEMBER_B, MEMBER_BUCKET, BUCKET))
    world.calls.clear()
    with pytest.raises(AuditNotRequested):
        scan_resource.handler(item_event(MEMBER_B, MEMBER_BUCKET), FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, RESOURCES_PREFIX) == []


def test_attack_scan_resource_of_an_item_list_resources_never_listed_reads_nothing(
    tools: Tools, world: World
) -> None:
    """A direct invocation with an item of a requested account and type, but not one the listing
    found (rewriting an old sweep's result for a resource fixed since, say): refused."""
    seal(tools, request([OWN, MEMBER_B]))
    listed(tools, (OWN, OWN_BUCKET, BUCKET))
    world.calls.clear()
    with pytest.raises(AuditNotRequested, match="not one List Resources listed"):
        scan_resource.handler(item_event(MEMBER_B, MEMBER_BUCKET), FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, RESOURCES_PREFIX) == []


@pytest.mark.parametrize("tool", ["list", "report"])
@pytest.mark.parametrize(
    "execution",
    [
        pytest.param(EXECUTION.replace(SWEEP, "0" * 8 + SWEEP[8:]), id="another sweep's execution"),
        pytest.param(EXECUTION.replace("SecAgentSweep", "SecurityAgentAudit"), id="another machine's"),
        pytest.param(EXECUTION, id="the sweep's own, ended"),
    ],
)
def test_attack_list_and_report_invoked_outside_the_sweeps_running_execution_rewrite_nothing(
    tools: Tools, world: World, monkeypatch: pytest.MonkeyPatch, tool: str, execution: str
) -> None:
    """Invoked directly (or again after the sweep ended): the items, the listings and the report
    of the sweep stay as its own execution wrote them."""
    seal(tools, request([OWN, MEMBER_B]))
    monkeypatch.setitem(RUNNING, EXECUTION, "SUCCEEDED" if execution == EXECUTION else "RUNNING")
    handler = list_resources.handler if tool == "list" else write_posture_report.handler
    world.calls.clear()
    with pytest.raises(AuditNotRequested):
        handler({**listing_event(state={}), "executionArn": execution}, FakeLambdaContext())
    assert_read_nothing(world)
    assert keys(tools, ITEMS_PREFIX) == [] and keys(tools, REPORTS_PREFIX) == []


# -- Write Posture Report -------------------------------------------------------------------------


def test_sweep_end_to_end_lists_scans_and_reports_importing_only_own_findings(
    tools: Tools, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sealed sweep of the own account and B, and the Security Hub import enabled
    monkeypatch.setenv(SECURITY_HUB_IMPORT_ENV, "enabled")
    sent: list[dict[str, Any]] = []
    tools.session.events.register(
        "provide-client-params.securityhub.BatchImportFindings",
        lambda params, **_: sent.extend(params["Findings"]),
    )
    seal(tools, request([OWN, MEMBER_B]))
    # When the three tools run as the state machine runs them
    listing = list_resources.handler(listing_event(), FakeLambdaContext())
    for item in stored(tools, listing["itemsKey"]):
        scan_resource.handler(item, FakeLambdaContext())
    answer = write_posture_report.handler(listing_event(state={}), FakeLambdaContext())
    # Then the posture is complete over the four buckets
    assert answer["sweepId"] == SWEEP and answer["complete"] is True
    assert (answer["resources"], answer["nonCompliant"]) == (4, 4)
    assert stored(tools, report_key(SWEEP))["complete"] is True
    # And only the own account's findings went to Security Hub (B's stay in the ASFF pages)
    assert sent and {f["AwsAccountId"] for f in sent} == {OWN}
    assert answer["securityHub"]["imported"] == len(sent) and answer["securityHub"]["failed"] == 0
    asff = stored(tools, report_key(SWEEP, "asff/00000.json"))
    assert {f["AwsAccountId"] for f in asff} == {OWN, MEMBER_B}


def test_write_posture_report_of_a_sweep_without_a_sealed_request_writes_nothing(
    tools: Tools, world: World
) -> None:
    plant(tools, request([OWN]), None)
    with pytest.raises(AuditNotRequested):
        write_posture_report.handler(listing_event(state={}), FakeLambdaContext())
    assert keys(tools, REPORTS_PREFIX) == []
