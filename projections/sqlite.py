"""SQLite side of the projections: write transactions on the events' own file and the SQL that
creates the tracking, transparency-log and counting tables there."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import ApplicationRecorder

from projections.database import Database, ViewCursor
from projections.errors import ProjectionError

DDL: dict[str, tuple[str, ...]] = {
    "tracking": (
        "CREATE TABLE IF NOT EXISTS {table} ("
        "source TEXT NOT NULL, name TEXT NOT NULL, notification_id INTEGER NOT NULL, "
        "PRIMARY KEY (source, name)) WITHOUT ROWID",
    ),
    "transparency": (
        "CREATE TABLE IF NOT EXISTS {prefix}_nodes ("
        "level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
        "PRIMARY KEY (level, idx)) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS {prefix}_leaves ("
        "leaf_index INTEGER PRIMARY KEY, notification_id INTEGER NOT NULL UNIQUE, "
        "stream TEXT NOT NULL, seq INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS {prefix}_leaves_stream ON {prefix}_leaves (stream, seq)",
        "CREATE TABLE IF NOT EXISTS {prefix}_checkpoints ("
        "number INTEGER PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, "
        "note BLOB NOT NULL, issued_at REAL NOT NULL)",
    ),
    "event_counts": (
        "CREATE TABLE IF NOT EXISTS event_counts ("
        "type TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID",
    ),
}


class SqliteDatabase(Database):
    """Read-model transactions in the SQLite file that holds the events."""

    dialect: ClassVar[str] = "sqlite"

    def __init__(self, recorder: ApplicationRecorder) -> None:
        super().__init__(recorder)
        self._datastore: Any = recorder.datastore  # type: ignore[attr-defined]

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[ViewCursor]:
        """Open a transaction; writers take the write lock at BEGIN (IMMEDIATE)."""
        with self._datastore.get_connection(commit=write) as connection:
            cursor = connection.cursor().sqlite_cursor
            cursor.row_factory = None  # plain tuples
            # IMMEDIATE: a deferred writer that read first could not upgrade after another
            # writer's commit (SQLITE_BUSY_SNAPSHOT); taking the lock up front waits instead.
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield ViewCursor(cursor, self)
            except BaseException:
                connection.rollback()
                raise
            else:
                if write:
                    connection.commit()
                else:
                    connection.rollback()
            finally:
                cursor.close()

    def ddl(self, name: str, **names: str) -> tuple[str, ...]:
        """Return the CREATE statements of a named table group, names filled in."""
        try:
            return tuple(statement.format(**names) for statement in DDL[name])
        except KeyError:
            raise ProjectionError(
                f"expected one of {sorted(DDL)} (with its names), got table group {name!r}"
            ) from None

    def lock(self, cursor: ViewCursor, key: int) -> None:
        """Nothing to do: a write transaction already holds SQLite's one write lock."""

    @property
    def events_table(self) -> str:
        """The events table."""
        return self.source

    @property
    def id_column(self) -> str:
        """SQLite notification ids are rowids."""
        return "rowid"
