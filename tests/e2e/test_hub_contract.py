"""The fake hub the LMS API's tests use answers like the real JupyterHub.

Both are asked the same questions through lms_api's own hub clients (the token validator and
the hub directory), so a change in what JupyterHub answers, or in what lms_api asks, fails
here instead of leaving the API tests green against a fake that no longer matches.
"""

import asyncio
import time

import httpx
import pytest

from lms_api.auth import HubTokenValidator
from lms_api.people.service import HubDirectory
from tests.fakes.hub import FakeHub

pytestmark = pytest.mark.e2e

CALLERS = ("admin", "office", "trainer", "coach", "ada", "linus", "grace")
NARROWED = {  # (owner, scopes)
    "none": ("ada", []),
    "activity-only": ("ada", ["read:users:activity!user=ada"]),
    "another-service": ("trainer", ["access:services!service=dashboards"]),
    "this-service": ("linus", ["access:services!service=lms-api"]),
}


@pytest.fixture(scope="module")
def hubs(platform):
    fake = FakeHub().start()
    try:
        yield {"real": platform, "fake": fake}
    finally:
        fake.stop()


def token_with(hub, username: str, scopes: list[str] | None = None) -> tuple[str, str]:
    body = {"note": "contract"} if scopes is None else {"note": "contract", "scopes": scopes}
    made = hub.api("POST", f"/users/{username}/tokens", json=body)
    assert made.status_code == 201, made.text
    return made.json()["token"], made.json()["id"]


def principal(hub, token: str):
    async def ask():
        validator = HubTokenValidator(hub.hub_api, hub.secrets["APRANOVA_LMS_API_TOKEN"], 0)
        try:
            return await validator.principal_for(token)
        finally:
            await validator.aclose()

    return asyncio.run(ask())


def directory(hub) -> HubDirectory:
    return HubDirectory(hub.hub_api, hub.secrets["APRANOVA_LMS_API_TOKEN"])


def both(hubs, answer) -> dict:
    """`answer(hub)` for the real hub and the fake; the test compares the two."""
    return {name: answer(hub) for name, hub in hubs.items()}


def test_every_demo_caller_resolves_to_the_same_principal(hubs):
    for username in CALLERS:
        seen = both(hubs, lambda hub, u=username: principal(hub, token_with(hub, u)[0]))
        assert seen["real"] == seen["fake"], username
        assert seen["real"] is not None and seen["real"].may_access


def test_service_tokens_resolve_alike(hubs):
    for secret in ("APRANOVA_HUB_SERVICE_TOKEN", "APRANOVA_LMS_API_TOKEN"):
        seen = both(hubs, lambda hub, s=secret: principal(hub, hub.secrets[s]))
        assert seen["real"] == seen["fake"], secret


@pytest.mark.parametrize(("owner", "scopes"), NARROWED.values(), ids=NARROWED.keys())
def test_narrowed_tokens_carry_the_same_access(hubs, owner, scopes):
    seen = both(hubs, lambda hub: principal(hub, token_with(hub, owner, scopes)[0]))
    assert seen["real"] == seen["fake"]


def test_a_scope_the_owner_does_not_hold_is_refused_alike(hubs):
    def ask(hub):
        made = hub.api(
            "POST",
            "/users/ada/tokens",
            json={"note": "contract", "scopes": ["access:services!service=dashboards"]},
        )
        return made.status_code, "not held" in made.json()["message"]

    assert both(hubs, ask) == {"real": (400, True), "fake": (400, True)}


def test_unknown_and_revoked_tokens_belong_to_nobody(hubs):
    def revoked(hub):
        token, token_id = token_with(hub, "linus")
        assert principal(hub, token) is not None
        hub.revoke("linus", token_id)
        time.sleep(0.1)
        return principal(hub, token)

    assert both(hubs, revoked) == {"real": None, "fake": None}
    assert both(hubs, lambda hub: principal(hub, "not-a-token")) == {"real": None, "fake": None}


def test_the_directory_answers_alike(hubs):
    def ask(hub):
        hub_directory = directory(hub)

        async def answers():
            roles = {u: await hub_directory.role_of(u) for u in (*CALLERS, "nobody-here")}
            # (other e2e tests may add trainers to the shared hub: compare the demo school's)
            trainers = [u for u in await hub_directory.trainer_usernames() if u in CALLERS]
            return trainers, roles

        return asyncio.run(answers())

    seen = both(hubs, ask)
    assert seen["real"] == seen["fake"]
    assert seen["real"][1]["nobody-here"] is None


def test_the_admin_calls_tests_make_answer_alike(hubs):
    """Making a user, reading it with the service token (with its servers) and a 404."""

    def calls(hub):
        name = f"newcomer{id(hub) % 1000}"
        made = hub.api("POST", f"/users/{name}")
        again = hub.api("POST", f"/users/{name}")
        read = httpx.get(
            f"{hub.hub_api}/users/{name}",
            headers={"Authorization": f"token {hub.secrets['APRANOVA_LMS_API_TOKEN']}"},
        )
        missing = hub.api("GET", "/users/nobody-at-all")
        body = read.json()
        return (
            made.status_code,
            again.status_code,
            read.status_code,
            (body["admin"], body["groups"], isinstance(body.get("servers"), dict)),
            missing.status_code,
        )

    seen = both(hubs, calls)
    assert seen["real"] == seen["fake"]
