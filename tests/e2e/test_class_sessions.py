"""Class sessions through the real hub and lms-api: a trainer schedules a session, the hub
starts the student's workspace before she asks, her use of it is her attendance, and a
workspace started for a session and never used is stopped when the session is over."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bench.harness.docker_workspaces import stop, wait_gone, wait_ready
from bench.harness.platform import Platform
from lms_api.client import LmsClient

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("sessions-hub"), analytics=False)
    # Rounds and activity every second or two instead of 30 s / 5 min, for the test's sake.
    running.env.update(
        APRANOVA_SESSION_WARM_UP_EVERY_SECONDS="1",
        APRANOVA_ACTIVITY_SECONDS="2",
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


def lms(hub: Platform, username: str) -> LmsClient:
    return LmsClient(
        base_url=f"{hub.url}/services/lms-api/api/v1", token=hub.new_token(username)[0]
    )


def session_now(trainer: LmsClient, title: str):
    """A session that began a minute ago and lasts an hour, for ada (the trainer's student)."""
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    return trainer.schedule_session(
        title, "DP", began, began + timedelta(hours=1), "jupyterlab", students=["ada"]
    )


def until(what, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what.__doc__}")


def test_a_sessions_workspace_runs_before_she_asks_and_her_use_is_her_attendance(hub):
    trainer = lms(hub, "trainer")
    session = session_now(trainer, "Joins, live")
    assert session.expected_students == ["ada"]
    assert trainer.attendance(session.id).students[0].status == "absent"  # nothing seen yet

    server = wait_ready(hub, "ada", timeout=60)  # started by the hub, not by her
    assert server["user_options"] == {"kind": "jupyterlab"}
    # She clicks her server at once, before the hub's loop has looked at it again: it is
    # there, no spawn page in between, and her opening it is what tells it was used.
    ada = hub.browser("ada")
    landed = ada.get("/hub/spawn/ada", follow_redirects=True)
    assert landed.status_code == 200 and "/user/ada/" in str(landed.url), landed.url
    passed = [str(r.url) for r in landed.history]
    assert not any("spawn-pending" in url for url in passed), passed  # nothing to wait for

    def seen() -> bool:
        """ada present, from her workspace"""
        row = trainer.attendance(session.id).students[0]
        return row.status == "present" and row.source == "workspace"

    until(seen)
    # Over early (cancelled): a workspace she used stays hers.
    trainer.cancel_session(session.id)
    time.sleep(3)
    assert wait_ready(hub, "ada", timeout=5)
    stop(hub, "ada")


def test_a_workspace_started_for_a_session_and_never_used_stops_after_it(hub):
    trainer = lms(hub, "trainer")
    session = session_now(trainer, "Joins, again")
    wait_ready(hub, "ada", timeout=60)
    time.sleep(5)  # a few rounds and activity reports: nothing of hers
    assert trainer.attendance(session.id).students[0].status == "absent"
    trainer.cancel_session(session.id)
    wait_gone(hub, "ada", timeout=30)
