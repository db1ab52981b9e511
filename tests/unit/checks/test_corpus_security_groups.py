"""The labelled security group corpus (tests/corpus/security_groups.py): every case's expected
verdicts, from AWS's definitions, against the product's analysis of the case's group.

A failure here is the product disagreeing with AWS; the message names the AWS source.
"""

import re

import pytest

from tests.corpus.security_groups import (
    FAIL,
    PASS,
    SG_CASES,
    SG_CHECKS_WITHOUT_CONTROL,
    SG_CONTROLS,
    GroupCase,
    verdicts,
)


def mismatches(case: GroupCase) -> list[str]:
    said = verdicts(case)
    wanted = {**case.expected, **case.checks}
    return [
        f"{label}: product says {said.get(label, 'no verdict')}, AWS says {want}"
        for label, want in wanted.items()
        if said.get(label) != want
    ]


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
    # every control, and every check without one, has cases on both sides
    for label in (*SG_CONTROLS, *SG_CHECKS_WITHOUT_CONTROL):
        values = {c.expected.get(label) or c.checks.get(label) for c in SG_CASES} - {None}
        assert values == {PASS, FAIL}, (label, values)


@pytest.mark.parametrize("case", SG_CASES, ids=lambda c: c.id)
def test_sg_case(case: GroupCase) -> None:
    if wrong := mismatches(case):
        pytest.fail("; ".join(wrong) + f"\n  source: {case.source}", pytrace=False)


def test_sg_precision_and_recall_are_perfect_per_control() -> None:
    # FAIL = positive: a false FAIL (precision) and a missed FAIL (recall) both count
    false_fail: dict[str, int] = {}
    missed_fail: dict[str, int] = {}
    for case in SG_CASES:
        said = verdicts(case)
        for label, want in {**case.expected, **case.checks}.items():
            if want == FAIL and said.get(label) != FAIL:
                missed_fail[label] = missed_fail.get(label, 0) + 1
            if want == PASS and said.get(label) == FAIL:
                false_fail[label] = false_fail.get(label, 0) + 1
    assert (false_fail, missed_fail) == ({}, {})
