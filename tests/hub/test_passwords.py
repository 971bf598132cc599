import sqlite3

import pytest

from hub.auth import LocalPasswordAuthenticator
from hub.passwords import PasswordStore, hash_password, verify_password


def test_hash_is_salted_and_verifies():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # salted
    assert "correct horse" not in first
    assert verify_password("correct horse", first)
    assert not verify_password("Correct horse", first)
    assert not verify_password("correct horse", "not-a-hash")


def test_store_accounts_roles_and_password_change(tmp_path):
    store = PasswordStore(tmp_path / "accounts.sqlite")
    store.add("ada", "pw-ada-123", "student")
    store.add("tess", "pw-tess-123", "trainer")
    with pytest.raises(sqlite3.IntegrityError):
        store.add("ada", "again", "student")  # no silent overwrite
    with pytest.raises(ValueError, match="role must be one of"):
        store.add("eve", "pw", "wizard")
    assert store.roles() == {"ada": "student", "tess": "trainer"}
    assert store.verify("ada", "pw-ada-123")
    assert not store.verify("ada", "pw-tess-123")
    assert not store.verify("nobody", "pw-ada-123")
    assert store.set_password("ada", "new-password")
    assert not store.verify("ada", "pw-ada-123")
    assert store.verify("ada", "new-password")
    assert not store.set_password("nobody", "x")
    assert store.set_role("tess", "admin") and store.roles()["tess"] == "admin"


async def test_authenticator_accepts_only_stored_accounts(tmp_path):
    path = tmp_path / "accounts.sqlite"
    PasswordStore(path).add("ada", "pw-ada-123")
    auth = LocalPasswordAuthenticator(accounts_path=str(path))
    ada = await auth.authenticate(None, {"username": "ada", "password": "pw-ada-123"})
    assert ada["name"] == "ada"  # with her role's groups and admin flag (tests/hub/test_roles.py)
    assert await auth.authenticate(None, {"username": "ada", "password": "nope"}) is None
    assert await auth.authenticate(None, {"username": "ada", "password": ""}) is None
    assert await auth.authenticate(None, {"username": "bob", "password": "pw-ada-123"}) is None
    assert auth.check_allowed("ada") and not auth.check_allowed("bob")
