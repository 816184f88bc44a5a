"""The events' own database as read models see it: one transaction type, ``?`` placeholders on
SQLite and PostgreSQL alike, per-dialect DDL, and the events table's notification ids.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar

from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory
from eventsourcing.utils import Environment

from ledger.persistence import recorder_kind
from projections.errors import ProjectionError

_CREATE_INDEX = re.compile(r"\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)
_PG_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double precision"),
    (bytes, "bytea"),
    (str, "text"),
)


def _pg_array_type(values: Sequence[Any]) -> str:
    """Return the PostgreSQL array type of a column's values (text if all are None)."""
    sample = next((v for v in values if v is not None), "")
    for kind, name in _PG_TYPES:
        if isinstance(sample, kind):
            return f"{name}[]"
    raise ProjectionError(f"expected bool, int, float, bytes or str values, got {type(sample)}")


class ViewCursor:
    """A cursor inside one read-model transaction; SQL uses ``?`` placeholders on every database."""

    __slots__ = ("_cursor", "_postgres", "database", "dialect")

    def __init__(self, cursor: Any, database: Database) -> None:
        self._cursor = cursor
        self.database = database
        self.dialect: str = database.dialect
        self._postgres = database.dialect == "postgres"

    def _sql(self, statement: str) -> str:
        # psycopg takes %s where sqlite3 takes ?; our statements hold no other question marks.
        return statement.replace("?", "%s") if self._postgres else statement

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        if self._postgres:
            index = _CREATE_INDEX.match(statement)
            if index is not None and self._relation_exists(index.group(1)):
                return
        self._cursor.execute(self._sql(statement), params)

    def _relation_exists(self, name: str) -> bool:
        # PostgreSQL's CREATE INDEX IF NOT EXISTS takes a SHARE lock on the table before it finds
        # the index there: a process starting up would wait on every writer of the table, and
        # one that creates several tables' indexes in a transaction can deadlock with a writer of
        # several of them. An index that is there is left alone.
        self._cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        row = self._cursor.fetchone()
        return bool(row and row[0])

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each parameter row."""
        if rows:
            self._cursor.executemany(self._sql(statement), rows)

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows: ``executemany`` on SQLite, one ``unnest`` of arrays on PostgreSQL."""
        if not rows:
            return
        if not self._postgres:
            self._cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                rows,
            )
            return
        # psycopg's executemany binds and executes each row; arrays make it one statement.
        arrays = [list(column) for column in zip(*rows, strict=True)]
        casts = ", ".join(f"%s::{_pg_array_type(values)}" for values in arrays)
        self._cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({casts})", arrays
        )

    def fetchone(self) -> tuple[Any, ...] | None:
        """Return the next row as a tuple, or None."""
        row = self._cursor.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Return the remaining rows as tuples."""
        return [tuple(row) for row in self._cursor.fetchall()]

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        return int(self._cursor.rowcount)


class Database(ABC):
    """The events' own database as read models use it: transactions, DDL, the events table."""

    dialect: ClassVar[str]

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder
        self.source: str = recorder.events_table_name  # type: ignore[attr-defined]

    @abstractmethod
    def transaction(self, *, write: bool = True) -> AbstractContextManager[ViewCursor]:
        """Open one transaction (committed on success when ``write``, else rolled back)."""

    @abstractmethod
    def ddl(self, name: str, **names: str) -> tuple[str, ...]:
        """Return this dialect's CREATE statements for a named group of tables."""

    @abstractmethod
    def lock(self, cursor: ViewCursor, key: int) -> None:
        """Serialise writers of one kind (e.g. checkpoint issuers) until the transaction ends."""

    @property
    @abstractmethod
    def events_table(self) -> str:
        """The events table, qualified as SQL needs it."""

    @property
    @abstractmethod
    def id_column(self) -> str:
        """The column holding each event's notification id."""

    def count_after(self, cursor: ViewCursor, position: int, upto: int | None = None) -> int:
        """Return how many events have a notification id above ``position`` (up to ``upto``)."""
        statement = f"SELECT COUNT(*) FROM {self.events_table} WHERE {self.id_column} > ?"
        params: list[int] = [position]
        if upto is not None:
            statement += f" AND {self.id_column} <= ?"
            params.append(upto)
        cursor.execute(statement, params)
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def id_after(self, cursor: ViewCursor, position: int, skip: int) -> int | None:
        """Return the notification id ``skip`` events past the first one above ``position``."""
        cursor.execute(
            f"SELECT {self.id_column} FROM {self.events_table} WHERE {self.id_column} > ? "
            f"ORDER BY {self.id_column} LIMIT 1 OFFSET ?",
            (position, skip),
        )
        row = cursor.fetchone()
        return None if row is None else int(row[0])


def open_database(recorder: ApplicationRecorder) -> Database:
    """Return the ``Database`` over an eventsourcing SQLite or PostgreSQL application recorder."""
    kind = recorder_kind(recorder)
    if kind == "sqlite":
        from projections.sqlite import SqliteDatabase

        return SqliteDatabase(recorder)
    if kind == "postgres":
        from projections.postgres import PostgresDatabase

        return PostgresDatabase(recorder)
    raise ProjectionError(
        f"read models need the events' SQL database: expected an eventsourcing.sqlite or "
        f"eventsourcing.postgres recorder, got {type(recorder).__qualname__} "
        f"from {type(recorder).__module__}"
    )


def open_recorder(
    env: Mapping[str, str], app_name: str, *, create_tables: bool = True
) -> ApplicationRecorder:
    """Open an application's recorder from its settings alone (for worker processes).

    Readers that start together (audit workers) pass ``create_tables=False``: concurrent
    ``CREATE ... IF NOT EXISTS`` on PostgreSQL can fail with "tuple concurrently updated".
    """
    settings = dict(env)
    if not create_tables:
        settings["CREATE_TABLE"] = settings[f"{app_name.upper()}_CREATE_TABLE"] = "n"
    factory = InfrastructureFactory.construct(Environment(app_name, settings))
    return factory.application_recorder()
