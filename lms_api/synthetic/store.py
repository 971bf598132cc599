"""Bulk writes into the LMS database: COPY on PostgreSQL, executemany on SQLite.

The generator hands over Arrow tables with explicit ids. Everything goes into one
transaction, so a failed seed leaves nothing behind; at the end PostgreSQL's id sequences
are moved past the new rows, so the LMS keeps inserting after the seed.
"""

import io
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy.engine import make_url
from tqdm import tqdm

from lms_api.database import Base, sync_url

CHUNK_ROWS = 200_000


def progress_bar(enabled: bool, desc: str, total: int | None):
    """One bar per table on stderr (a no-op when progress is off)."""
    if not enabled:
        return nullcontext(None)
    return tqdm(
        total=total,
        desc=f"{desc:<20}",
        unit=" rows",
        unit_scale=bool(total and total >= 10_000),
        file=sys.stderr,
        leave=True,
    )


class Store:
    """One connection and one transaction on the LMS database."""

    def __init__(self, database_url: str, progress: bool = False) -> None:
        url = make_url(sync_url(database_url))
        self.progress = progress
        self.backend = url.get_backend_name()
        self.written: dict[str, int] = {}
        self.foreign_keys: dict[str, list[tuple[str, str]]] = {}  # dropped during the load
        if self.backend == "sqlite":
            self.connection: Any = sqlite3.connect(url.database or ":memory:", isolation_level=None)
            self.connection.execute("PRAGMA foreign_keys=ON")
            self.connection.execute("PRAGMA busy_timeout=10000")
            self.connection.execute("BEGIN IMMEDIATE")
            # Foreign keys checked at the commit: answers may come before their attempts.
            self.connection.execute("PRAGMA defer_foreign_keys=ON")
        elif self.backend == "postgresql":
            import psycopg

            plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(plain, autocommit=False)
            self.connection.execute("SET TIME ZONE 'UTC'")
        else:  # pragma: no cover - the LMS supports these two
            raise ValueError(f"seed-synthetic supports SQLite and PostgreSQL, not {self.backend}")

    # --- reading -------------------------------------------------------------------------
    def query(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.connection.execute(sql).fetchall()]

    def next_id(self, table: str) -> int:
        """The first id this seed may use in `table` (after every existing row)."""
        return int(self.query(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0]) + 1

    # --- writing -------------------------------------------------------------------------
    def write_all(self, table: str, data: pa.Table) -> None:
        """Append `data` (columns named as in the LMS table) to `table`."""
        if data.num_rows == 0:
            return
        with self.appender(table, data.column_names, data.num_rows) as append:
            append(data)

    @contextmanager
    def appender(
        self, table: str, columns: list[str], expected: int | None
    ) -> Iterator[Callable[[pa.Table], None]]:
        """A function appending Arrow tables (with these columns) to `table`, with a
        progress bar. On PostgreSQL it is one COPY, fed from a queue by psycopg's writer
        thread, so the server loads one batch while the caller makes the next."""
        unknown = set(columns) - set(Base.metadata.tables[table].columns.keys())
        if unknown:  # pragma: no cover - a programming error in the generator
            raise ValueError(f"{table} has no column(s) {sorted(unknown)}")
        listed = ", ".join(f'"{name}"' for name in columns)
        self.written.setdefault(table, 0)
        with progress_bar(self.progress, table, expected) as bar:
            if self.backend == "postgresql":
                with self._copy(table, listed) as write:
                    yield lambda data: self._append(table, data, columns, write, bar)
            else:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({listed}) VALUES ({marks})"

                def insert(chunk: pa.Table) -> None:
                    rows = zip(*(_python(c) for c in chunk.columns), strict=True)
                    self.connection.executemany(sql, rows)

                yield lambda data: self._append(table, data, columns, insert, bar)
            if bar is not None and bar.n != bar.total:
                bar.total = bar.n
                bar.refresh()

    def _append(self, table, data: pa.Table, columns, write, bar) -> None:
        if data.column_names != list(columns):  # pragma: no cover - a generator's mistake
            raise ValueError(f"{table}: columns {data.column_names} instead of {columns}")
        for start in range(0, data.num_rows, CHUNK_ROWS):
            chunk = data.slice(start, CHUNK_ROWS)
            write(chunk)
            self.written[table] += chunk.num_rows
            if bar is not None:
                bar.update(chunk.num_rows)

    @contextmanager
    def _copy(self, table: str, columns: str) -> Iterator[Callable[[pa.Table], None]]:
        from psycopg.copy import QueuedLibpqWriter

        if table not in self.foreign_keys:
            self._defer_foreign_keys(table)
        options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
        with self.connection.cursor() as cursor:
            sql = f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)"
            with cursor.copy(sql, writer=QueuedLibpqWriter(cursor)) as copy:

                def write(chunk: pa.Table) -> None:
                    # Naive text of the UTC instant (the session's time zone is UTC): Arrow
                    # formats zone-less timestamps some twenty times faster.
                    naive = pa.table(
                        [
                            c.cast(pa.timestamp("us")) if pa.types.is_timestamp(c.type) else c
                            for c in chunk.columns
                        ],
                        names=chunk.column_names,
                    )
                    buffer = io.BytesIO()
                    pa_csv.write_csv(naive, buffer, options)
                    copy.write(buffer.getvalue())

                yield write

    def _defer_foreign_keys(self, table: str) -> None:
        """Drop the table's foreign keys for the load and add them back before the commit
        (PostgreSQL's advice for bulk loads): one check of all rows at the end instead of a
        trigger per row, which would be most of the time for millions of rows. All inside
        the transaction, so a failure leaves the schema as it was."""
        self.foreign_keys[table] = self.query(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid = '{table}'::regclass AND contype = 'f' ORDER BY conname"
        )
        for name, _ in self.foreign_keys[table]:
            self.connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')

    # --- ending --------------------------------------------------------------------------
    def commit(self, tables: Iterable[str]) -> None:
        """Move PostgreSQL's id sequences past the new rows, then commit."""
        if self.backend == "postgresql":
            for table, constraints in self.foreign_keys.items():
                for name, definition in constraints:
                    self.connection.execute(
                        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                    )
            for table in tables:
                self.connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), m) "
                    f"FROM (SELECT MAX(id) AS m FROM {table}) AS t WHERE m IS NOT NULL"
                )
            self.connection.commit()
        else:
            self.connection.execute("COMMIT")

    def close(self) -> None:
        """Roll back whatever was not committed, and close."""
        try:
            if self.backend == "postgresql":
                self.connection.rollback()
            elif self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        finally:
            self.connection.close()


def _python(column: pa.ChunkedArray) -> list:
    """Values sqlite3 takes: timestamps as SQLAlchemy writes them (naive UTC text)."""
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.timestamp("us")).cast(pa.string())
    if column.null_count == 0 and (
        pa.types.is_integer(column.type) or pa.types.is_floating(column.type)
    ):
        return column.to_numpy().tolist()
    return column.to_pylist()
