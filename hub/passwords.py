"""Local accounts: usernames, scrypt password hashes and the role given at creation.

Used only in local mode; production logins go through OAuthenticator. The file lives in
the git-ignored state folder.
"""

import base64
import hashlib
import hmac
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

from lms_api.principal import PERSON_ROLES

ROLES = tuple(str(role) for role in PERSON_ROLES)
MIN_PASSWORD_LENGTH = 8
_N, _R, _P = 2**14, 8, 1


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def password_problem(new: str, confirm: str | None = None) -> str | None:
    """What is wrong with a new password, in words for the user; None when it is fine."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if confirm is not None and new != confirm:
        return "The two new passwords are not the same."
    return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class PasswordStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS accounts ("
                " username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,"
                " role TEXT NOT NULL DEFAULT 'student',"
                " created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def exists(self, username: str) -> bool:
        with closing(self._connect()) as db:
            row = db.execute("SELECT 1 FROM accounts WHERE username = ?", (username,)).fetchone()
        return row is not None

    def add(self, username: str, password: str, role: str = "student") -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO accounts (username, password_hash, role) VALUES (?, ?, ?)",
                (username, hash_password(password), role),
            )

    def set_password(self, username: str, password: str) -> bool:
        with closing(self._connect()) as db, db:
            cur = db.execute(
                "UPDATE accounts SET password_hash = ? WHERE username = ?",
                (hash_password(password), username),
            )
        return cur.rowcount == 1

    def set_role(self, username: str, role: str) -> bool:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        with closing(self._connect()) as db, db:
            cur = db.execute("UPDATE accounts SET role = ? WHERE username = ?", (role, username))
        return cur.rowcount == 1

    def verify(self, username: str, password: str) -> bool:
        with closing(self._connect()) as db:
            row = db.execute(
                "SELECT password_hash FROM accounts WHERE username = ?", (username,)
            ).fetchone()
        if row is None:
            verify_password(password, hash_password("timing-equaliser"))
            return False
        return verify_password(password, row[0])

    def role_of(self, username: str) -> str | None:
        """The account's role, or None when there is no such account."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT role FROM accounts WHERE username = ?", (username,)).fetchone()
        return None if row is None else row[0]

    def roles(self) -> dict[str, str]:
        with closing(self._connect()) as db:
            return dict(db.execute("SELECT username, role FROM accounts ORDER BY username"))
