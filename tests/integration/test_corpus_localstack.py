"""The labelled corpus (tests/corpus) on LocalStack S3: every case's expected verdicts against the
product, with buckets built on the emulator (a 12-digit access key id selects the account).

Bucket names carry a random per-run suffix so reruns on a long-lived LocalStack never collide.
Run with ``-s`` to see the precision / recall table.
"""

import time

import pytest

from scripts.localstack_client import ENDPOINT
from tests.corpus.cases import CASES, Case
from tests.corpus.run import (
    Outcome,
    check_case,
    check_precision_and_recall,
    localstack_session,
    run_corpus,
    run_suffix,
)

BACKEND = "localstack"
ON_BACKEND = [c for c in CASES if BACKEND in c.backends]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    started = time.perf_counter()
    result = run_corpus(
        ON_BACKEND, session_for=localstack_session, endpoint_url=ENDPOINT, suffix=run_suffix(), workers=8
    )
    print(f"\nbuilt and judged {len(result)} cases on {ENDPOINT} in {time.perf_counter() - started:.1f}s")
    return result


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case, outcomes: dict[str, Outcome]) -> None:
    check_case(case, outcomes, BACKEND)


def test_precision_and_recall_per_control(outcomes: dict[str, Outcome]) -> None:
    check_precision_and_recall(outcomes, BACKEND)
