"""`secagent report ID --format ocsf|asff`: standard findings on stdout, the same exit codes."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from secagent.cli.common import CliError
from secagent.cli.main import build_parser
from secagent.cli.report import report
from secagent.client import ApiResponse
from secagent.models.report import Report
from tests.unit.cli.conftest import AUDIT_ID, FakeApi, audit_body, load_report
from tests.unit.outputs.conftest import as_v2
from tests.unit.outputs.test_ocsf import errors


def api_for(data: dict[str, Any]) -> FakeApi:
    return FakeApi(get_audit=ApiResponse(200, audit_body("SUCCEEDED", outcome=data["outcome"], report=data)))


def run(data: dict[str, Any], fmt: str, fail_on: str = "high") -> tuple[int, Any]:
    out = io.StringIO()
    code = report(api_for(data), AUDIT_ID, fmt=fmt, fail_on=fail_on, out=out)
    return code, json.loads(out.getvalue())


def test_the_parser_offers_both_formats() -> None:
    args = build_parser().parse_args(["report", AUDIT_ID, "--format", "ocsf"])
    assert args.format == "ocsf"
    assert build_parser().parse_args(["report", AUDIT_ID, "--format", "asff"]).format == "asff"


def test_ocsf_prints_a_json_array_of_valid_compliance_findings() -> None:
    data = as_v2(load_report("remediated"))
    code, shown = run(data, "ocsf")
    assert isinstance(shown, list) and len(shown) == len(data["findings"])
    assert all(f["class_uid"] == 2003 and errors(f) == [] for f in shown)
    assert [f["finding_info"]["uid"] for f in shown] == [f["findingId"] for f in data["findings"]]
    assert code == 0


def test_asff_prints_batch_import_findings_input() -> None:
    data = as_v2(load_report("plan"))
    code, shown = run(data, "asff")
    assert list(shown) == ["Findings"]
    assert [f["Id"] for f in shown["Findings"]] == [f["findingId"] for f in data["findings"]]
    assert {f["Compliance"]["Status"] for f in shown["Findings"]} == {"PASSED", "FAILED"}
    assert code == 1  # CRITICAL findings still fail


@pytest.mark.parametrize("fmt", ["ocsf", "asff"])
@pytest.mark.parametrize(
    ("name", "fail_on"), [("plan", "high"), ("remediated", "high"), ("remediated", "medium")]
)
def test_the_exit_code_is_the_same_as_for_json(fmt: str, name: str, fail_on: str) -> None:
    data = as_v2(load_report(name))
    expected = report(api_for(data), AUDIT_ID, fmt="json", fail_on=fail_on, out=io.StringIO())
    assert run(data, fmt, fail_on)[0] == expected


@pytest.mark.parametrize("fmt", ["ocsf", "asff"])
def test_a_report_without_the_fields_the_formats_need_is_a_clear_error(fmt: str) -> None:
    with pytest.raises(CliError) as caught:
        report(api_for(load_report("plan")), AUDIT_ID, fmt=fmt, out=io.StringIO())
    assert caught.value.code == 3
    assert f"cannot render the report as {fmt.upper()}" in caught.value.message


def test_the_fixture_is_a_report_write_report_could_write() -> None:
    # as_v2 fills what schemaVersion 2 requires; the model would refuse a field it does not know
    assert Report.model_validate(as_v2(load_report("remediated"))).schema_version == "2"
