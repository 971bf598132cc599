"""Local mode's isolation without a hub: account names, real system accounts (as root),
the reachability check, the state folder's mode and the refusal when the hub is not root.
The whole path, from a notebook, is tests/e2e/test_local_isolation.py."""

import json
import os
import pwd
import secrets
import stat
from pathlib import Path

import pytest
from tornado import web

from hub.local_accounts import (
    MAX_SYSTEM_NAME,
    AccountProblem,
    ensure_account,
    protect_platform_files,
    remove_accounts,
    system_username,
    unreachable_parent,
)
from hub.settings import HubSettings, get_settings
from hub.spawners import LocalTrackSpawner
from tests.hub.test_spawners import FakeUser

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="system accounts need root (CI is root)")


@pytest.mark.parametrize(
    ("hub_name", "expected"),
    [("ada", "apranova-ada"), ("grace_h-2", "apranova-grace_h-2")],
)
def test_plain_names_keep_their_name(hub_name, expected):
    assert system_username(hub_name) == expected


def test_other_names_get_a_hash_so_look_alikes_never_share_an_account():
    dotted, dashed = system_username("a.b"), system_username("a-b")
    assert dashed == "apranova-a-b" and dotted.startswith("apranova-a-b-") and dotted != dashed
    long = system_username("a" * 64)
    assert len(long) <= MAX_SYSTEM_NAME and long != system_username("a" * 63)
    assert system_username("ada@school.example").startswith("apranova-ada-school-example"[:23])
    with pytest.raises(ValueError):
        system_username("ada", prefix="Root ")


@pytest.fixture
def prefix():
    chosen = f"tt{secrets.token_hex(3)}-"
    yield chosen
    remove_accounts(chosen)


def open_folder() -> Path:
    """A folder every user may traverse (pytest's own are root's alone)."""
    root = Path(f"/tmp/apranova-test-{secrets.token_hex(4)}")
    root.mkdir(mode=0o755)
    return root


@as_root
def test_each_student_gets_an_account_and_a_private_home(prefix):
    homes = open_folder()
    try:
        account = ensure_account("ada", homes / "ada", prefix)
        entry = pwd.getpwnam(account.name)
        assert account.uid == entry.pw_uid != 0 and entry.pw_dir == str(homes / "ada")
        info = os.stat(homes / "ada")
        assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (account.uid, 0o700)
        assert ensure_account("ada", homes / "ada", prefix) == account  # again: the same
        other = ensure_account("bob", homes / "bob", prefix)
        assert other.uid != account.uid
    finally:
        remove_accounts(prefix)
        for home in homes.iterdir():
            home.rmdir()
        homes.rmdir()
    with pytest.raises(KeyError):
        pwd.getpwnam(system_username("ada", prefix))


@as_root
def test_an_account_of_that_name_that_is_not_the_students_is_refused(prefix, tmp_path):
    name = system_username("eve", prefix)
    os.system(f"useradd --no-create-home --comment 'someone else' {name}")
    try:
        with pytest.raises(AccountProblem, match="not eve's"):
            ensure_account("eve", tmp_path / "eve", prefix)
    finally:
        os.system(f"userdel {name}")


def test_a_folder_others_cannot_traverse_is_found():
    public = open_folder()
    private = public / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    try:
        assert unreachable_parent(private / "homes" / "ada") == private
        assert unreachable_parent(public / "not-yet" / "ada") is None  # made 0755 on use
        assert unreachable_parent(public / "ada") is None
    finally:
        private.rmdir()
        public.rmdir()


def test_the_state_folder_is_made_private_at_every_start(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    (tmp_path / ".env").write_text("APRANOVA_X=1\n")
    (tmp_path / ".env").chmod(0o644)
    monkeypatch.chdir(tmp_path)
    protect_platform_files(state)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / ".env").stat().st_mode) == 0o600


def local_spawner(**config) -> LocalTrackSpawner:
    spawner = LocalTrackSpawner(user=FakeUser("ada"), **config)

    async def kind() -> str:
        return "jupyterlab"

    spawner.resolve_kind = kind
    return spawner


async def test_without_isolation_workspaces_are_refused_unless_allowed(tmp_path):
    spawner = local_spawner(isolate_users=False)
    with pytest.raises(web.HTTPError) as refused:
        await spawner.start()
    assert refused.value.status_code == 503
    assert "switched off" in refused.value.log_message


async def test_a_home_students_cannot_reach_is_a_clear_misconfiguration(tmp_path):
    spawner = local_spawner(
        isolate_users=True, home_dir_template=str(tmp_path / "homes" / "{username}")
    )
    with pytest.raises(web.HTTPError) as refused:
        await spawner.start()
    assert refused.value.status_code == 500


def test_settings_default_and_production_refusal(tmp_path):
    settings = HubSettings(_env_file=None, state_dir=tmp_path)
    expected = "/home/apranova" if os.geteuid() == 0 else str(tmp_path / "homes")
    assert settings.workspace_home_root == expected
    with pytest.raises(ValueError, match="UNISOLATED"):
        HubSettings(
            _env_file=None, state_dir=tmp_path, production=True, local_unisolated_workspaces=True
        )
    with pytest.raises(ValueError):
        HubSettings(_env_file=None, state_dir=tmp_path, local_user_prefix="Root ")


def test_the_banner_says_loudly_when_workspaces_are_not_isolated(tmp_path, monkeypatch):
    from hub import cli

    settings = HubSettings(_env_file=None, state_dir=tmp_path)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 1000)
    assert "REFUSED" in cli.workspace_isolation(settings)
    settings.local_unisolated_workspaces = True
    assert "UNISOLATED" in cli.workspace_isolation(settings)
    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert "apranova-NAME" in cli.workspace_isolation(settings)


@as_root
def test_the_accounts_can_be_removed_with_the_cli(prefix, monkeypatch, capsys):
    from hub import cli

    homes = open_folder()
    try:
        ensure_account("ada", homes / "ada", prefix)
        monkeypatch.setenv("APRANOVA_LOCAL_USER_PREFIX", prefix)
        monkeypatch.setenv("APRANOVA_STATE_DIR", str(homes / "state"))
        get_settings.cache_clear()  # read this prefix, never the real one
        assert cli.main(["remove-system-accounts"]) == 0
        assert system_username("ada", prefix) in capsys.readouterr().out
        with pytest.raises(KeyError):
            pwd.getpwnam(system_username("ada", prefix))
        assert (homes / "ada").is_dir()  # the home stays
    finally:
        get_settings.cache_clear()
        (homes / "ada").rmdir()
        homes.rmdir()


def test_jupyterlab_gets_the_schools_defaults_no_news_prompt():
    spawner = local_spawner(isolate_users=True)
    settings_dir = Path(spawner.lab_settings_dir)
    assert f"--LabApp.app_settings_dir={settings_dir}" in spawner.args
    overrides = json.loads((settings_dir / "overrides.json").read_text())
    notification = overrides["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
    dockerfile = (settings_dir.parent / "Dockerfile").read_text()
    assert "lab-settings/overrides.json /opt/workspace/share/jupyter/lab/settings/" in dockerfile
