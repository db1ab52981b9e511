import pytest

from secagent.models import CorsRule, Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_cors_wildcard_write"


def cors(*rules: CorsRule) -> Probe[list[CorsRule]]:
    return Probe(value=list(rules))


def test_cors_none_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_cors_wildcard_get_only_passes() -> None:
    rule = CorsRule(allowed_methods=["GET", "HEAD"], allowed_origins=["*"])
    assert run(CHECK, snapshot(cors=cors(rule))).status is Status.PASS


def test_cors_named_origin_put_passes() -> None:
    rule = CorsRule(allowed_methods=["PUT"], allowed_origins=["https://app.example.com"])
    assert run(CHECK, snapshot(cors=cors(rule))).status is Status.PASS


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE", "put"])
def test_cors_wildcard_origin_write_method_fails(method: str) -> None:
    rule = CorsRule(allowed_methods=["GET", method], allowed_origins=["*"])
    finding = run(CHECK, snapshot(cors=cors(rule)))
    assert finding.status is Status.FAIL and finding.evidence["rules"][0]["AllowedOrigins"] == ["*"]


def test_cors_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(cors=unknown_probe())).status is Status.UNKNOWN
