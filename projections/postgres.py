"""PostgreSQL side of the projections: transactions in the events' own schema and the SQL that
creates the tracking, transparency-log and counting tables there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import ApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from projections.database import Database, ViewCursor
from projections.errors import ProjectionError

DDL: dict[str, tuple[str, ...]] = {
    "tracking": (
        "CREATE TABLE IF NOT EXISTS {table} ("
        "source TEXT NOT NULL, name TEXT NOT NULL, notification_id BIGINT NOT NULL, "
        "PRIMARY KEY (source, name))",
    ),
    "transparency": (
        "CREATE TABLE IF NOT EXISTS {prefix}_nodes ("
        "level SMALLINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, "
        "PRIMARY KEY (level, idx))",
        "CREATE TABLE IF NOT EXISTS {prefix}_leaves ("
        "leaf_index BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL UNIQUE, "
        "stream TEXT NOT NULL, seq BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {prefix}_leaves_stream ON {prefix}_leaves (stream, seq)",
        "CREATE TABLE IF NOT EXISTS {prefix}_checkpoints ("
        "number BIGINT PRIMARY KEY, size BIGINT NOT NULL, root BYTEA NOT NULL, "
        "note BYTEA NOT NULL, issued_at DOUBLE PRECISION NOT NULL)",
    ),
    "event_counts": (
        "CREATE TABLE IF NOT EXISTS event_counts (type TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    ),
}

_DDL_LOCK = 2026112202  # advisory lock key: concurrent CREATE ... IF NOT EXISTS can collide


class PostgresDatabase(Database):
    """Read-model transactions in the PostgreSQL schema that holds the events."""

    dialect: ClassVar[str] = "postgres"

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self._datastore: Any = recorder.datastore  # type: ignore[attr-defined]
        self.schema: str = self._datastore.schema
        self._search_path = SQL("SET LOCAL search_path TO {}").format(Identifier(self.schema))

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[ViewCursor]:
        """Open a transaction whose unqualified table names resolve in the events' schema."""
        with (
            self._datastore.get_connection() as connection,
            connection.transaction(force_rollback=not write),
        ):
            cursor = connection.cursor(row_factory=tuple_row)
            cursor.execute(self._search_path)
            yield ViewCursor(cursor, self)

    def ddl(self, name: str, **names: str) -> tuple[str, ...]:
        """Return the CREATE statements of a named table group, names filled in."""
        try:
            statements = tuple(statement.format(**names) for statement in DDL[name])
        except KeyError:
            raise ProjectionError(
                f"expected one of {sorted(DDL)} (with its names), got table group {name!r}"
            ) from None
        return (f"SELECT pg_advisory_xact_lock({_DDL_LOCK})", *statements)

    def lock(self, cursor: ViewCursor, key: int) -> None:
        """Take a transaction-scoped advisory lock."""
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (key,))

    @property
    def events_table(self) -> str:
        """The events table, schema-qualified."""
        return f'"{self.schema}"."{self.source}"'

    @property
    def id_column(self) -> str:
        """PostgreSQL notification ids are a bigserial column."""
        return "notification_id"
