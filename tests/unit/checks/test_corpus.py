"""The labelled corpus (tests/corpus) on moto: every case's expected verdicts against the product.

Buckets are built once for the module inside one ``mock_aws`` context, each in its account (moto
derives the account from assumed-role credentials), then secagent's real Discover and analysis
run on each. Labels come from AWS's definitions; a failure here is the product disagreeing with AWS
(or moto lacking a feature: see ``Case.backends`` / ``Case.note``).

Run with ``-s`` to see the precision / recall table.
"""

import re

import pytest
from moto import mock_aws

from tests.corpus.build import SHARED_ACCOUNT, account_for
from tests.corpus.cases import CASES, CONTROLS, FAIL, PASS, Case
from tests.corpus.run import Outcome, check_case, check_precision_and_recall, moto_session, run_corpus

BACKEND = "moto"
ON_BACKEND = [c for c in CASES if BACKEND in c.backends]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    with mock_aws():
        # One worker: moto is bound by the interpreter lock, threads only add contention.
        return run_corpus(
            ON_BACKEND, session_for=moto_session, workers=1, suffix="moto", policy_status_faithful=False
        )


def test_corpus_is_well_formed() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(CASES) >= 160
    for case in CASES:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]", case.id), case.id
        assert case.source.strip() and "\n" not in case.source, case.id
        assert case.expected, case.id
        assert set(case.expected) <= set(CONTROLS), (case.id, set(case.expected) - set(CONTROLS))
        assert set(case.expected.values()) <= {PASS, FAIL}, case.id
        assert case.backends <= {"moto", "localstack"} and case.backends, case.id
        if case.backends != {"moto", "localstack"}:
            assert case.note, f"{case.id}: say why a backend is left out"
        if case.acl_grants:
            assert case.object_ownership in ("BucketOwnerPreferred", "ObjectWriter"), case.id
        if case.account_public_access_block is None:
            assert account_for(case) == SHARED_ACCOUNT
    # Each control has cases on both sides (CIS 2.1.2 cannot pass: emulators never return MFADelete).
    for control in CONTROLS:
        values = {c.expected[control] for c in CASES if control in c.expected}
        wanted = {FAIL} if control == "CIS-3.0:2.1.2" else {PASS, FAIL}
        assert values >= wanted, (control, values)
    accounts = [account_for(c) for c in CASES if c.account_public_access_block is not None]
    assert len(accounts) == len(set(accounts)), "each account-level BPA case needs its own account"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, outcomes: dict[str, Outcome]) -> None:
    check_case(case, outcomes, BACKEND)


def test_precision_and_recall_per_control(outcomes: dict[str, Outcome]) -> None:
    check_precision_and_recall(outcomes, BACKEND)
