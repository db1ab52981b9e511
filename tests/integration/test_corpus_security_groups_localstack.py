"""The security group corpus (tests/corpus/security_groups.py) built for real on LocalStack's EC2:
each case's group, prefix lists, peer groups and network interfaces are created in the cases' own
account, the real Discover reads the group back, and the analysis must give AWS's verdict per
control; then everything built is removed (and nothing tagged with the run may remain).

Needs only LocalStack's EC2 (the deployed stack is not used). Names carry a random per-run suffix,
so reruns on a long-lived LocalStack never collide. A case LocalStack cannot hold as AWS does
names its reason in ``GroupCase.not_built_on``. Run with ``-s`` for the count and timing.
"""

import pytest

from scripts.localstack_client import ENDPOINT
from tests.corpus.run import localstack_session
from tests.corpus.run_security_groups import (
    SG_ACCOUNT,
    GroupRun,
    check_cleanup,
    check_group_case,
    check_group_precision_and_recall,
    run_group_corpus,
)
from tests.corpus.security_groups import SG_CASES, GroupCase

BACKEND = "localstack"
ON_BACKEND = [c for c in SG_CASES if BACKEND not in c.not_built_on]


@pytest.fixture(scope="module")
def corpus_run() -> GroupRun:
    return run_group_corpus(
        ON_BACKEND, session=localstack_session(SG_ACCOUNT), endpoint_url=ENDPOINT, workers=4
    )


@pytest.mark.parametrize("case", SG_CASES, ids=lambda c: c.id)
def test_sg_case_built_on_localstack(case: GroupCase, corpus_run: GroupRun) -> None:
    check_group_case(case, corpus_run, BACKEND)


def test_sg_precision_and_recall_on_localstack(corpus_run: GroupRun) -> None:
    check_group_precision_and_recall(corpus_run, BACKEND)


def test_sg_corpus_run_removes_what_it_built(corpus_run: GroupRun) -> None:
    check_cleanup(corpus_run)
