"""The labelled security group corpus (tests/corpus/security_groups.py): every case's expected
verdicts, from AWS's definitions, against the product's analysis of the case's group.

A failure here is the product disagreeing with AWS; the message names the AWS source.
"""

import re

import pytest

from tests.corpus.build_security_groups import unbuildable
from tests.corpus.run_security_groups import check_verdicts
from tests.corpus.security_groups import (
    FAIL,
    PASS,
    SG_CASES,
    SG_CHECKS_WITHOUT_CONTROL,
    SG_CONTROLS,
    GroupCase,
    misjudged,
    verdicts,
)

BACKENDS = {"moto", "localstack"}


def test_sg_corpus_is_well_formed() -> None:
    ids = [c.id for c in SG_CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    assert len(SG_CASES) >= 8
    for case in SG_CASES:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]", case.id), case.id
        assert case.source.strip() and "\n" not in case.source, case.id
        assert case.expected or case.checks, case.id
        assert set(case.expected) <= set(SG_CONTROLS), (case.id, set(case.expected) - set(SG_CONTROLS))
        assert set(case.checks) <= set(SG_CHECKS_WITHOUT_CONTROL), case.id
        assert {*case.expected.values(), *case.checks.values()} <= {PASS, FAIL}, case.id
        # every case is built for real too (test_corpus_security_groups_moto.py, LocalStack)
        assert unbuildable(case) is None, (case.id, unbuildable(case))
        assert set(case.not_built_on) <= BACKENDS and all(case.not_built_on.values()), case.id
    # every control, and every check without one, has cases on both sides
    for label in (*SG_CONTROLS, *SG_CHECKS_WITHOUT_CONTROL):
        values = {c.expected.get(label) or c.checks.get(label) for c in SG_CASES} - {None}
        assert values == {PASS, FAIL}, (label, values)


@pytest.mark.parametrize("case", SG_CASES, ids=lambda c: c.id)
def test_sg_case(case: GroupCase) -> None:
    check_verdicts(case, verdicts(case))


def test_sg_precision_and_recall_are_perfect_per_control() -> None:
    assert misjudged((case, verdicts(case)) for case in SG_CASES) == {}
