from secagent.models import Probe, Status
from tests.unit.checks.snapshots import run, snapshot, unknown_probe

CHECK = "s3_bucket_website_enabled"


def test_website_off_passes() -> None:
    assert run(CHECK, snapshot()).status is Status.PASS


def test_website_on_fails_with_configuration() -> None:
    site = {"IndexDocument": {"Suffix": "index.html"}}
    finding = run(CHECK, snapshot(website=Probe(value=site)))
    assert finding.status is Status.FAIL and finding.evidence == {"website": site}


def test_website_unreadable_is_unknown() -> None:
    assert run(CHECK, snapshot(website=unknown_probe())).status is Status.UNKNOWN
