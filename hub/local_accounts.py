"""Local mode's isolation: one system account per student, as The Littlest JupyterHub does.

A local workspace is a process on the hub's machine. Run as the hub's own OS user it could
read everything the platform keeps (secrets, password hashes, the databases) and every other
process's environment. So when the hub runs as root, each student's workspace runs as a
system account of their own (`apranova-<name>`) with a home only they can open, and the
platform's state folder is readable by root alone. A hub that is not root cannot switch
users: it refuses local workspaces unless an operator says this is a development machine.
"""

import asyncio
import contextlib
import grp
import hashlib
import os
import pwd
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAX_SYSTEM_NAME = 32  # useradd's limit on Linux
SYSTEM_SAFE = re.compile(r"[a-z0-9_-]+")
PREFIX_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,15}")
SHELL = "/bin/bash"  # JupyterLab's terminals start the account's shell


class AccountProblem(Exception):
    """The system account cannot be made or does not belong to this student."""


@dataclass(frozen=True)
class SystemAccount:
    name: str
    uid: int
    gid: int
    home: Path


def system_username(hub_name: str, prefix: str = "apranova-") -> str:
    """The system account name of a hub user: the prefix and the name, when that is short
    and plain enough for useradd; else a readable stem and a hash of the full name (so
    `a.b` and `a-b` never share an account)."""
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ValueError(f"system account prefix {prefix!r} must match {PREFIX_PATTERN.pattern}")
    plain = prefix + hub_name
    if SYSTEM_SAFE.fullmatch(hub_name) and len(plain) <= MAX_SYSTEM_NAME:
        return plain
    stem = re.sub(r"[^a-z0-9_-]", "-", hub_name)[: MAX_SYSTEM_NAME - len(prefix) - 9]
    digest = hashlib.sha256(hub_name.encode()).hexdigest()[:8]
    return f"{prefix}{stem}-{digest}"


def owner_mark(hub_name: str) -> str:
    """Kept in the account's comment field: which hub user the account belongs to."""
    return f"ApraNova workspace of {hub_name}"


def ensure_account(hub_name: str, home: Path, prefix: str = "apranova-") -> SystemAccount:
    """The student's system account and private home, made on first use (needs root).

    An existing account with that name must carry this student's mark: a look-alike name
    never gets another student's account.
    """
    name = system_username(hub_name, prefix)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        _add_account(name, hub_name, home)
        entry = pwd.getpwnam(name)
    if entry.pw_gecos != owner_mark(hub_name):
        raise AccountProblem(
            f"system account {name} exists but is not {hub_name}'s ({entry.pw_gecos!r})"
        )
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise AccountProblem(f"system account {name} has root's uid or gid")
    if entry.pw_dir != str(home):
        _run("usermod", "--home", str(home), name)
    _private_home(home, entry.pw_uid, entry.pw_gid)
    return SystemAccount(name, entry.pw_uid, entry.pw_gid, home)


async def ensure_account_async(hub_name: str, home: Path, prefix: str) -> SystemAccount:
    return await asyncio.to_thread(ensure_account, hub_name, home, prefix)


def remove_accounts(prefix: str) -> list[str]:
    """Delete every system account with this prefix that carries an ApraNova mark (homes
    are kept). For uninstalling and for tests."""
    removed = []
    for entry in pwd.getpwall():
        if entry.pw_name.startswith(prefix) and entry.pw_gecos.startswith(owner_mark("")):
            _kill_processes_of(entry.pw_uid)
            _run("userdel", "--force", entry.pw_name)
            removed.append(entry.pw_name)
            try:
                grp.getgrnam(entry.pw_name)
            except KeyError:
                continue
            subprocess.run(["groupdel", entry.pw_name], capture_output=True, check=False)
    return removed


def _kill_processes_of(uid: int) -> None:
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if proc.stat().st_uid == uid:
                    os.kill(int(proc.name), signal.SIGKILL)


def unreachable_parent(path: Path) -> Path | None:
    """The first folder above `path` that other users cannot pass through (no o+x), if any:
    a student's home must sit under folders everyone may traverse."""
    for parent in reversed(path.parents):
        try:
            if not os.stat(parent).st_mode & 0o001:
                return parent
        except FileNotFoundError:
            return None  # made on first use, traversable (0755)
    return None


def protect_platform_files(state_dir: Path) -> None:
    """Only the hub's own user may open the state folder (secrets, password hashes, the
    databases, the warehouse) and the `.env` the settings read; run at every hub start."""
    for path in (state_dir, Path(".env")):
        if path.exists():
            os.chmod(path, os.stat(path).st_mode & 0o700)


def _add_account(name: str, hub_name: str, home: Path) -> None:
    try:
        _run(
            "useradd",
            "--no-create-home",
            "--home-dir",
            str(home),
            "--shell",
            SHELL,
            "--user-group",
            "--comment",
            owner_mark(hub_name),
            name,
        )
    except AccountProblem:
        try:
            pwd.getpwnam(name)  # made by a start of the same student a moment ago
        except KeyError:
            raise


def _private_home(home: Path, uid: int, gid: int) -> None:
    home.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    home.mkdir(mode=0o700, exist_ok=True)
    os.chown(home, uid, gid)
    os.chmod(home, 0o700)


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise AccountProblem(f"{' '.join(command)} failed: {done.stderr.strip()}")
