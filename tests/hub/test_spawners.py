"""The Docker spawner's own rules, without an engine (the real-engine tests are in
tests/e2e/test_docker_workspaces.py)."""

import asyncio
from types import SimpleNamespace

import pytest
from pydantic import ValidationError
from tornado import web

from hub import start_queue
from hub.lms_client import WorkspaceRule
from hub.settings import HubSettings, WorkspaceResources, resources_for
from hub.spawners import DockerTrackSpawner
from hub.start_queue import StartQueue

TABLE = {
    "default": WorkspaceResources(cpu=1, memory="2G"),
    "superset": WorkspaceResources(cpu=1, memory="3G"),
    "DP": WorkspaceResources(cpu=2, memory="4G"),
    "DP/superset": WorkspaceResources(cpu=0.5, memory="1536M"),
}


@pytest.mark.parametrize(
    ("track", "kind", "expected"),
    [
        ("DP", "superset", "DP/superset"),  # track and kind first
        ("DP", "jupyterlab", "DP"),  # then the track
        ("FSD", "superset", "superset"),  # then the kind
        ("FSD", "code-server", "default"),
        ("", "jupyterlab", "default"),
    ],
)
def test_limits_come_from_the_most_specific_key(track, kind, expected):
    assert resources_for(TABLE, track, kind) == TABLE[expected]


def test_limits_are_validated_as_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("APRANOVA_WORKSPACE_RESOURCES", '{"DP": {"cpu": 2, "memory": "3G"}}')
    settings = HubSettings(_env_file=None, state_dir=tmp_path)
    assert settings.workspace_resources["DP"] == WorkspaceResources(cpu=2, memory="3G")
    for bad in ('{"DP": {"cpu": 0, "memory": "3G"}}', '{"DP": {"cpu": 1, "memory": "lots"}}'):
        monkeypatch.setenv("APRANOVA_WORKSPACE_RESOURCES", bad)
        with pytest.raises(ValidationError):
            HubSettings(_env_file=None, state_dir=tmp_path)


class FakeUser:
    """Just what the spawner reads of its user before it talks to Docker."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spawners: dict = {}
        self.url = f"/user/{name}/"
        self.db = SimpleNamespace(commit=lambda: None)


def spawner_for(username: str, server: str = "", options: dict | None = None, **config):
    saved = SimpleNamespace(name=server, user_options=dict(options or {}), state={}, server=None)
    spawner = DockerTrackSpawner(user=FakeUser(username), orm_spawner=saved, **config)
    spawner.user_options = options or {}
    spawner.user.spawners[server] = spawner

    async def rule():
        return WorkspaceRule(
            kinds=["jupyterlab", "superset"],
            tracks={"DP": ["jupyterlab", "superset"]},
        )

    spawner.workspace_rule = rule
    spawner.workspace_images = {
        "jupyterlab": "lab:1",
        "superset": "superset:1",
        "code-server": "code:1",
    }
    return spawner


async def test_a_server_named_like_a_kind_starts_that_kind():
    spawner = spawner_for("ada", server="superset")
    assert await spawner.resolve_kind() == "superset"
    assert spawner.workspace_track == "DP"
    assert await spawner_for("ada", server="scratch").resolve_kind() == "jupyterlab"


async def test_the_form_asks_nothing_of_a_server_named_like_a_kind():
    """`/hub/spawn/ada/superset` starts Superset: no form pre-selecting JupyterLab, and a
    posted form asking the superset server for JupyterLab is refused, saving nothing."""
    assert await spawner_for("ada", server="superset").get_options_form() == ""
    form = await spawner_for("ada", server="scratch").get_options_form()
    assert form.count('type="radio"') == 2 and 'value="jupyterlab" checked' in form
    assert "<legend" in form  # the choice is named for screen readers
    spawner = spawner_for("ada", server="superset", options={"kind": "jupyterlab"})
    with pytest.raises(web.HTTPError) as refused:
        await spawner.resolve_kind()
    assert refused.value.status_code == 400 and "superset workspace" in refused.value.log_message
    assert spawner.orm_spawner.user_options == {}


async def test_the_form_escapes_what_it_shows():
    spawner = spawner_for("ada", server="scratch")
    spawner.kind_descriptions = {"jupyterlab": "<script>alert(1)</script> labs"}
    form = await spawner.get_options_form()
    assert "<script>" not in form and "&lt;script&gt;alert(1)&lt;/script&gt; labs" in form


async def test_unknown_options_and_other_kinds_are_refused():
    spawner = spawner_for("ada", options={"image": "alpine"})
    with pytest.raises(web.HTTPError) as refused:
        await spawner.resolve_kind()
    assert refused.value.status_code == 400 and "image" in refused.value.log_message
    # JupyterHub reuses a server's saved options when a spawn names none: not these.
    assert spawner.orm_spawner.user_options == {} and spawner.user_options == {}
    with pytest.raises(web.HTTPError) as refused:
        await spawner_for("ada", options={"kind": "code-server"}).resolve_kind()
    assert refused.value.status_code == 403
    assert "jupyterlab, superset" in refused.value.log_message


async def test_the_running_workspace_limit_counts_the_default_server():
    spawner = spawner_for("ada", server="superset", servers_per_user=1)

    class Running:
        active = True

    spawner.user.spawners[""] = Running()
    with pytest.raises(web.HTTPError) as refused:
        await spawner.resolve_kind()
    assert refused.value.status_code == 400 and "the limit is 1" in refused.value.log_message


def test_containers_are_locked_down_by_default():
    spawner = spawner_for("ada")
    host = spawner.extra_host_config
    assert host["cap_drop"] == ["ALL"] and "no-new-privileges" in host["security_opt"]
    assert host["pids_limit"] > 0
    assert spawner.remove is True and spawner.pull_policy == "never"
    assert spawner.workspace_user == "1000:100"


@pytest.mark.parametrize(
    "volumes",
    [
        {"/var/run/docker.sock": "/var/run/docker.sock"},
        {"/home": "/home/jovyan"},
        {"./data": "/data"},
    ],
)
def test_host_paths_and_the_docker_socket_are_never_mounted(volumes):
    spawner = spawner_for("ada", volumes=volumes)
    with pytest.raises(web.HTTPError) as refused:
        spawner._check_mounts()
    assert refused.value.status_code == 500


def test_named_volumes_are_fine():
    spawner_for("ada", volumes={"apranova-home-{username}": "/home/jovyan"})._check_mounts()


@pytest.fixture
def one_at_a_time(monkeypatch):
    """A start line of its own, one start at a time."""
    queue = StartQueue(limit=1)
    monkeypatch.setattr(start_queue, "START_QUEUE", queue)
    return queue


async def test_a_start_waits_its_turn_with_its_place_on_the_spawn_page(one_at_a_time):
    await one_at_a_time.wait_for_turn("linus/", start_queue.Entry("linus", "", "jupyterlab"))
    spawner = spawner_for("ada", starts_at_once=1)
    spawner._spawn_future = asyncio.get_running_loop().create_future()
    hook = asyncio.create_task(spawner.run_pre_spawn_hook())
    events = aiter(spawner.progress())
    first = await asyncio.wait_for(anext(events), 5)
    assert "You are next; yours starts in about 10 seconds" in first["message"]
    assert not hook.done()
    one_at_a_time.done("linus/", succeeded=True)
    await asyncio.wait_for(hook, 5)
    assert list(one_at_a_time.starting) == ["ada/"]
    assert await spawner.checked_kind() == "jupyterlab"  # checked once, before the line
    spawner._spawn_future.set_result(None)  # the spawn finished: the slot goes back
    await asyncio.sleep(0)
    assert not one_at_a_time.starting and len(one_at_a_time.durations) == 2  # linus, ada


async def test_a_refused_start_leaves_the_line_without_holding_it_up(one_at_a_time):
    await one_at_a_time.wait_for_turn("linus/", start_queue.Entry("linus", "", "jupyterlab"))
    spawner = spawner_for("ada", options={"kind": "code-server"})
    with pytest.raises(web.HTTPError) as refused:
        await spawner.run_pre_spawn_hook()
    assert refused.value.status_code == 403
    assert list(one_at_a_time.starting) == ["linus/"] and not one_at_a_time.waiting


async def test_the_place_is_taken_when_asked_before_the_lms_answers(one_at_a_time, monkeypatch):
    """ada asks first but the LMS answers grace sooner: ada still starts first."""
    answered = {user: asyncio.Event() for user in ("ada", "grace")}
    spawners = {user: spawner_for(user, starts_at_once=1) for user in answered}

    def slow_resolve(user):
        async def resolve_kind():
            await answered[user].wait()
            return "jupyterlab"

        return resolve_kind

    began = []
    for user, spawner in spawners.items():
        monkeypatch.setattr(spawner, "resolve_kind", slow_resolve(user))

    async def start(user):
        await spawners[user].run_pre_spawn_hook()
        began.append(user)

    tasks = [asyncio.create_task(start(user)) for user in ("ada", "grace")]
    await asyncio.sleep(0.01)
    assert [one_at_a_time.place(k) for k in ("ada/", "grace/")] == [1, 2]
    answered["grace"].set()
    await asyncio.sleep(0.01)
    assert began == []  # grace is checked, but ada's place is ahead of hers
    answered["ada"].set()
    await asyncio.sleep(0.01)
    assert began == ["ada"]
    one_at_a_time.done("ada/", succeeded=True)
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert began == ["ada", "grace"]
