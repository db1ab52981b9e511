"""Build corpus cases on an S3 API, run secagent's real Discover + analysis, score the verdicts."""

import contextlib
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.exceptions import ClientError

from secagent.aws import ClientFactory, client_factory
from secagent.checks import analyze, control_verdicts
from secagent.discovery import discover_bucket
from secagent.models.settings import AgentSettings
from secagent.models.snapshot import Probe
from tests.corpus.build import SHARED_ACCOUNT, account_for, build
from tests.corpus.cases import CONTROLS, FAIL, REGION, Case

SessionFor = Callable[[str], boto3.Session]


def verdicts(
    case: Case,
    *,
    bucket: str,
    clients: ClientFactory,
    session: boto3.Session | None = None,
    policy_status_faithful: bool = True,
) -> dict[str, str]:
    """The product's verdict per control for ``case``'s bucket: Discover, analyze with default
    settings (no trusted accounts, KMS not required), then one status per control.

    ``policy_status_faithful=False``: the emulator's GetBucketPolicyStatus is not S3's verdict
    (moto answers IsPublic for any Allow to "*", ignoring Denies and conditions), so it is
    treated as unreadable, as on LocalStack, which does not emulate it."""
    snapshot = discover_bucket(bucket, session, clients=clients)
    if not policy_status_faithful:
        unfaithful = Probe[bool](state="unknown", reason="emulator's PolicyStatus is not S3's verdict")
        snapshot.config.policy_status_is_public = unfaithful
    result = analyze(snapshot, AgentSettings())
    return {control: str(status) for control, status in control_verdicts(result.findings).items()}


def bucket_name(case: Case, suffix: str) -> str:
    return f"{case.id}-{suffix}"


def run_suffix() -> str:
    """A short random suffix: bucket names stay unique across reruns on a long-lived emulator."""
    return secrets.token_hex(3)


def moto_session(account: str) -> boto3.Session:
    """A session in ``account`` on moto (inside ``mock_aws``): moto derives the account from
    the credentials of an assumed role (moto docs, 'Multi-account support')."""
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/corpus", RoleSessionName="corpus")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def localstack_session(account: str) -> boto3.Session:
    """On LocalStack a 12-digit access key id selects the account."""
    return boto3.Session(aws_access_key_id=account, aws_secret_access_key="test", region_name=REGION)


@dataclass
class Outcome:
    case: Case
    bucket: str
    account: str
    verdicts: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # build or discovery failure

    def mismatches(self) -> list[str]:
        return [
            f"{control}: product says {self.verdicts.get(control, 'no verdict')}, AWS says {want}"
            for control, want in self.case.expected.items()
            if self.verdicts.get(control) != want
        ]


@dataclass
class _Account:
    session: boto3.Session
    clients: ClientFactory
    s3: object
    s3control: object
    sqs: object


def cached(make: ClientFactory) -> ClientFactory:
    """Reuse one client per (service, region): boto3 clients are thread-safe and creating one
    costs more than the calls Discover makes with it."""
    made: dict[tuple[str, str | None], object] = {}
    lock = threading.Lock()

    def get(service: str, region: str | None = None) -> object:
        with lock:
            if (service, region) not in made:
                made[service, region] = make(service, region)
            return made[service, region]

    return get


def _reset_account_bpa(account: _Account, account_id: str) -> None:
    with contextlib.suppress(ClientError):
        account.s3control.delete_public_access_block(AccountId=account_id)  # type: ignore[attr-defined]


def run_corpus(
    cases: Iterable[Case],
    *,
    session_for: SessionFor,
    endpoint_url: str | None = None,
    suffix: str | None = None,
    workers: int = 8,
    policy_status_faithful: bool = True,
) -> dict[str, Outcome]:
    """Build every case (each in its account) and judge it. Errors are kept per case."""
    cases = list(cases)
    suffix = suffix or run_suffix()
    accounts: dict[str, _Account] = {}
    for account_id in sorted({account_for(c) for c in cases} | {SHARED_ACCOUNT}):
        session = session_for(account_id)
        make = cached(client_factory(session, endpoint_url=endpoint_url, max_pool=max(20, workers * 20)))
        accounts[account_id] = _Account(
            session, make, make("s3", REGION), make("s3control", REGION), make("sqs", REGION)
        )
    # "None" means not configured: the shared account must carry no account-level BPA.
    _reset_account_bpa(accounts[SHARED_ACCOUNT], SHARED_ACCOUNT)

    def one(case: Case) -> Outcome:
        account_id = account_for(case)
        acct = accounts[account_id]
        outcome = Outcome(case, bucket_name(case, suffix), account_id)
        try:
            build(case, acct.s3, acct.s3control, bucket=outcome.bucket, account=account_id, sqs=acct.sqs)
        except Exception as err:  # report per case, keep building the others
            outcome.error = f"build failed: {type(err).__name__}: {err}"
            return outcome
        try:
            outcome.verdicts = verdicts(
                case,
                bucket=outcome.bucket,
                clients=acct.clients,
                session=acct.session,
                policy_status_faithful=policy_status_faithful,
            )
        except Exception as err:
            outcome.error = f"discover/analyze failed: {type(err).__name__}: {err}"
        return outcome

    if workers <= 1:
        results = [one(c) for c in cases]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="corpus") as pool:
            results = list(pool.map(one, cases))
    return {o.case.id: o for o in results}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def positives(self) -> int:
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        return self.tn + self.fp

    @property
    def precision(self) -> float:
        return 1.0 if self.tp + self.fp == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        return 1.0 if self.tp + self.fn == 0 else self.tp / (self.tp + self.fn)


def score(outcomes: Iterable[Outcome]) -> dict[str, Score]:
    """Per control, FAIL = positive; a missing / UNKNOWN / errored verdict counts as "not FAIL"."""
    scores = {c: Score() for c in CONTROLS}
    for outcome in outcomes:
        for control, want in outcome.case.expected.items():
            said_fail = outcome.error is None and outcome.verdicts.get(control) == FAIL
            s = scores[control]
            if want == FAIL:
                s.tp += said_fail
                s.fn += not said_fail
            else:
                s.fp += said_fail
                s.tn += not said_fail
    return scores


def table(scores: dict[str, Score]) -> str:
    lines = [f"{'control':<16} {'pos':>4} {'neg':>4} {'TP':>4} {'FP':>4} {'FN':>4} {'prec':>6} {'recall':>6}"]
    for control, s in scores.items():
        lines.append(
            f"{control:<16} {s.positives:>4} {s.negatives:>4} {s.tp:>4} {s.fp:>4} {s.fn:>4} "
            f"{s.precision:>6.2f} {s.recall:>6.2f}"
        )
    return "\n".join(lines)


def check_case(case: Case, outcomes: dict[str, Outcome], backend: str) -> None:
    """One case's test on ``backend``: every expected verdict, with AWS's source on failure."""
    if backend not in case.backends:
        pytest.skip(f"not built on {backend}: {case.note}")
    outcome = outcomes[case.id]
    assert outcome.error is None, outcome.error
    mismatches = outcome.mismatches()
    if mismatches:
        pytest.fail("; ".join(mismatches) + f"\n  source: {case.source}", pytrace=False)


def check_precision_and_recall(outcomes: dict[str, Outcome], backend: str) -> None:
    """Precision and recall 1.00 per control (FAIL = positive); the table is printed (-s)."""
    scores = score(outcomes.values())
    print(f"\ncorpus on {backend}: {len(outcomes)} cases (FAIL = positive)\n{table(scores)}")
    imperfect = {c: (round(s.precision, 2), round(s.recall, 2)) for c, s in scores.items() if s.fp or s.fn}
    assert not imperfect, f"controls below 1.00 precision/recall: {imperfect}"
