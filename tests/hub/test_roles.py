"""Local accounts' roles reach the hub as groups and the admin flag (JupyterHub's
`manage_groups`): at login, at every refresh and when the hub starts, never only at a restart."""

import pytest
from jupyterhub import orm

from hub.auth import LocalPasswordAuthenticator, apply_auth_model


@pytest.fixture
def authenticator(tmp_path):
    auth = LocalPasswordAuthenticator(accounts_path=str(tmp_path / "accounts.sqlite"))
    auth.store.add("tess", "pw-tess-1234", "trainer")
    auth.store.add("boss", "pw-boss-1234", "superadmin")
    return auth


@pytest.fixture
def db():
    session = orm.new_session_factory("sqlite://")()
    yield session
    session.close()


def hub_user(db, name: str) -> orm.User:
    user = orm.User(name=name)
    db.add(user)
    db.commit()
    return user


async def test_login_and_refresh_answer_the_stored_role(authenticator):
    login = await authenticator.authenticate(None, {"username": "tess", "password": "pw-tess-1234"})
    assert login == {"name": "tess", "admin": False, "groups": ["trainers"]}
    authenticator.store.set_role("tess", "student")
    refreshed = await authenticator.refresh_user(type("U", (), {"name": "tess"})())
    assert refreshed == {"name": "tess", "admin": False, "groups": []}
    boss = await authenticator.refresh_user(type("U", (), {"name": "boss"})())
    assert boss["admin"] is True and boss["groups"] == []
    # a hub user without a local account (made through the REST API): left as it is
    assert await authenticator.refresh_user(type("U", (), {"name": "ghost"})()) is True
    assert await authenticator.authenticate(None, {"username": "tess", "password": "wrong"}) is None


def test_applying_a_role_sets_exactly_its_groups_and_admin_flag(db):
    tess = hub_user(db, "tess")
    apply_auth_model(tess, {"admin": False, "groups": ["trainers"]})
    assert [g.name for g in tess.groups] == ["trainers"] and tess.admin is False
    apply_auth_model(tess, {"admin": True, "groups": ["admins"]})
    assert [g.name for g in tess.groups] == ["admins"] and tess.admin is True
    apply_auth_model(tess, {"admin": False, "groups": []})  # the demotion takes effect
    assert tess.groups == [] and tess.admin is False
    assert {g.name for g in db.query(orm.Group)} == {"trainers", "admins"}  # groups stay


async def test_the_hub_start_applies_roles_to_users_already_there(authenticator, db):
    tess = hub_user(db, "tess")
    await authenticator.add_user(tess)  # JupyterHub calls this for every user at start
    assert [g.name for g in tess.groups] == ["trainers"]
    ghost = hub_user(db, "ghost")
    await authenticator.add_user(ghost)
    assert ghost.groups == []
