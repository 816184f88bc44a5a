"""The audit index: every signed event under its accountable actor and department, with the key id
that signed it, paged in log order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from keys import cose
from keys.errors import KeyManagementError
from ledger.transcodings import EncodingError, loads
from projections.case_facts import ReadModelError
from projections.case_table import read_time, stored_time
from projections.database import Database, ViewCursor
from projections.errors import ProjectionError
from projections.runtime import ReadModel

TABLE = "audit_index"
MAX_PAGE = 1_000
_COLUMNS = (
    "notification_id, principal, role, department, on_behalf_of, stream, seq, type, at, "
    "channel, kid"
)


class InvalidPage(ReadModelError):
    """A page request with a limit out of range or a negative cursor."""


@dataclass(frozen=True)
class AuditEntry:
    """One signed event as the audit sees it: who, for whom, what, when, with which key."""

    notification_id: int
    principal: str
    role: str
    department: str | None
    on_behalf_of: str | None
    stream: UUID
    seq: int
    type: str
    at: datetime
    channel: str
    kid: str


@dataclass(frozen=True)
class AuditPage:
    """A page of entries; pass ``next_after`` back as ``after`` for the next (None at the end)."""

    entries: tuple[AuditEntry, ...]
    next_after: int | None


def _entry(notification: Notification) -> tuple[Any, ...] | None:
    """The index row of one event (decoded once for both the payload and the kid)."""
    try:
        message = cose.decode_sign1(notification.state)
        envelope = loads(message.payload)
    except (KeyManagementError, EncodingError) as exc:
        raise ProjectionError(
            f"expected a COSE_Sign1 event with a CBOR envelope at #{notification.id}: {exc}"
        ) from None
    actor = envelope.get("actor") if isinstance(envelope, dict) else None
    if not isinstance(actor, dict) or not actor.get("principal"):
        return None  # nobody to index it under
    kid = message.kid
    return (
        notification.id,
        str(actor["principal"]),
        str(actor.get("role") or ""),
        actor.get("department"),
        actor.get("on_behalf_of"),
        str(envelope["stream"]),
        int(envelope["seq"]),
        notification.topic,
        stored_time(envelope["at"]),
        str(envelope.get("channel") or ""),
        kid.hex() if isinstance(kid, bytes) else "",
    )


class AuditIndex(ReadModel):
    """Actor principal and department to the events they signed or were recorded in."""

    name = "audit_index"

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the index and its look-ups by actor, department and person served."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (notification_id BIGINT PRIMARY KEY, "
            "principal TEXT NOT NULL, role TEXT NOT NULL, department TEXT, on_behalf_of TEXT, "
            "stream TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, at TEXT NOT NULL, "
            "channel TEXT NOT NULL, kid TEXT NOT NULL)"
        )
        for column in ("principal", "department", "on_behalf_of", "kid"):
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {TABLE}_{column} "
                f"ON {TABLE} ({column}, notification_id)"
            )

    def clear(self, cursor: ViewCursor) -> None:
        """Forget every entry."""
        cursor.execute(f"DELETE FROM {TABLE}")

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Index one event."""
        self.apply_batch(cursor, [notification])

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Index a page with one multi-row insert."""
        rows = [row for row in map(_entry, notifications) if row is not None]
        cursor.executemany(f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({', '.join('?' * 11)})", rows)

    # -- queries ---------------------------------------------------------------------------------

    def by_actor(
        self, database: Database, principal: str, *, after: int = 0, limit: int = 100
    ) -> AuditPage:
        """Return the events ``principal`` acted in, in log order, after notification ``after``."""
        return self._page(database, "principal", principal, after, limit)

    def by_department(
        self, database: Database, department: str, *, after: int = 0, limit: int = 100
    ) -> AuditPage:
        """Return the events officers of ``department`` acted in, in log order."""
        return self._page(database, "department", department, after, limit)

    def by_key(
        self, database: Database, kid: bytes, *, after: int = 0, limit: int = 100
    ) -> AuditPage:
        """Return the events signed with key ``kid``, in log order (what a compromise touched)."""
        return self._page(database, "kid", kid.hex(), after, limit)

    def on_behalf_of(
        self, database: Database, holder: str, *, after: int = 0, limit: int = 100
    ) -> AuditPage:
        """Return the events staff carried out on behalf of ``holder`` (代办)."""
        return self._page(database, "on_behalf_of", holder, after, limit)

    @staticmethod
    def _page(database: Database, column: str, value: str, after: int, limit: int) -> AuditPage:
        if not 1 <= limit <= MAX_PAGE or after < 0:
            raise InvalidPage(
                f"expected 1 <= limit <= {MAX_PAGE} and after >= 0, got limit {limit}, "
                f"after {after}"
            )
        with database.transaction(write=False) as cursor:
            # One row more than asked tells whether another page follows.
            cursor.execute(
                f"SELECT {_COLUMNS} FROM {TABLE} WHERE {column} = ? AND notification_id > ? "
                "ORDER BY notification_id LIMIT ?",
                (value, after, limit + 1),
            )
            rows = cursor.fetchall()
        entries = tuple(
            AuditEntry(
                notification_id=int(n),
                principal=str(principal),
                role=str(role),
                department=None if department is None else str(department),
                on_behalf_of=None if behalf is None else str(behalf),
                stream=UUID(str(stream)),
                seq=int(seq),
                type=str(kind),
                at=read_time(str(at)),
                channel=str(channel),
                kid=str(kid),
            )
            for n, principal, role, department, behalf, stream, seq, kind, at, channel, kid in rows[
                :limit
            ]
        )
        return AuditPage(entries, entries[-1].notification_id if len(rows) > limit else None)
