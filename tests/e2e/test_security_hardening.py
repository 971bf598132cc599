"""Issue 18 against the real hub in local mode: deactivation and revocation stop running
workspaces and refuse new ones (item 1), the Dagster webserver's own port answers only the
gateway (item 2), notebooks' tokens carry the lms-api scope (item 7), the dashboards are not
framable (item 8) and /hub/login is throttled (item 15)."""

import re
import time

import httpx
import pytest

from tests.e2e.test_dagster_ui import ASSETS, LAUNCH, graphql
from tests.e2e.test_workspace import run_in_workspace_environment, wait_for_server

pytestmark = pytest.mark.e2e

GUARD_SECONDS = 15  # APRANOVA_WORKSPACE_GUARD_SECONDS' default: the stated delay
LMS = "/services/lms-api/api/v1"


def lms(platform, method: str, path: str, token: str, **kwargs) -> httpx.Response:
    return httpx.request(
        method,
        f"{platform.url}{LMS}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
        **kwargs,
    )


def enrolled_student(platform, username: str, admin_token: str) -> str:
    """A new hub user granted DP in the LMS; returns the user's own hub token."""
    assert platform.api("POST", f"/users/{username}").status_code == 201
    granted = lms(
        platform, "POST", "/enrollments", admin_token, json={"username": username, "track": "DP"}
    )
    assert granted.status_code == 201, granted.text
    return platform.new_token(username)[0]


def spawn(platform, username: str, token: str) -> httpx.Response:
    return httpx.post(
        f"{platform.hub_api}/users/{username}/server",
        headers={"Authorization": f"token {token}"},
        timeout=120,
    )


def test_deactivation_and_revocation_stop_running_workspaces(platform):
    admin = platform.new_token("admin")[0]
    tokens = {name: enrolled_student(platform, name, admin) for name in ("mallory", "trudy")}
    for name, token in tokens.items():
        assert spawn(platform, name, token).status_code in (201, 202)
    for name in tokens:
        wait_for_server(platform, name, ready=True)
    # the notebook's own token may use lms-api (server_token_scopes)
    me = run_in_workspace_environment(
        platform,
        "mallory",
        "from lms_api.client import LmsClient; print(LmsClient().me().model_dump_json())",
    )
    assert me["username"] == "mallory"

    assert lms(platform, "POST", "/users/mallory/deactivate", admin).status_code == 200
    trudy_dp = lms(platform, "GET", "/enrollments?username=trudy", admin).json()["results"][0]
    revoked = lms(
        platform, "POST", f"/enrollments/{trudy_dp['id']}/revoke", admin, json={"reason": "x"}
    )
    assert revoked.status_code == 200, revoked.text
    changed = time.monotonic()
    for name in tokens:
        wait_for_server(platform, name, ready=False, timeout=GUARD_SECONDS + 10)
    assert time.monotonic() - changed <= GUARD_SECONDS + 10
    assert "lms-api no longer allows it" in platform.log_tail(400)

    # a new start is refused, with the reason
    refused = spawn(platform, "mallory", tokens["mallory"])
    assert refused.status_code == 403, refused.text
    assert "account is deactivated" in refused.json()["message"]
    refused = spawn(platform, "trudy", tokens["trudy"])
    assert refused.status_code == 403 and "not enrolled" in refused.json()["message"]
    for name in tokens:
        assert not (platform.api("GET", f"/users/{name}").json().get("servers") or {})


def test_the_dagster_webserver_answers_only_its_gateway(platform):
    """A local process (a notebook in local mode) dialling the Dagster UI's loopback port can
    neither read it nor launch a run; the admin through the hub still can."""
    direct = f"http://127.0.0.1:{platform.ports['dagster_upstream_port']}/services/dagster"
    read = httpx.post(f"{direct}/graphql", json={"query": ASSETS}, timeout=30)
    assert read.status_code == 403, read.text[:500]
    assert "assetNodes" not in read.text
    selector = {
        "repositoryLocationName": "pipelines.definitions",
        "repositoryName": "__repository__",
        "jobName": "refresh_quizzes",
    }
    launch = httpx.post(
        f"{direct}/graphql",
        json={"query": LAUNCH, "variables": {"selector": selector}},
        headers={"X-Apranova-Gateway": "guessed"},
        timeout=30,
    )
    assert launch.status_code == 403 and "runId" not in launch.text

    admin = platform.browser("admin")
    assert admin.get("/services/dagster/").status_code == 200
    assert graphql(admin, platform, ASSETS)["assetNodes"]


def test_dashboards_are_not_framable(platform):
    anonymous = httpx.get(f"{platform.url}/services/dashboards/", follow_redirects=False)
    trainer = platform.browser("trainer").get("/services/dashboards/")
    assert trainer.status_code == 200
    for response in (anonymous, trainer):
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN", response.headers
        assert "frame-ancestors 'self'" in response.headers.get_list("Content-Security-Policy")


def login(platform, client: httpx.Client, username: str, password: str) -> httpx.Response:
    page = client.get("/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/hub/login", data={"username": username, "password": password, "_xsrf": xsrf}
    )


def test_login_form_is_throttled_per_username(platform):
    out = platform.run("-m", "hub.cli", "add-user", "throttled")
    password = out.strip().rsplit(" ", 1)[-1]
    with httpx.Client(base_url=platform.url, follow_redirects=True, timeout=60) as client:
        for _ in range(5):
            assert login(platform, client, "throttled", "wrong-password").status_code == 403
        locked = login(platform, client, "throttled", password)
        assert locked.status_code == 429
        assert "Too many failed logins" in locked.text
        assert client.get("/hub/api/user").status_code == 403  # not logged in


def test_a_user_deleted_and_made_again_starts_with_no_lms_records(platform):
    admin = platform.new_token("admin")[0]
    old_token = enrolled_student(platform, "phoenix", admin)
    assert lms(platform, "GET", "/me", old_token).json()["enrollments"]
    assert platform.api("DELETE", "/users/phoenix").status_code == 204
    assert platform.api("POST", "/users/phoenix").status_code == 201
    new_token = platform.new_token("phoenix")[0]
    me = lms(platform, "GET", "/me", new_token)
    assert me.status_code == 200, me.text
    assert me.json()["enrollments"] == []  # nothing inherited
    allowed = lms(
        platform,
        "GET",
        "/workspaces/allowed?user=phoenix",
        platform.secrets["APRANOVA_HUB_SERVICE_TOKEN"],
    )
    assert allowed.json()["kinds"] == []
    # the old records stay, closed, under a name no login can have
    people = lms(platform, "GET", "/users?q=phoenix", admin).json()["results"]
    closed = [p for p in people if p["username"].startswith("phoenix~closed-")]
    assert len(closed) == 1 and closed[0]["is_active"] is False
