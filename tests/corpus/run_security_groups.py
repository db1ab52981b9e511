"""Build the security group corpus on an EC2 API, run secagent's real Discover + analysis on each
group, and remove what was built (the bucket corpus's ``run`` for security groups)."""

import functools
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from secagent.aws import ClientFactory, client_factory
from secagent.discovery.ec2 import discover_security_group
from tests.corpus.build_security_groups import (
    Ledger,
    Network,
    Unbuildable,
    build_group,
    create_network,
    leftovers,
)
from tests.corpus.cases import REGION
from tests.corpus.run import cached, run_suffix
from tests.corpus.security_groups import GroupCase, case_shape, misjudged, mismatches, shape, verdicts_of

# The cases' own account (a 12-digit access key selects it on LocalStack, an assumed role on
# moto): nothing else there, so the account's other groups never mix in.
SG_ACCOUNT = "434343434343"


@dataclass
class GroupOutcome:
    case: GroupCase
    group_id: str | None = None
    verdicts: dict[str, str] = field(default_factory=dict)
    read: dict[str, Any] = field(default_factory=dict)  # the shape of what Discover read
    error: str | None = None  # build or discovery failure
    unbuildable: str | None = None  # why EC2 cannot hold the case (nothing was built)


@dataclass
class GroupRun:
    outcomes: dict[str, GroupOutcome]
    cleanup_failures: list[str]
    leftovers: list[str]  # resources still tagged with the run after cleanup
    seconds: float

    def judged(self) -> list[tuple[GroupCase, dict[str, str]]]:
        """(case, verdicts) of every case the run built; an errored one has no verdicts (each
        of its FAIL labels counts as missed)."""
        return [(o.case, o.verdicts) for o in self.outcomes.values() if o.unbuildable is None]


def _one(
    case: GroupCase, *, session: boto3.Session, make: ClientFactory, shared: Network, run: str
) -> tuple[GroupOutcome, list[str]]:
    """Build, judge and remove one case: its outcome and the cleanup's failures."""
    outcome = GroupOutcome(case)
    ec2 = make("ec2", REGION)
    ledger = Ledger()
    try:
        built = build_group(case, ec2, name=f"{case.id}-{run}", run=run, shared=shared, ledger=ledger)
        outcome.group_id = built.group_id
        snapshot = discover_security_group(built.group_id, session, clients=make)
        outcome.read = shape(snapshot, {real: placeholder for placeholder, real in built.ids.items()})
        outcome.verdicts = verdicts_of(snapshot)
    except Unbuildable as err:
        outcome.unbuildable = str(err)
    except Exception as err:  # report per case, keep building the others
        stage = "build" if outcome.group_id is None else "discover/analyze"
        outcome.error = f"{stage} failed: {type(err).__name__}: {err}"
    return outcome, ledger.cleanup(ec2)


def run_group_corpus(
    cases: Iterable[GroupCase],
    *,
    session: boto3.Session,
    endpoint_url: str | None = None,
    run: str | None = None,
    workers: int = 1,
) -> GroupRun:
    """Build, judge and remove each case in turn: at most one VPC per worker for the default-group
    cases exists at a time (AWS allows five VPCs a region by default). Errors are kept per case."""
    started = time.perf_counter()
    run = run or run_suffix()
    make = cached(client_factory(session, endpoint_url=endpoint_url, max_pool=max(20, workers * 4)))
    ec2 = make("ec2", REGION)
    shared_ledger = Ledger()
    try:
        shared = create_network(ec2, shared_ledger, name=f"sg-corpus-{run}", run=run)
        judge = functools.partial(_one, session=session, make=make, shared=shared, run=run)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sg-corpus") as pool:
            results = list(pool.map(judge, cases))
    finally:
        shared_failures = shared_ledger.cleanup(ec2)  # the shared VPC goes last: every case is gone
    return GroupRun(
        outcomes={outcome.case.id: outcome for outcome, _ in results},
        cleanup_failures=[failure for _, failures in results for failure in failures] + shared_failures,
        leftovers=leftovers(ec2, run),
        seconds=time.perf_counter() - started,
    )


def check_verdicts(case: GroupCase, said: dict[str, str]) -> None:
    """Fail the test, naming AWS's source, when the product's verdicts differ from the labels."""
    if wrong := mismatches(case, said):
        pytest.fail("; ".join(wrong) + f"\n  source: {case.source}", pytrace=False)


def check_group_case(case: GroupCase, run: GroupRun, backend: str) -> None:
    """One case's test on ``backend``: built, discovered, every expected verdict."""
    if reason := case.not_built_on.get(backend):
        pytest.skip(f"not built on {backend}: {reason}")
    outcome = run.outcomes[case.id]
    if outcome.unbuildable:
        pytest.skip(f"EC2 cannot hold this case: {outcome.unbuildable}")
    assert outcome.error is None, outcome.error
    # Discover must read what was built: the case's snapshot, ids aside.
    assert outcome.read == case_shape(case), f"Discover read {outcome.read}"
    check_verdicts(case, outcome.verdicts)


def check_group_precision_and_recall(run: GroupRun, backend: str) -> None:
    """Precision and recall 1.00 per control and per check without one (FAIL = positive)."""
    judged = run.judged()
    print(f"\nsecurity group corpus on {backend}: {len(judged)} cases judged in {run.seconds:.1f}s")
    assert misjudged(judged) == {}


def check_cleanup(run: GroupRun) -> None:
    """The run removed everything it created."""
    assert run.cleanup_failures == [], run.cleanup_failures
    assert run.leftovers == [], f"still there after cleanup: {run.leftovers}"
