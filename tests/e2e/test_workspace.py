"""A student logs in through the form, launches JupyterLab and uses it through the proxy."""

import time

import pytest

pytestmark = pytest.mark.e2e


def wait_for_server(platform, username: str, ready: bool, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        model = platform.api("GET", f"/users/{username}").json()
        server = (model.get("servers") or {}).get("")
        if ready and server and server.get("ready"):
            return server
        if not ready and not server:
            return {}
        time.sleep(0.5)
    raise AssertionError(f"{username}'s server ready={ready} not reached:\n{platform.log_tail()}")


def test_student_launches_jupyterlab_through_the_hub(platform):
    browser = platform.browser("ada")
    # The spawn page launches directly: in local mode JupyterLab is ada's only kind.
    browser.get("/hub/spawn")
    server = wait_for_server(platform, "ada", ready=True)
    assert server["user_options"] in ({}, {"kind": ""}, None) or "kind" in server["user_options"]

    lab = browser.get("/user/ada/lab")  # the workspace's own OAuth with the hub
    assert lab.status_code == 200
    assert str(lab.url).endswith("/user/ada/lab")
    status = browser.get("/user/ada/api/status")
    assert status.status_code == 200
    assert "last_activity" in status.json()

    contents = browser.get("/user/ada/api/contents")
    assert contents.status_code == 200 and contents.json()["type"] == "directory"

    # Another student cannot use ada's workspace.
    linus = platform.browser("linus")
    assert linus.get("/user/ada/api/status").status_code in (403, 404)

    stopped = platform.api("DELETE", "/users/ada/server")
    assert stopped.status_code in (202, 204)
    wait_for_server(platform, "ada", ready=False)


def test_wrong_password_does_not_log_in(platform):
    browser = platform.browser("ada", password="not-her-password")
    page = browser.get("/hub/home")
    assert "/hub/login" in str(page.url)
    assert browser.get("/hub/api/user").status_code == 403


def test_student_without_enrollment_is_refused_with_a_way_forward(platform):
    browser = platform.browser("grace")
    page = browser.get("/hub/spawn")
    assert page.status_code == 403
    assert "not enrolled" in page.text
    assert "enroll" in page.text.lower()
    assert not (platform.api("GET", "/users/grace").json().get("servers") or {})


def test_rest_api_enforces_the_same_rule(platform):
    token, _ = platform.new_token("grace")
    hub = platform.hub_api
    import httpx

    refused = httpx.post(f"{hub}/users/grace/server", headers={"Authorization": f"token {token}"})
    assert refused.status_code == 403
    assert "not enrolled" in refused.json()["message"]

    ada_token, _ = platform.new_token("ada")
    wrong_kind = httpx.post(
        f"{hub}/users/ada/server",
        headers={"Authorization": f"token {ada_token}"},
        json={"kind": "superset"},
    )
    assert wrong_kind.status_code == 403
    assert "superset" in wrong_kind.json()["message"]
    assert not (platform.api("GET", "/users/ada").json().get("servers") or {})
