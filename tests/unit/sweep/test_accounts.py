"""Reaching the swept accounts: the own one with the tools' own clients, a member only through its
member stack's role (assumed with the external id, then proven by its own GetRole and version
tag), anyone else never; sessions kept per account and renewed before they expire."""

import time

import pytest

from secagent.sweep.accounts import (
    MEMBER_ROLE_NAME,
    SESSION_SECONDS,
    AccountSessions,
    AccountUnreachable,
    SweepSettings,
)
from tests.unit.sweep.conftest import EXTERNAL_ID, MEMBER_B, MEMBER_C, OUTSIDER, OWN, World, settings


def test_own_account_uses_the_tools_own_clients_without_assume_role(world: World) -> None:
    # Given the deployment's sessions
    own = world.clients
    sessions = AccountSessions(settings(), own)
    # When the own account's clients are asked for
    made = sessions.clients(OWN)
    # Then they are the tools' own, and STS was never asked
    assert made is own
    assert world.assumed == [] and world.calls == []


def test_non_member_account_is_refused_without_any_sts_call(world: World) -> None:
    # Given an account that is neither the deployment's nor a member (even if it had the role)
    world.install_member_role(OUTSIDER)
    sessions = world.sessions()
    # When its clients are asked for
    with pytest.raises(AccountUnreachable) as refused:
        sessions.clients(OUTSIDER)
    # Then it is NotAMember, and nothing was asked of AWS (no AssumeRole, no GetRole)
    assert refused.value.step_error.error == "NotAMember"
    assert world.calls == [] and world.assumed == []


def test_assume_role_sends_the_external_id_and_the_member_role_arn(world: World) -> None:
    # Given member B with the member stack's role
    world.install_member_role(MEMBER_B)
    # When its clients are asked for
    made = world.sessions().clients(MEMBER_B)
    # Then one AssumeRole of B's member role, with the external id and a bounded session
    assert world.assumed == [
        {
            "RoleArn": f"arn:aws:iam::{MEMBER_B}:role/SecurityAgentSweepReader",
            "RoleSessionName": "secagent-sweep",
            "DurationSeconds": SESSION_SECONDS,
            "ExternalId": EXTERNAL_ID,
        }
    ]
    # And the clients act in B (moto maps the assumed credentials to the role's account)
    assert made("sts", None).get_caller_identity()["Account"] == MEMBER_B
    # And the role was proven in B with B's credentials
    assert "iam.GetRole" in world.made(MEMBER_B)


def test_assume_role_without_an_external_id_setting_sends_none(world: World) -> None:
    world.install_member_role(MEMBER_B)
    world.sessions(external_id="").clients(MEMBER_B)
    [params] = world.assumed
    assert "ExternalId" not in params


def test_role_arn_follows_the_partition() -> None:
    assert settings(partition="aws-cn").role_arn(MEMBER_B) == (
        f"arn:aws-cn:iam::{MEMBER_B}:role/{MEMBER_ROLE_NAME}"
    )


def test_access_denied_on_assume_role_is_unreachable_without_the_raw_aws_message(world: World) -> None:
    # Given B's role does not trust this deployment (STS answers AccessDenied, naming principals)
    world.install_member_role(MEMBER_B)
    world.deny_assume_role(MEMBER_B)
    # When B's clients are asked for
    with pytest.raises(AccountUnreachable) as refused:
        world.sessions().clients(MEMBER_B)
    # Then the account is unreachable with the code, and a sentence of ours, not AWS's message
    err = refused.value
    assert err.step_error.error == "AccessDenied"
    for shown in (str(err), err.step_error.message or ""):
        assert "is not authorized" not in shown
        assert "assumed-role/SecAgentSweepTools" not in shown
        assert MEMBER_B in shown and "member stack" in shown
    # And nothing was read in B
    assert world.made(MEMBER_B) == []


def test_missing_member_role_is_member_role_missing(world: World) -> None:
    # Given B never deployed the member stack (GetRole answers NoSuchEntity)
    # When B's clients are asked for
    with pytest.raises(AccountUnreachable) as refused:
        world.sessions().clients(MEMBER_B)
    # Then MemberRoleMissing, asking for the member stack
    assert refused.value.step_error.error == "MemberRoleMissing"
    assert "deploy the member stack" in str(refused.value)
    assert world.made(MEMBER_B) == ["iam.GetRole"]


def test_unreadable_member_role_is_unreachable_with_its_code(world: World) -> None:
    world.install_member_role(MEMBER_B)
    world.fail(MEMBER_B, "iam.GetRole", "AccessDenied", 403)
    with pytest.raises(AccountUnreachable) as refused:
        world.sessions().clients(MEMBER_B)
    assert refused.value.step_error.error == "AccessDenied"
    assert "injected" not in str(refused.value)  # the raw AWS message stays out


@pytest.mark.parametrize(
    "version", [None, "0", "not-a-number", ""], ids=["untagged", "0", "garbage", "empty"]
)
def test_member_role_without_the_version_tag_is_member_stack_outdated(
    world: World, version: str | None
) -> None:
    # Given B's role exists, but is not tagged with a version this hub can use
    world.install_member_role(MEMBER_B, version=version)
    # When B's clients are asked for
    with pytest.raises(AccountUnreachable) as refused:
        world.sessions().clients(MEMBER_B)
    # Then MemberStackOutdated, asking for an update of the member stack
    assert refused.value.step_error.error == "MemberStackOutdated"
    assert "update the member stack" in str(refused.value)


def test_member_role_of_a_later_version_is_accepted(world: World) -> None:
    world.install_member_role(MEMBER_B, version="2")
    made = world.sessions().clients(MEMBER_B)
    assert made("sts", None).get_caller_identity()["Account"] == MEMBER_B


def test_sessions_are_cached_per_account(world: World) -> None:
    # Given members B and C with their roles
    world.install_member_role(MEMBER_B)
    world.install_member_role(MEMBER_C)
    sessions = world.sessions()
    # When B is asked for twice and C once
    first = sessions.clients(MEMBER_B)
    again = sessions.clients(MEMBER_B)
    other = sessions.clients(MEMBER_C)
    # Then one AssumeRole (and one proof) per account
    assert first is again and other is not first
    assert [p["RoleArn"].split(":")[4] for p in world.assumed] == [MEMBER_B, MEMBER_C]
    assert world.made(MEMBER_B).count("iam.GetRole") == 1


def test_session_is_renewed_before_it_expires(world: World) -> None:
    # Given B's session, made now (moto's credentials expire SESSION_SECONDS later)
    world.install_member_role(MEMBER_B)
    clock = [time.time()]
    sessions = AccountSessions(settings(), world.clients, now=lambda: clock[0])
    first = sessions.clients(MEMBER_B)
    # When it is asked for again more than 5 minutes before its expiry
    clock[0] += SESSION_SECONDS - 330
    # Then the cached one answers
    assert sessions.clients(MEMBER_B) is first and len(world.assumed) == 1
    # When it is asked for within 5 minutes of its expiry
    clock[0] += 60
    renewed = sessions.clients(MEMBER_B)
    # Then the role is assumed (and proven) again
    assert renewed is not first and len(world.assumed) == 2
    assert world.made(MEMBER_B).count("iam.GetRole") == 2


def test_failed_assume_role_is_not_cached(world: World) -> None:
    # Given B unreachable once (no role), then deployed
    sessions = world.sessions()
    with pytest.raises(AccountUnreachable):
        sessions.clients(MEMBER_B)
    world.install_member_role(MEMBER_B)
    # When asked again, it is reached
    assert sessions.clients(MEMBER_B)("sts", None).get_caller_identity()["Account"] == MEMBER_B


# -- settings ---------------------------------------------------------------------------------


def test_settings_from_env_reads_the_deployment() -> None:
    env = {
        "DEPLOYMENT_ACCOUNT": OWN,
        "SWEEP_MEMBER_ACCOUNTS": f" {MEMBER_B}, {MEMBER_C},{OWN},",
        "SWEEP_EXTERNAL_ID": EXTERNAL_ID,
        "AWS_REGION": "eu-west-1",
    }
    read = SweepSettings.from_env(env)
    assert read.own_account == OWN and read.region == "eu-west-1" and read.partition == "aws"
    # The own account is never a member of itself
    assert read.member_accounts == {MEMBER_B, MEMBER_C}
    assert read.sweepable == {OWN, MEMBER_B, MEMBER_C}
    assert EXTERNAL_ID not in repr(read)  # never logged


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"DEPLOYMENT_ACCOUNT": "12345"}, id="short own account"),
        pytest.param({}, id="no own account"),
        pytest.param({"DEPLOYMENT_ACCOUNT": f"{OWN}x"}, id="own account with a suffix"),
        pytest.param({"DEPLOYMENT_ACCOUNT": OWN, "SWEEP_MEMBER_ACCOUNTS": f"{MEMBER_B},abc"}, id="member"),
        pytest.param(
            {"DEPLOYMENT_ACCOUNT": OWN, "SWEEP_MEMBER_ACCOUNTS": "2222222222222"}, id="13-digit member"
        ),
    ],
)
def test_settings_from_env_rejects_a_malformed_account_id(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="12-digit account id"):
        SweepSettings.from_env(env)
