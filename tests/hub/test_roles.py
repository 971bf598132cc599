"""Local accounts' roles reach the hub as groups and the admin flag (hub.auth): at login, at
every refresh and when the hub starts, never only at a restart."""

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


class HubUser:
    """What the hub hands `refresh_user`: a user with its database row."""

    def __init__(self, orm_user: orm.User) -> None:
        self.name, self.orm_user = orm_user.name, orm_user


async def test_login_and_refresh_apply_the_stored_role(authenticator, db):
    login = await authenticator.authenticate(None, {"username": "tess", "password": "pw-tess-1234"})
    assert login == {"name": "tess", "admin": False}
    tess = hub_user(db, "tess")
    assert await authenticator.refresh_user(HubUser(tess)) is True
    assert [g.name for g in tess.groups] == ["trainers"]
    authenticator.store.set_role("tess", "student")  # `apranova-hub set-role`, hub running
    await authenticator.refresh_user(HubUser(tess))
    assert tess.groups == [] and tess.admin is False
    authenticator.store.set_role("tess", "superadmin")
    await authenticator.refresh_user(HubUser(tess))
    assert tess.groups == [] and tess.admin is True
    # a hub user without a local account (made through the REST API): left as it is
    ghost = hub_user(db, "ghost")
    apply_auth_model(ghost, {"admin": False, "groups": ["trainers"]})
    assert await authenticator.refresh_user(HubUser(ghost)) is True
    assert [g.name for g in ghost.groups] == ["trainers"]
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
    other = orm.Group(name="reading-club")  # a group that carries no role is left alone
    tess.groups.append(other)
    apply_auth_model(tess, {"admin": False, "groups": ["trainers"]})
    assert sorted(g.name for g in tess.groups) == ["reading-club", "trainers"]


async def test_the_hub_start_applies_roles_to_users_already_there(authenticator, db):
    tess = hub_user(db, "tess")
    await authenticator.add_user(tess)  # JupyterHub calls this for every user at start
    assert [g.name for g in tess.groups] == ["trainers"]
    ghost = hub_user(db, "ghost")
    await authenticator.add_user(ghost)
    assert ghost.groups == []
