"""A class start through the real hub: more starts than the hub takes at once wait in line,
in order, each student shown their place, instead of a 429; admins see the line.

A hub of its own (no analytics) that starts one workspace at a time, so three students'
starts must queue: ada's, then linus's, then ada's second server, asked for in that order.
"""

import json
import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bench.harness.docker_workspaces import server_path, spawn, stop, wait_gone, wait_ready
from bench.harness.platform import Platform
from tests.e2e.portal_browser import DESKTOP, PHONE, check_page, chromium, log_in  # noqa: F401

pytestmark = pytest.mark.e2e

STARTS = [("ada", ""), ("linus", ""), ("ada", "second")]  # in the order they are asked for


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("queue-hub"), analytics=False)
    running.env["APRANOVA_WORKSPACE_STARTS_AT_ONCE"] = "1"
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def no_servers_left(hub) -> Iterator[None]:
    """Each test starts from a hub with nothing running, whatever the last one left."""
    yield
    for user in hub.api("GET", "/users").json():
        for server in user.get("servers") or {}:
            if hub.api("DELETE", server_path(user["name"], server)).status_code in (202, 204):
                wait_gone(hub, user["name"], server)


def follow_progress(platform: Platform, token: str, user: str, server: str, seen: list) -> None:
    """The spawn page's event stream for one start, from its start to `ready` (retrying
    until the hub has the spawn pending)."""
    url = f"{platform.hub_api}{server_path(user, server)}/progress"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with httpx.stream(
            "GET", url, headers={"Authorization": f"token {token}"}, timeout=120
        ) as stream:
            if stream.status_code != 200:
                time.sleep(0.05)
                continue
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:])
                    seen.append(event)
                    if event.get("ready") or event.get("failed"):
                        return
        return


def test_a_class_start_queues_in_order_with_places_and_admins_see_the_line(hub, chromium):  # noqa: F811
    tokens = {user: hub.new_token(user)[0] for user in ("ada", "linus")}
    office = hub.browser("office")
    empty = office.get("/hub/start-queue")  # nothing in line yet, and no start since the hub's
    assert empty.status_code == 200 and "at most <strong>1</strong> at a time" in empty.text
    assert hub.browser("ada").get("/hub/start-queue").status_code == 403  # students: no

    answers: dict[tuple[str, str], int] = {}
    events: dict[tuple[str, str], list] = {start: [] for start in STARTS}
    threads = []
    for user, server in STARTS:

        def ask(user=user, server=server) -> None:
            answers[user, server] = spawn(hub, tokens[user], user, server).status_code

        def watch(user=user, server=server) -> None:
            follow_progress(hub, tokens[user], user, server, events[user, server])

        threads += [threading.Thread(target=ask), threading.Thread(target=watch)]
        threads[-2].start()
        threads[-1].start()
        time.sleep(0.4)  # asked one after the other, as students clicking in turn

    line_page = ""  # the admins' page while someone waits
    deadline = time.monotonic() + 60
    while not line_page and time.monotonic() < deadline:
        page = office.get("/hub/start-queue")
        if 'id="waiting"' in page.text:
            line_page = page.text
        time.sleep(0.1)
    for thread in threads:
        thread.join(180)
    for user, server in STARTS:
        wait_ready(hub, user, server)

    # No one was turned away, and the ones who waited were told their place.
    assert len(answers) == 3 and set(answers.values()) <= {201, 202}, answers
    messages = [e.get("message", "") for start in STARTS for e in events[start]]
    told = [m for m in messages if "in line" in m or "You are next" in m]
    assert told, events
    assert all("Keep this page open" in message for message in told)
    assert not any(e.get("failed") for start in STARTS for e in events[start]), events
    # First asked, first started: the hub's log of finished starts, in order.
    finished = re.findall(r"User (\S+) took [\d.]+ seconds to start", hub.log_path.read_text())
    assert finished == ["ada", "linus", "ada:second"], finished
    # The admins' page showed who waited, in places.
    assert line_page, "the line was never seen from the admins' page"
    assert re.search(r"<td>1</td><td>(ada|linus)</td>", line_page), line_page
    assert "Starting now (1)" in line_page

    # That page as it was, in a browser: readable and accessible, on a desktop and a phone.
    for viewport, name in ((DESKTOP, "start-queue"), (PHONE, "phone-start-queue")):
        context, page = log_in(chromium, hub, "office", viewport=viewport)
        page.route(
            f"{hub.url}/hub/start-queue",
            lambda route: route.fulfill(body=line_page, content_type="text/html"),
        )
        page.goto(f"{hub.url}/hub/start-queue")
        assert page.get_by_role("heading", name="Workspace starts").is_visible()
        check_page(page, name)
        context.close()

    for user, server in STARTS:
        stop(hub, user, server)


def test_a_student_in_line_sees_her_place_on_the_spawn_page(hub, chromium):  # noqa: F811
    """Two starts ahead of her (asked through the API), ada clicks Start in the browser."""
    tokens = {user: hub.new_token(user)[0] for user in ("ada", "linus")}
    ahead = [
        threading.Thread(target=spawn, args=(hub, tokens[user], user, server))
        for user, server in (("linus", ""), ("ada", ""))
    ]
    for thread in ahead:
        thread.start()
        time.sleep(0.3)
    context, page = log_in(chromium, hub, "ada", viewport=PHONE)
    page.goto(f"{hub.url}/hub/spawn/ada/second")  # one kind: the start is asked at once
    message = page.locator("#progress-message")
    message.get_by_text(re.compile("You are (next|number . in line)")).wait_for(timeout=30_000)
    check_page(page, "phone-spawn-in-line")
    # and the page takes her to her workspace by itself once it runs
    page.wait_for_url(re.compile(r"/user/ada/second/"), timeout=120_000)
    context.close()
    for thread in ahead:
        thread.join(120)
    for user, server in (("linus", ""), ("ada", ""), ("ada", "second")):
        wait_ready(hub, user, server)
        stop(hub, user, server)


def test_a_start_stopped_while_in_line_leaves_the_line(hub):
    """The spawn page's Stop button (a DELETE of the pending server) while ada waits: her
    place is given up, linus's start goes on, and her next start is not blocked."""
    tokens = {user: hub.new_token(user)[0] for user in ("ada", "linus")}
    ahead = threading.Thread(target=spawn, args=(hub, tokens["linus"], "linus"))
    ahead.start()
    time.sleep(0.3)
    waiting = threading.Thread(target=spawn, args=(hub, tokens["ada"], "ada"))
    waiting.start()
    time.sleep(0.5)
    assert hub.api("DELETE", server_path("ada")).status_code in (202, 204)
    ahead.join(120)
    waiting.join(120)
    wait_ready(hub, "linus")
    assert hub.api("GET", "/users/ada").json()["servers"] == {}
    assert spawn(hub, tokens["ada"], "ada").status_code in (201, 202)
    wait_ready(hub, "ada")
    for user in ("ada", "linus"):
        stop(hub, user)
