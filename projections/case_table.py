"""The table of case facts (TEXT and INTEGER columns that SQLite and PostgreSQL read alike) and
the read-model base that folds each page of events into it.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.calendar import Pause, WorkingCalendar
from ledger.case import CaseStatus
from projections.case_facts import (
    CASE_TOPICS,
    DEFAULT_APPLICANT_KEY,
    SUBMITTED,
    CaseFacts,
    CaseFold,
    Envelope,
    Fields,
)
from projections.database import ViewCursor
from projections.runtime import ReadModel, decode_envelope

_CHUNK = 500  # ids per IN (...) list, well below SQLite's parameter limit


# (column, kind): the kind says how a value is stored; every column is TEXT or INTEGER, which
# SQLite and PostgreSQL read alike.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", "uuid"),
    ("submission_id", "text"),
    ("item_code", "text"),
    ("item_name", "text"),
    ("item_version", "int"),
    ("applicant_digest", "text"),
    ("applicant_masked", "text"),
    ("applicant_kind", "text"),
    ("lead_department", "text"),
    ("required_departments", "texts"),
    ("visit_target", "int"),
    ("promised_days", "int"),
    ("status", "status"),
    ("submitted_at", "time"),
    ("last_event_at", "time"),
    ("version", "int"),
    ("received_at", "time?"),
    ("receipt_number", "text?"),
    ("due", "date?"),
    ("due_seq", "int?"),
    ("due_at", "time?"),
    ("pauses", "pauses"),
    ("commitment_due", "date?"),
    ("open_commitments", "texts"),
    ("commitment_seq", "int?"),
    ("commitment_at", "time?"),
    ("transferred_to", "text?"),
    ("visits", "int"),
    ("over_target_seq", "int?"),
    ("over_target_at", "time?"),
    ("decided_at", "time?"),
    ("decided_seq", "int?"),
    ("granted", "bool?"),
    ("on_time", "bool?"),
    ("working_days", "int?"),
    ("closed_at", "time?"),
    ("stars", "int?"),
)
_SQL_TYPE = {"int": "INTEGER", "bool": "INTEGER"}


def fact_columns(alias: str = "") -> str:
    """The facts' column list for a SELECT (``alias`` qualifies each name)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name, _ in _COLUMNS)


def facts_ddl(table: str, indexes: Iterable[str] = ()) -> tuple[str, ...]:
    """CREATE statements of a facts table and of an index on each column in ``indexes``."""
    columns = ", ".join(
        f"{name} {_SQL_TYPE.get(kind.rstrip('?'), 'TEXT')}"
        + ("" if kind.endswith("?") else " NOT NULL")
        for name, kind in _COLUMNS
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY (case_id))",
        *(f"CREATE INDEX IF NOT EXISTS {table}_{c} ON {table} ({c})" for c in indexes),
    )


def stored_time(at: datetime) -> str:
    """A time as the read models store it: fixed-width UTC text."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def read_time(text: str) -> datetime:
    """A stored time back as an aware UTC datetime."""
    return datetime.fromisoformat(text)


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    kind = kind.rstrip("?")
    if kind == "time":
        return stored_time(value)
    if kind == "date":
        return value.isoformat()
    if kind == "texts":
        return json.dumps(list(value), ensure_ascii=False)
    if kind == "pauses":
        spans = [[p.start.isoformat(), p.end and p.end.isoformat()] for p in value]
        return json.dumps(spans)
    if kind == "bool":
        return int(value)
    if kind in ("uuid", "status"):
        return str(value)
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    kind = kind.rstrip("?")
    if kind == "time":
        return read_time(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "texts":
        return tuple(json.loads(value))
    if kind == "pauses":
        return tuple(
            Pause(date.fromisoformat(s), None if e is None else date.fromisoformat(e))
            for s, e in json.loads(value)
        )
    if kind == "bool":
        return bool(value)
    if kind == "uuid":
        return UUID(value)
    if kind == "status":
        return CaseStatus(value)
    return int(value) if kind == "int" else str(value)


def facts_row(facts: Mapping[str, Any] | CaseFacts) -> tuple[Any, ...]:
    """The facts (or their fields) as one row of plain column values."""
    values = facts if isinstance(facts, Mapping) else vars(facts)
    return tuple(_encode(kind, values[name]) for name, kind in _COLUMNS)


def fields_from_row(row: Sequence[Any]) -> Fields:
    """The fields of a row selected with ``fact_columns()`` (extra trailing values ignored)."""
    return {name: _decode(kind, row[i]) for i, (name, kind) in enumerate(_COLUMNS)}


def facts_from_row(row: Sequence[Any]) -> CaseFacts:
    """The facts of a row selected with ``fact_columns()`` (extra trailing values ignored)."""
    return CaseFacts(**fields_from_row(row))


def load_facts(cursor: ViewCursor, table: str, case_ids: Iterable[UUID]) -> dict[UUID, Fields]:
    """Return the stored fields of the given cases (those the table holds)."""
    ids = sorted({str(case_id) for case_id in case_ids})
    found: dict[UUID, Fields] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        marks = ", ".join("?" for _ in chunk)
        cursor.execute(f"SELECT {fact_columns()} FROM {table} WHERE case_id IN ({marks})", chunk)
        for row in cursor.fetchall():
            fields = fields_from_row(row)
            found[fields["case_id"]] = fields
    return found


def save_facts(cursor: ViewCursor, table: str, facts: Iterable[Mapping[str, Any]]) -> None:
    """Insert or replace the rows of the given cases."""
    names = [name for name, _ in _COLUMNS]
    updates = ", ".join(f"{name} = excluded.{name}" for name in names[1:])
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) "
        f"ON CONFLICT (case_id) DO UPDATE SET {updates}",
        [facts_row(f) for f in facts],
    )


# --- the read-model base ------------------------------------------------------------------------

OtherHandler = Callable[[ViewCursor, Envelope, Notification], None]


class CaseFactsModel(ReadModel):
    """A read model over a table of case facts, plus the tables its subclass adds."""

    table: ClassVar[str] = ""
    indexes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, calendar: WorkingCalendar, *, applicant_key: bytes = DEFAULT_APPLICANT_KEY
    ) -> None:
        self.calendar = calendar
        self.applicant_key = applicant_key
        self.fold = CaseFold(calendar, applicant_key)

    @abstractmethod
    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """The subclass's own tables: name -> CREATE statements."""

    def other_handlers(self) -> Mapping[str, OtherHandler]:
        """Handlers of non-case event types the subclass reads."""
        return {}

    def on_case_event(self, cursor: ViewCursor, facts: Fields, envelope: Envelope) -> None:
        """Write the subclass's own rows for one case event (the facts are saved per batch)."""

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the facts table and the subclass's tables."""
        statements = facts_ddl(self.table, self.indexes)
        for extra in self.extra_tables().values():
            statements += extra
        for statement in statements:
            cursor.execute(statement)

    def clear(self, cursor: ViewCursor) -> None:
        """Delete every derived row."""
        for table in (self.table, *self.extra_tables()):
            cursor.execute(f"DELETE FROM {table}")

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Apply one notification."""
        self.apply_batch(cursor, [notification])

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Fold a page: each case's row is read once and written once, other types as they come."""
        others = self.other_handlers()
        known = [n for n in notifications if n.topic in CASE_TOPICS or n.topic in others]
        envelopes = [(n, decode_envelope(n.state)) for n in known]
        facts = load_facts(
            cursor,
            self.table,
            (e["stream"] for n, e in envelopes if n.topic in CASE_TOPICS and n.topic != SUBMITTED),
        )
        changed: dict[UUID, Fields] = {}
        for notification, envelope in envelopes:
            if notification.topic not in CASE_TOPICS:
                others[notification.topic](cursor, envelope, notification)
                continue
            after = self.fold(facts.get(envelope["stream"]), envelope)
            self.on_case_event(cursor, after, envelope)
            facts[after["case_id"]] = changed[after["case_id"]] = after
        save_facts(cursor, self.table, changed.values())
