"""`apranova-hub`: local secrets and local accounts (used by `make up` and by admins)."""

import argparse
import getpass
import json
import os
import sys

from hub.demo import DEMO_ACCOUNTS
from hub.passwords import ROLES, PasswordStore, generate_password, password_problem
from hub.secrets import ensure_local_secrets
from hub.settings import get_settings
from hub.usernames import USERNAME_RULE, normalize_username, username_problem
from lms_api.state import state_dir


def accounts_store() -> PasswordStore:
    return PasswordStore(state_dir() / "accounts.sqlite")


def seed_demo(as_json: bool) -> int:
    store = accounts_store()
    created = {}
    for username, role in DEMO_ACCOUNTS.items():
        if not store.exists(username):
            password = generate_password()
            store.add(username, password, role)
            created[username] = {"role": role, "password": password}
    if as_json:
        print(json.dumps(created))
    elif created:
        print("Demo accounts (passwords are shown only this once):")
        for username, info in created.items():
            print(f"  {username:<8} {info['role']:<11} password: {info['password']}")
    else:
        print("Demo accounts already exist; reset one with: apranova-hub set-password NAME")
    return 0


def banner() -> int:
    from hub.settings import get_settings

    s = get_settings()
    logins = ", ".join(f"{u} ({r})" for u, r in DEMO_ACCOUNTS.items())
    print(
        f"""
  ApraNova is starting at  {s.hub_public_url}
  Demo logins: {logins}
  (passwords are printed when the accounts are made; reset one with
   .venv/bin/apranova-hub set-password NAME --generate)
  Trainer dashboards:  {s.hub_public_url}/services/dashboards/
  Pipelines (admins):  {s.hub_public_url}/services/dagster/
  Workspaces: {workspace_isolation(s)}
  Ctrl-C stops everything.
"""
    )
    return 0


def remove_system_accounts() -> int:
    from hub.local_accounts import remove_accounts
    from hub.settings import get_settings

    removed = remove_accounts(get_settings().local_user_prefix)
    print(f"removed {len(removed)} system account(s): {', '.join(removed) or '-'}")
    return 0


def workspace_isolation(s) -> str:
    """One line on how workspaces are kept apart, loud when they are not."""
    if s.mode == "docker":
        return "one container per student (docker mode)"
    if s.mode == "kubernetes":
        return "one pod per student (kubernetes mode)"
    if os.geteuid() == 0:
        return f"each student's own system account ({s.local_user_prefix}NAME)"
    if s.local_unisolated_workspaces:
        return (
            "!! UNISOLATED: they run as this user and can read every secret; "
            "development only, never real students !!"
        )
    return (
        "!! REFUSED: the hub is not root, so local workspaces cannot be kept apart from "
        "its secrets; run it as root or use docker mode (README: Security by mode) !!"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="apranova-hub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="generate local secrets (kept if present)")
    sub.add_parser("banner", help="print where the hub listens and the demo logins")
    sub.add_parser(
        "remove-system-accounts",
        help="local mode as root: delete the students' system accounts (homes are kept)",
    )
    seed = sub.add_parser("seed-demo", help="create the demo accounts once")
    seed.add_argument("--json", action="store_true", help="print new accounts as JSON")
    add = sub.add_parser(
        "add-user",
        help=f"create a local account; prints its password (usernames: {USERNAME_RULE})",
    )
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="student")
    setpw = sub.add_parser("set-password", help="set a local account's password")
    setpw.add_argument("username")
    setpw.add_argument("--generate", action="store_true", help="generate and print one")
    setrole = sub.add_parser("set-role", help="change the role applied at hub start")
    setrole.add_argument("username")
    setrole.add_argument("role", choices=ROLES)
    args = parser.parse_args(argv)

    if args.command == "init":
        path = ensure_local_secrets(state_dir())
        print(f"Local secrets in {path}")
        return 0
    if args.command == "seed-demo":
        return seed_demo(args.json)
    if args.command == "banner":
        return banner()
    if args.command == "remove-system-accounts":
        return remove_system_accounts()
    store = accounts_store()
    args.username = normalize_username(args.username)  # as the login form does
    if args.command == "add-user":
        problem = username_problem(args.username)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        if store.exists(args.username):
            print(f"error: {args.username} already exists", file=sys.stderr)
            return 1
        password = generate_password()
        store.add(args.username, password, args.role)
        print(f"{args.username} ({args.role}) password: {password}")
        return 0
    if args.command == "set-password":
        password = generate_password() if args.generate else getpass.getpass("New password: ")
        problem = password_problem(password)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
        if not store.set_password(args.username, password):
            print(f"error: no local account {args.username}", file=sys.stderr)
            return 1
        print(f"password of {args.username}: {password}" if args.generate else "password set")
        return 0
    if args.command == "set-role":
        if not store.set_role(args.username, args.role):
            print(f"error: no local account {args.username}", file=sys.stderr)
            return 1
        print(
            f"{args.username} is now {args.role} (the running hub applies it within "
            f"{get_settings().role_refresh_seconds} s, or at their next login)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
