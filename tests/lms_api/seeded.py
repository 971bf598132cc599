"""The demo school, migrated and seeded once per backend and session, then put back for each
test in milliseconds.

Running every migration and the seed for each of hundreds of tests would take minutes, and
even `CREATE DATABASE ... TEMPLATE` costs PostgreSQL a few hundred milliseconds. So a test
that restores the school on PostgreSQL leases one of the session's databases (made once from
the template, which keeps a copy of the seeded rows in schema `seed`), and `restore` empties
its tables and copies the rows back in one round trip: the same rows, ids and sequences as a
fresh copy. Any other database (a test's own) is still replaced by a copy of the template.
"""

import contextlib
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from lms_api.database import sync_url
from lms_api.demo import seed_demo
from lms_api.migrate import upgrade

SEED_SCHEMA = "seed"


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(admin_url: URL, *statements: str) -> None:
    with psycopg.connect(_libpq(admin_url), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


class SeededTemplates:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_template: Path | None = None
        self.postgres_templates: dict[str, str] = {}  # server URL -> template database name
        self.reset_scripts: dict[str, str] = {}  # template name -> SQL that puts the rows back
        self.leased: dict[str, str] = {}  # leased database name -> its template
        self._free: dict[str, list[str]] = {}  # server URL -> leased databases not in use

    # --- what tests use ---------------------------------------------------------------
    def restore(self, database_url: str) -> None:
        """Make `database_url` a copy of the seeded school (whatever it held before)."""
        url = make_url(sync_url(database_url))
        if url.get_backend_name() == "sqlite":
            shutil.copyfile(self._sqlite_template(), str(url.database))
            return
        if url.database in self.leased:
            self._reset(url, self.reset_scripts[self.leased[url.database]])
            return
        admin = url.set(database="postgres")
        template = self._postgres_template(admin)
        _admin(
            admin,
            f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)',
            f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"',
        )

    @contextlib.contextmanager
    def lease(self, admin_url: str) -> Iterator[str]:
        """A PostgreSQL database of this session for one test that restores the school into
        it; returned to the pool afterwards (dropped when the session ends)."""
        admin = make_url(sync_url(admin_url)).set(database="postgres")
        key = _libpq(admin)
        free = self._free.setdefault(key, [])
        if free:
            name = free.pop()
        else:
            template = self._postgres_template(admin)
            name = f"apranova_leased_{uuid.uuid4().hex[:12]}"
            _admin(admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.leased[name] = template
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            free.append(name)

    def drop(self) -> None:
        for key, names in self._free.items():
            _admin(make_url(key), *(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names))
        for key, name in self.postgres_templates.items():
            _admin(make_url(key), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # --- the templates ----------------------------------------------------------------
    def _sqlite_template(self) -> Path:
        if self.sqlite_template is None:
            path = self.folder / "seeded.db"
            upgrade(f"sqlite:///{path}")
            seed_demo(f"sqlite:///{path}")
            self.sqlite_template = path
        return self.sqlite_template

    def _postgres_template(self, admin: URL) -> str:
        key = _libpq(admin)
        if key not in self.postgres_templates:
            name = f"apranova_template_{uuid.uuid4().hex[:12]}"
            _admin(admin, f'CREATE DATABASE "{name}"')
            seeded = admin.set(database=name).render_as_string(hide_password=False)
            upgrade(seeded)
            seed_demo(seeded)
            self.reset_scripts[name] = _keep_seed_rows(admin.set(database=name))
            self.postgres_templates[key] = name
        return self.postgres_templates[key]

    @staticmethod
    def _reset(url: URL, script: str) -> None:
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            # As DROP DATABASE ... WITH (FORCE): no connection of an earlier app holds a lock.
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            with connection.transaction():
                connection.execute(script)


def _keep_seed_rows(template: URL) -> str:
    """Copy the seeded rows of every table into schema `seed` of the template, and return the
    SQL that empties the tables and copies them back, sequences included."""
    with psycopg.connect(_libpq(template), autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version' ORDER BY tablename"
            )
        ]
        sequences = list(
            connection.execute(
                "SELECT c.relname, a.attname, "
                "pg_get_serial_sequence(quote_ident(c.relname), a.attname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = c.oid "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 "
                "AND pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL"
            )
        )
        connection.execute(f"CREATE SCHEMA {SEED_SCHEMA}")
        for table in tables:
            connection.execute(f'CREATE TABLE {SEED_SCHEMA}."{table}" AS TABLE public."{table}"')
    script = ["SET LOCAL session_replication_role = replica"]  # no FK order needed
    script += [f'DELETE FROM public."{table}"' for table in tables]
    script += [
        f'INSERT INTO public."{table}" OVERRIDING SYSTEM VALUE '
        f'SELECT * FROM {SEED_SCHEMA}."{table}"'
        for table in tables
    ]
    script += [
        f"SELECT setval('{sequence}', "
        f'COALESCE((SELECT max("{column}") FROM public."{table}"), 0) + 1, false)'
        for table, column, sequence in sequences
    ]
    return ";\n".join(script)
