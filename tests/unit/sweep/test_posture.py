"""A sweep's posture report: exact counts per control and per account, worst first, never more
than was seen (an account not listed, a resource not judged, UNKNOWN never passing), its
renderings, and its JSON valid against the committed docs/posture.schema.json."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from secagent.models.findings import Severity, Status
from secagent.models.outcome import Outcome
from secagent.models.posture import POSTURE_SCHEMA_VERSION, PostureReport
from secagent.models.report import ReportControl, ReportFinding, StepError
from secagent.models.snapshot import BUCKET, SECURITY_GROUP, ResourceRef
from secagent.models.sweep import AccountListing, ResourceResult, SweepRequest
from secagent.sweep.posture import posture_json_schema, posture_of, render_markdown, render_table

ROOT = Path(__file__).parents[3]
SCHEMA_FILE = ROOT / "docs" / "posture.schema.json"
SWEEP = "sweep-0001"
A, B, C = "111111111111", "222222222222", "333333333333"
AT = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
FINISHED = AT + timedelta(minutes=7)

# The checks as the registry declares them: (severity, controls)
CHECKS: dict[str, tuple[Severity, list[str]]] = {
    "s3_bucket_policy_public": (Severity.CRITICAL, ["FSBP:S3.2", "FSBP:S3.3"]),
    "s3_bucket_block_public_access_off": (Severity.HIGH, ["FSBP:S3.8", "CIS-3.0:2.1.4"]),
    "s3_bucket_versioning_disabled": (Severity.MEDIUM, ["FSBP:S3.14"]),
    "s3_bucket_default_encryption_missing": (Severity.MEDIUM, []),
    "ec2_security_group_ssh_open_to_internet": (Severity.HIGH, ["FSBP:EC2.13"]),
    "ec2_security_group_rdp_open_to_internet": (Severity.HIGH, ["FSBP:EC2.14"]),
    "ec2_security_group_unused": (Severity.MEDIUM, []),
}
P, F, U, E = Status.PASS, Status.FAIL, Status.UNKNOWN, Status.EXEMPT


def finding(check_id: str, status: Status) -> ReportFinding:
    severity, controls = CHECKS[check_id]
    return ReportFinding(
        finding_id=f"{check_id}-id",
        check_id=check_id,
        title=check_id.replace("_", " "),
        severity=severity,
        status=status,
        controls=[ReportControl.parse(c) for c in controls],
        first_observed_at=AT,
        last_observed_at=AT,
    )


def result(
    account: str,
    resource_id: str,
    outcome: Outcome,
    findings: dict[str, Status] | None = None,
    *,
    error: StepError | None = None,
    observed_at: datetime = AT,
) -> ResourceResult:
    is_group = resource_id.startswith("sg-")
    arn = (
        f"arn:aws:ec2:eu-west-1:{account}:security-group/{resource_id}"
        if is_group
        else f"arn:aws:s3:::{resource_id}"
    )
    return ResourceResult(
        sweep_id=SWEEP,
        account_id=account,
        region="eu-west-1",
        resource=ResourceRef(type=SECURITY_GROUP if is_group else BUCKET, id=resource_id),
        resource_arn=arn,
        observed_at=observed_at,
        outcome=outcome,
        findings=[finding(check, status) for check, status in (findings or {}).items()],
        error=error,
    )


def request(accounts: list[str] | None = None) -> SweepRequest:
    return SweepRequest(
        sweep_id=SWEEP,
        accounts=accounts or [A, B, C],
        resource_types=[BUCKET, SECURITY_GROUP],
        requested_by="alice",
        requested_at=AT,
    )


BUCKET_CHECKS = (
    "s3_bucket_policy_public",
    "s3_bucket_block_public_access_off",
    "s3_bucket_versioning_disabled",
)


def fixture_results() -> list[ResourceResult]:
    """Account A: 6 listed, 5 seen; account B: 3 listed, one failed to scan; C: not listed."""
    public = dict(zip(BUCKET_CHECKS, (F, F, P), strict=True)) | {"s3_bucket_default_encryption_missing": F}
    return [
        result(A, "a-public", Outcome.NON_COMPLIANT, public),
        result(
            A,
            "a-ok",
            Outcome.COMPLIANT,
            dict.fromkeys((*BUCKET_CHECKS, "s3_bucket_default_encryption_missing"), P),
        ),
        result(
            A,
            "sg-0aaa1111",
            Outcome.NON_COMPLIANT,
            {"ec2_security_group_ssh_open_to_internet": F, "ec2_security_group_unused": U},
        ),
        result(
            A,
            "sg-0bbb2222",
            Outcome.NON_COMPLIANT,
            {"ec2_security_group_ssh_open_to_internet": F, "ec2_security_group_rdp_open_to_internet": F},
        ),
        result(
            A,
            "a-denied",
            Outcome.ACCESS_DENIED,
            error=StepError(error="AccessDenied", message="s3:GetBucketPolicy was denied."),
        ),
        result(B, "b-unknown", Outcome.NON_COMPLIANT, dict(zip(BUCKET_CHECKS, (U, E, F), strict=True))),
        result(B, "b-ok", Outcome.COMPLIANT, dict.fromkeys(BUCKET_CHECKS, P)),
    ]


LISTINGS = [
    AccountListing(account_id=A, status="LISTED", resources=6),
    AccountListing(account_id=B, status="LISTED", resources=3),
    AccountListing(
        account_id=C,
        status="FAILED",
        error=StepError(error="AccessDenied", message="The member role cannot be assumed."),
    ),
]
FAILED_ITEMS: list[dict[str, Any]] = [
    {
        "accountId": B,
        "resource": {"type": BUCKET, "id": "b-broken"},
        "error": {"Error": "States.Timeout", "Cause": "a raw stack trace"},
    }
]


@pytest.fixture
def posture() -> PostureReport:
    return posture_of(request(), LISTINGS, fixture_results(), failed_items=FAILED_ITEMS, finished_at=FINISHED)


def counts(row: Any) -> tuple[int, int, int, int]:
    return (row.pass_, row.fail, row.unknown, row.exempt)


def test_counts_per_control_are_exact_and_worst_first(posture: PostureReport) -> None:
    # Given three accounts (one not listed), resources passing, failing, unknown, exempt, denied
    controls = {c.id: c for c in posture.by_control}
    # Then each control counts each judged resource once, with its worst verdict
    # as (pass, fail, unknown, exempt)
    expected = {
        "FSBP:S3.2": (2, 1, 1, 0),
        "FSBP:S3.3": (2, 1, 1, 0),
        "FSBP:EC2.13": (0, 2, 0, 0),
        "CIS-3.0:2.1.4": (2, 1, 0, 1),
        "FSBP:EC2.14": (0, 1, 0, 0),
        "FSBP:S3.8": (2, 1, 0, 1),
        "FSBP:S3.14": (3, 1, 0, 0),
        "s3_bucket_default_encryption_missing": (1, 1, 0, 0),
        "ec2_security_group_unused": (0, 0, 1, 0),
    }
    assert {key: counts(c.resources) for key, c in controls.items()} == expected
    # And worst first: the worst severity failing it, then the most failing, then the id
    assert [c.id for c in posture.by_control] == list(expected)
    assert [c.worst_failing for c in posture.by_control] == [
        *[Severity.CRITICAL] * 2,
        *[Severity.HIGH] * 4,
        *[Severity.MEDIUM] * 2,
        None,
    ]
    # And per account, most failing first
    s32 = controls["FSBP:S3.2"]
    assert [(a.account_id, counts(a)) for a in s32.accounts] == [(A, (1, 1, 0, 0)), (B, (1, 0, 1, 0))]
    assert s32.standard == "aws-foundational-security-best-practices/v/1.0.0" and s32.control == "S3.2"
    assert s32.check_ids == ["s3_bucket_policy_public"]
    # And a check that maps to no control has its own row, keyed by its id
    unmapped = controls["s3_bucket_default_encryption_missing"]
    assert (unmapped.standard, unmapped.control) == (None, None)
    # And the failing resources of a control name the account, type, id, ARN, check and severity
    [failure] = s32.failing
    assert (failure.account_id, failure.resource.type, failure.resource.id) == (A, BUCKET, "a-public")
    assert failure.resource_arn == "arn:aws:s3:::a-public"
    assert (failure.check_id, failure.severity) == ("s3_bucket_policy_public", Severity.CRITICAL)
    assert [f.resource.id for f in controls["FSBP:EC2.13"].failing] == ["sg-0aaa1111", "sg-0bbb2222"]


def test_counts_per_account_are_exact_and_worst_first(posture: PostureReport) -> None:
    accounts = {a.account_id: a for a in posture.by_account}
    a, b, c = accounts[A], accounts[B], accounts[C]
    # Then A: 6 listed, 5 seen, one denied (unjudged, never compliant) and one never reported
    assert (a.status, a.resources, a.seen, a.judged, a.compliant, a.non_compliant) == (
        "LISTED",
        6,
        5,
        4,
        1,
        3,
    )
    assert (a.unjudged, a.unjudged_by_outcome.access_denied, a.unseen) == (1, 1, 1)
    assert counts(a.findings) == (5, 6, 1, 0)
    assert a.failing_by_severity.model_dump() == {"critical": 1, "high": 4, "medium": 1, "low": 0, "info": 0}
    # And B: the resource whose child execution failed is unjudged (FAILED), not unseen
    assert (b.resources, b.seen, b.compliant, b.non_compliant, b.unjudged, b.unseen) == (3, 3, 1, 1, 1, 0)
    assert b.unjudged_by_outcome.failed == 1
    assert counts(b.findings) == (3, 1, 1, 1)
    assert b.failing_by_severity.medium == 1 and b.failing_by_severity.critical == 0
    # And C: its listing failed, with the error named; nothing counted
    assert c.status == "FAILED" and c.error is not None and c.error.error == "AccessDenied"
    assert (c.resources, c.seen, c.judged, c.unseen) == (0, 0, 0, 0)
    # And the accounts are worst first
    assert [x.account_id for x in posture.by_account] == [A, B, C]
    # And the totals add up
    t = posture.totals
    assert (t.accounts, t.accounts_listed, t.resources, t.seen, t.judged) == (3, 2, 9, 8, 6)
    assert (t.compliant, t.non_compliant, t.unjudged, t.unseen) == (2, 4, 2, 1)
    assert counts(t.findings) == (8, 7, 2, 1)
    assert t.failing_by_severity.model_dump() == {"critical": 1, "high": 4, "medium": 2, "low": 0, "info": 0}


def test_failing_resources_are_worst_first(posture: PostureReport) -> None:
    # Then by the resource's worst failing severity, then how many fail
    shown = [(r.resource.id, r.worst, r.failing) for r in posture.failing_resources]
    assert shown == [
        ("a-public", Severity.CRITICAL, 3),
        ("sg-0bbb2222", Severity.HIGH, 2),
        ("sg-0aaa1111", Severity.HIGH, 1),
        ("b-unknown", Severity.MEDIUM, 1),
    ]
    first = posture.failing_resources[0]
    assert [c.check_id for c in first.checks] == [
        "s3_bucket_policy_public",
        "s3_bucket_block_public_access_off",
        "s3_bucket_default_encryption_missing",
    ]
    assert [c.label for c in first.checks[0].controls] == ["FSBP:S3.2", "FSBP:S3.3"]


def test_a_failed_account_and_what_was_not_seen_make_it_incomplete(posture: PostureReport) -> None:
    assert posture.complete is False
    reasons = [(r.reason, r.account_id, r.count) for r in posture.incomplete_reasons]
    assert reasons == [
        ("NOT_JUDGED", A, 1),
        ("RESULTS_MISSING", A, 1),
        ("ITEMS_FAILED", B, 1),
        ("ACCOUNT_NOT_LISTED", C, 0),
    ]
    listing = posture.incomplete_reasons[-1].message
    assert C in listing and "AccessDenied" in listing and "member role" in listing
    # And the unjudged resources are listed, the failed item without its raw cause
    unjudged = {u.resource.id: u for u in posture.unjudged_resources}
    assert set(unjudged) == {"a-denied", "b-broken"}
    assert unjudged["a-denied"].outcome == "ACCESS_DENIED"
    broken = unjudged["b-broken"]
    assert broken.outcome == "FAILED" and broken.error == StepError(error="States.Timeout")
    assert "stack trace" not in posture.model_dump_json()


def test_unknown_is_never_counted_as_pass() -> None:
    # Given a bucket whose only findings are UNKNOWN
    unknown = result(A, "a-unknown", Outcome.NON_COMPLIANT, dict.fromkeys(BUCKET_CHECKS, U))
    listings = [AccountListing(account_id=A, status="LISTED", resources=1)]
    posture = posture_of(request([A]), listings, [unknown], finished_at=FINISHED)
    # Then every control it touches counts it unknown, none pass
    assert {c.id: counts(c.resources) for c in posture.by_control} == {
        key: (0, 0, 1, 0) for key in ("CIS-3.0:2.1.4", "FSBP:S3.14", "FSBP:S3.2", "FSBP:S3.3", "FSBP:S3.8")
    }
    assert counts(posture.totals.findings) == (0, 0, 3, 0)
    assert posture.totals.compliant == 0 and posture.failing_resources == []
    # And a control with one check passing and another unknown is unknown, not pass
    mixed = result(A, "a-mixed", Outcome.NON_COMPLIANT)
    mixed.findings = [finding("s3_bucket_policy_public", P), finding("s3_bucket_policy_public", U)]
    posture = posture_of(request([A]), listings, [mixed], finished_at=FINISHED)
    assert counts(next(c for c in posture.by_control if c.id == "FSBP:S3.2").resources) == (0, 0, 1, 0)


def test_a_denied_resource_is_unjudged_and_its_findings_count_nowhere() -> None:
    # Given a resource denied, even with (stale) PASS findings attached
    denied = result(A, "a-denied", Outcome.ACCESS_DENIED, dict.fromkeys(BUCKET_CHECKS, P))
    listings = [AccountListing(account_id=A, status="LISTED", resources=1)]
    posture = posture_of(request([A]), listings, [denied], finished_at=FINISHED)
    # Then it is unjudged, the report is incomplete, and no control counts it as passing
    t = posture.totals
    assert (t.judged, t.compliant, t.unjudged, t.unjudged_by_outcome.access_denied) == (0, 0, 1, 1)
    assert posture.by_control == [] and counts(t.findings) == (0, 0, 0, 0)
    assert not posture.complete and posture.incomplete_reasons[0].reason == "NOT_JUDGED"


def test_a_resource_gone_since_the_listing_is_unjudged_but_the_sweep_is_complete() -> None:
    gone = result(A, "a-gone", Outcome.RESOURCE_NOT_FOUND)
    ok = result(A, "a-ok", Outcome.COMPLIANT, dict.fromkeys(BUCKET_CHECKS, P))
    listings = [AccountListing(account_id=A, status="LISTED", resources=2)]
    posture = posture_of(request([A]), listings, [gone, ok], finished_at=FINISHED)
    assert posture.complete and posture.incomplete_reasons == []
    assert (posture.totals.unjudged_by_outcome.resource_not_found, posture.totals.compliant) == (1, 1)


def test_a_sweep_that_saw_everything_is_complete_and_a_stopped_one_is_not() -> None:
    ok = result(A, "a-ok", Outcome.COMPLIANT, dict.fromkeys(BUCKET_CHECKS, P))
    listings = [AccountListing(account_id=A, status="LISTED", resources=1)]
    assert posture_of(request([A]), listings, [ok], finished_at=FINISHED).complete
    stopped = posture_of(
        request([A]), listings, [ok], finished_at=FINISHED, incomplete_reason="failure threshold exceeded"
    )
    assert not stopped.complete
    assert [(r.reason, r.message) for r in stopped.incomplete_reasons] == [
        ("SWEEP_STOPPED", "failure threshold exceeded")
    ]
    # And an account with no listing recorded is MISSING, named, never counted
    missing = posture_of(request([A, B]), listings, [ok], finished_at=FINISHED)
    assert {a.account_id: a.status for a in missing.by_account} == {A: "LISTED", B: "MISSING"}
    assert [(r.reason, r.account_id) for r in missing.incomplete_reasons] == [("ACCOUNT_NOT_LISTED", B)]


def test_results_written_twice_and_failed_items_with_a_result_count_once() -> None:
    old = result(A, "a-1", Outcome.NON_COMPLIANT, {"s3_bucket_versioning_disabled": F})
    new = result(
        A, "a-1", Outcome.COMPLIANT, {"s3_bucket_versioning_disabled": P}, observed_at=AT + timedelta(1)
    )
    listings = [AccountListing(account_id=A, status="LISTED", resources=1)]
    item = {"accountId": A, "resource": {"type": BUCKET, "id": "a-1"}, "error": "States.TaskFailed"}
    posture = posture_of(request([A]), listings, [new, old], failed_items=[item, item], finished_at=FINISHED)
    assert (posture.totals.seen, posture.totals.compliant, posture.totals.unjudged) == (1, 1, 0)
    assert posture.complete
    # And a failed item naming no requested account is still a reason, never silently dropped
    stray = {"accountId": "999999999999", "resource": {"type": BUCKET, "id": "x"}, "error": "Boom"}
    posture = posture_of(request([A]), listings, [new], failed_items=[stray, {"nonsense": 1}])
    assert [(r.reason, r.account_id, r.count) for r in posture.incomplete_reasons] == [
        ("ITEMS_FAILED", None, 2)
    ]


def test_records_of_another_account_or_sweep_are_refused() -> None:
    listings = [AccountListing(account_id=A, status="LISTED", resources=1)]
    with pytest.raises(ValueError, match="did not request"):
        posture_of(request([A]), listings, [result(B, "b", Outcome.COMPLIANT)])
    with pytest.raises(ValueError, match="did not request"):
        posture_of(request([A]), [AccountListing(account_id=B, status="LISTED")], [])
    other = result(A, "a", Outcome.COMPLIANT).model_copy(update={"sweep_id": "other"})
    with pytest.raises(ValueError, match="sweep"):
        posture_of(request([A]), listings, [other])


def test_complete_is_never_claimed_beside_a_reason(posture: PostureReport) -> None:
    data = posture.to_json_dict()
    with pytest.raises(ValidationError, match="complete"):
        PostureReport.model_validate({**data, "complete": True})
    with pytest.raises(ValidationError, match="complete"):
        PostureReport.model_validate({**data, "complete": False, "incompleteReasons": []})


def test_the_json_is_camel_case_round_trips_and_validates_against_the_schema(posture: PostureReport) -> None:
    data = json.loads(posture.model_dump_json(by_alias=True))
    assert data["schemaVersion"] == POSTURE_SCHEMA_VERSION == "1"
    assert {
        "sweepId",
        "requestedBy",
        "incompleteReasons",
        "byAccount",
        "byControl",
        "failingResources",
    } <= set(data)
    assert data["byControl"][0]["resources"] == {"pass": 2, "fail": 1, "unknown": 1, "exempt": 0}
    assert PostureReport.model_validate(data) == posture
    schema = json.loads(SCHEMA_FILE.read_text())
    assert schema["$id"] == "urn:secagent:posture:1"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    # And a report that breaks the contract does not validate
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "totals": {}}, schema, cls=jsonschema.Draft202012Validator)


def test_posture_schema_file_is_generated_from_model() -> None:
    # Byte for byte what `python -m secagent.models.posture > docs/posture.schema.json` writes
    generated = json.dumps(posture_json_schema(), indent=2) + "\n"
    assert SCHEMA_FILE.read_text() == generated, (
        "stale schema: python -m secagent.models.posture > docs/posture.schema.json"
    )


def test_markdown_names_the_failing_resources_and_why_it_is_incomplete(posture: PostureReport) -> None:
    text = render_markdown(posture)
    assert text.startswith(f"# Posture of sweep `{SWEEP}`")
    for resource_id in ("a-public", "sg-0bbb2222", "sg-0aaa1111", "b-unknown", "a-denied", "b-broken"):
        assert f"`{resource_id}`" in text
    assert "| Complete | **no**: 4 reasons below" in text
    assert f"account {C} could not be listed (AccessDenied" in text
    assert f"| `{C}` | FAILED (AccessDenied) |" in text
    assert "| `FSBP:S3.2` | CRITICAL | 1 | 1 | 0 | 2 | 1 | `s3_bucket_policy_public` |" in text
    assert text.index("`a-public`") < text.index("`sg-0bbb2222`") < text.index("`b-unknown`")
    assert "stack trace" not in text


def test_table_fits_a_terminal_and_lists_the_failing_resources(posture: PostureReport) -> None:
    text = render_table(posture)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "INCOMPLETE" in text and f"account {C} could not be listed" in text
    failing = text[text.index("Failing resources") :]
    assert [line.split()[-1] for line in failing.splitlines()[3:7]] == [
        "a-public",
        "sg-0bbb2222",
        "sg-0aaa1111",
        "b-unknown",
    ]
    assert "FSBP:S3.2" in text and "Not judged (2 of 2)" in text
    # And a long sweep shows the top rows and says how many more there are
    short = render_table(posture, top=1)
    assert "Failing resources, worst first (1 of 4)" in short and "... and 3 more failing resources" in short


def test_a_shortened_report_keeps_every_count_and_the_worst_of_each_list(posture: PostureReport) -> None:
    # Given a report with several failing resources and controls
    assert len(posture.failing_resources) > 1
    # When it is shortened to one resource and one failure per control
    short = posture.shortened_to(1, 1, "https://example.invalid/full")
    # Then the lists hold their worst entries, and it says what it left out
    assert short.failing_resources == posture.failing_resources[:1]
    assert all(len(c.failing) <= 1 for c in short.by_control)
    assert short.shortened is not None and short.shortened.failing_resources == len(posture.failing_resources)
    assert short.shortened.control_failures == sum(len(c.failing) for c in posture.by_control)
    # And every count and reason is whole
    assert (short.totals, short.by_account, short.incomplete_reasons) == (
        posture.totals,
        posture.by_account,
        posture.incomplete_reasons,
    )
    assert [c.resources for c in short.by_control] == [c.resources for c in posture.by_control]
    # And it still validates, and says so in the terminal table
    jsonschema.validate(short.to_json_dict(), json.loads(SCHEMA_FILE.read_text()))
    assert "Shortened" in render_table(short) and "https://example.invalid/full" in render_table(short)
    assert posture.shortened is None and "Shortened" not in render_table(posture)
