"""The security group corpus (tests/corpus/security_groups.py) built for real on moto's EC2: each
case's group, prefix lists, peer groups and network interfaces are created, the real Discover
reads the group back, and the analysis must give AWS's verdict per control.

Where test_corpus_security_groups.py judges a snapshot written from the case (the checks alone),
this proves Discover reads what EC2 holds into the snapshot the checks expect. A case moto cannot
hold as AWS does names its reason in ``GroupCase.not_built_on``.
"""

import boto3
import pytest
from moto import mock_aws

from tests.corpus.build_security_groups import Ledger, Unbuildable, build_group, create_network
from tests.corpus.cases import REGION
from tests.corpus.run import moto_session
from tests.corpus.run_security_groups import (
    SG_ACCOUNT,
    GroupRun,
    check_cleanup,
    check_group_case,
    check_group_precision_and_recall,
    run_group_corpus,
)
from tests.corpus.security_groups import PL_OPEN, SG_CASES, GroupCase, Rule

BACKEND = "moto"
ON_BACKEND = [c for c in SG_CASES if BACKEND not in c.not_built_on]


@pytest.fixture(scope="module")
def corpus_run() -> GroupRun:
    with mock_aws():
        # One worker: moto is bound by the interpreter lock, threads only add contention.
        return run_group_corpus(ON_BACKEND, session=moto_session(SG_ACCOUNT), run="moto")


@pytest.mark.parametrize("case", SG_CASES, ids=lambda c: c.id)
def test_sg_case_built_on_moto(case: GroupCase, corpus_run: GroupRun) -> None:
    check_group_case(case, corpus_run, BACKEND)


def test_sg_precision_and_recall_on_moto(corpus_run: GroupRun) -> None:
    check_group_precision_and_recall(corpus_run, BACKEND)


def test_sg_corpus_run_removes_what_it_built(corpus_run: GroupRun) -> None:
    check_cleanup(corpus_run)


@pytest.mark.parametrize(
    ("prefix_lists", "why"),
    [
        ({PL_OPEN: ["198.51.100.0/24", "2001:db8::/48"]}, "mixes IPv4 and IPv6"),
        ({PL_OPEN: None}, "unreadable in the case"),
        ({}, "whose entries the case does not give"),
    ],
)
def test_the_builder_refuses_a_case_ec2_cannot_hold_before_creating_anything(
    prefix_lists: dict[str, list[str] | None], why: str
) -> None:
    case = GroupCase(
        "unbuildable", "test", {}, ingress=(Rule("tcp", 22, PL_OPEN),), prefix_lists=prefix_lists
    )
    ledger = Ledger()
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=REGION)
        shared = create_network(ec2, Ledger(), name="shared", run="refused")
        with pytest.raises(Unbuildable, match=why):
            build_group(case, ec2, name="refused", run="refused", shared=shared, ledger=ledger)
    assert ledger == Ledger()  # nothing was created
