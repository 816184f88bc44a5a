"""License records as their events leave them (the holder only as a pseudonymous reference), the
table that keeps them, and the read-model base shared by the license registry and shared views.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.sharing_service import holder_ref
from licenses.errors import LicenseError
from licenses.guards import lineage_of
from licenses.identifiers import LicenseId
from licenses.model import LicenseState, SlotStatus
from projections.case_facts import ReadModelError
from projections.case_table import read_time, stored_time
from projections.database import ViewCursor
from projections.runtime import EnvelopeReadModel, Handler

Envelope = dict[str, Any]

ISSUED = "license.Issued"
AMENDED = "license.Amended"
RENEWED = "license.Renewed"
LICENSE_TOPICS = (
    ISSUED,
    AMENDED,
    RENEWED,
    "license.Suspended",
    "license.Reinstated",
    "license.Revoked",
)


class LicenseNotIssued(ReadModelError):
    """A license event arrived for a lineage whose issuance the model never saw."""


class NaiveTime(ReadModelError):
    """A query time without a time zone (stored times are UTC)."""


class RegistryStatus(StrEnum):
    """What a license's events left it: in force, suspended or revoked (expiry is derived)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


_STATUS_AFTER = {
    "license.Suspended": RegistryStatus.SUSPENDED,
    "license.Reinstated": RegistryStatus.ACTIVE,
    "license.Revoked": RegistryStatus.REVOKED,
}
_SLOT_STATUS = {
    RegistryStatus.ACTIVE: SlotStatus.VALID,
    RegistryStatus.SUSPENDED: SlotStatus.SUSPENDED,
    RegistryStatus.REVOKED: SlotStatus.REVOKED,
}


def check_now(now: datetime) -> str:
    """Return ``now`` as stored (UTC text), refusing a naive time."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise NaiveTime(f"expected a timezone-aware datetime as now, got {now!r}")
    return stored_time(now)


def license_state(
    status: RegistryStatus, valid_from: datetime, valid_to: datetime | None, now: datetime
) -> LicenseState:
    """Where a license stands at ``now``, in ``License.status_at``'s order of precedence."""
    check_now(now)
    if status is RegistryStatus.REVOKED:
        return LicenseState.REVOKED
    if valid_to is not None and now >= valid_to:
        return LicenseState.EXPIRED
    if status is RegistryStatus.SUSPENDED:
        return LicenseState.SUSPENDED
    if now < valid_from:
        return LicenseState.NOT_YET_VALID
    return LicenseState.ACTIVE


def lineage_or_none(license_id: str) -> str | None:
    """The lineage of a license id, or None if the text is not a license id."""
    try:
        return lineage_of(license_id)
    except LicenseError:
        return None


@dataclass(frozen=True, kw_only=True)
class LicenseRecord:
    """One license lineage as its events leave it (the holder only as a pseudonymous reference)."""

    aggregate_id: UUID
    lineage: str
    license_id: str
    type_code: str
    issuer: str
    holder_ref: str
    case_id: UUID
    version: int
    seq: int
    valid_from: datetime
    valid_to: datetime | None
    status: RegistryStatus
    status_index: int
    field_names: tuple[str, ...]
    issued_at: datetime
    updated_at: datetime

    def state(self, now: datetime) -> LicenseState:
        """Where the license stands at ``now`` (expiry and not-yet-valid derived from validity)."""
        return license_state(self.status, self.valid_from, self.valid_to, now)

    @property
    def slot_status(self) -> SlotStatus:
        """What the issuer's status list says for the current version's slot."""
        return _SLOT_STATUS[self.status]


# --- the fold -----------------------------------------------------------------------------------


def _issued(envelope: Envelope) -> LicenseRecord:
    data, at = envelope["data"], envelope["at"]
    return LicenseRecord(
        aggregate_id=envelope["stream"],
        lineage=data["lineage"],
        license_id=data["license_id"],
        type_code=data["license_type"],
        issuer=data["issuer"],
        holder_ref=holder_ref(data["holder_id"]),
        case_id=data["case_id"],
        version=LicenseId.parse(data["license_id"]).version,
        seq=envelope["seq"],
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        status=RegistryStatus.ACTIVE,
        status_index=int(data["status_index"]),
        field_names=tuple(sorted(data["fields"])),
        issued_at=at,
        updated_at=at,
    )


def fold_license(record: LicenseRecord | None, envelope: Envelope) -> LicenseRecord:
    """Return the record after one license event (``record`` is None before the issuance)."""
    topic, data = envelope["type"], envelope["data"]
    if topic == ISSUED:
        return _issued(envelope)
    if record is None:
        raise LicenseNotIssued(
            f"expected license.Issued first for stream {envelope['stream']}, "
            f"got {topic} at seq {envelope['seq']}"
        )
    changes: dict[str, Any] = {"seq": envelope["seq"], "updated_at": envelope["at"]}
    if topic in (AMENDED, RENEWED):
        # A new version: a new id, credential and slot (the old slot is retired).
        changes["license_id"] = data["license_id"]
        changes["version"] = LicenseId.parse(data["license_id"]).version
        changes["status_index"] = int(data["status_index"])
        if topic == AMENDED:
            changes["field_names"] = tuple(sorted(data["fields"]))
        else:
            changes["valid_from"] = data["valid_from"]
            changes["valid_to"] = data["valid_to"]
    else:
        changes["status"] = _STATUS_AFTER[topic]
    return replace(record, **changes)


# --- the table ----------------------------------------------------------------------------------

# (column, kind); every column is TEXT or INTEGER, which SQLite and PostgreSQL read alike.
_COLUMNS: tuple[tuple[str, str], ...] = (
    ("aggregate_id", "uuid"),
    ("lineage", "text"),
    ("license_id", "text"),
    ("type_code", "text"),
    ("issuer", "text"),
    ("holder_ref", "text"),
    ("case_id", "uuid"),
    ("version", "int"),
    ("seq", "int"),
    ("valid_from", "time"),
    ("valid_to", "time?"),
    ("status", "status"),
    ("status_index", "int"),
    ("field_names", "texts"),
    ("issued_at", "time"),
    ("updated_at", "time"),
)
_NAMES = tuple(name for name, _ in _COLUMNS)


def record_columns(alias: str = "") -> str:
    """The record's column list for a SELECT (``alias`` qualifies each name)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + name for name in _NAMES)


def record_ddl(table: str) -> tuple[str, ...]:
    """CREATE statements of a table of license records and its look-up indexes."""
    columns = ", ".join(
        f"{name} {'INTEGER' if kind == 'int' else 'TEXT'}"
        + ("" if kind.endswith("?") else " NOT NULL")
        for name, kind in _COLUMNS
    )
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ({columns}, PRIMARY KEY (aggregate_id))",
        f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_lineage ON {table} (lineage)",
        f"CREATE INDEX IF NOT EXISTS {table}_holder ON {table} (holder_ref)",
        f"CREATE INDEX IF NOT EXISTS {table}_issuer ON {table} (issuer, status)",
    )


def _encode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    kind = kind.rstrip("?")
    if kind == "time":
        return stored_time(value)
    if kind == "texts":
        return json.dumps(list(value), ensure_ascii=False)
    if kind in ("uuid", "status"):
        return str(value)
    return value


def _decode(kind: str, value: Any) -> Any:
    if value is None:
        return None
    kind = kind.rstrip("?")
    if kind == "time":
        return read_time(str(value))
    if kind == "texts":
        return tuple(json.loads(value))
    if kind == "uuid":
        return UUID(str(value))
    if kind == "status":
        return RegistryStatus(value)
    return int(value) if kind == "int" else str(value)


def record_from_row(row: Sequence[Any]) -> LicenseRecord:
    """Rebuild a record from a row selected with ``record_columns()``."""
    return LicenseRecord(**{name: _decode(kind, row[i]) for i, (name, kind) in enumerate(_COLUMNS)})


def load_record(cursor: ViewCursor, table: str, aggregate_id: UUID) -> LicenseRecord | None:
    """Return the stored record of one license aggregate, or None."""
    cursor.execute(
        f"SELECT {record_columns()} FROM {table} WHERE aggregate_id = ?", (str(aggregate_id),)
    )
    row = cursor.fetchone()
    return None if row is None else record_from_row(row)


def save_record(cursor: ViewCursor, table: str, record: LicenseRecord) -> None:
    """Insert or replace one record."""
    updates = ", ".join(f"{name} = excluded.{name}" for name in _NAMES[1:])
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(_NAMES)}) VALUES ({', '.join('?' * len(_NAMES))}) "
        f"ON CONFLICT (aggregate_id) DO UPDATE SET {updates}",
        tuple(_encode(kind, getattr(record, name)) for name, kind in _COLUMNS),
    )


# --- the read-model base ------------------------------------------------------------------------


class LicenseTableModel(EnvelopeReadModel):
    """A read model over its own table of license records, plus the tables its subclass adds."""

    table: ClassVar[str] = ""

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """The subclass's own tables: name -> CREATE statements."""
        return {}

    def on_license_event(
        self,
        cursor: ViewCursor,
        before: LicenseRecord | None,
        after: LicenseRecord,
        envelope: Envelope,
    ) -> None:
        """Write the subclass's own rows for one license event (the record is already saved)."""

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the record table and the subclass's tables."""
        statements = record_ddl(self.table)
        for extra in self.extra_tables().values():
            statements += extra
        for statement in statements:
            cursor.execute(statement)

    def clear(self, cursor: ViewCursor) -> None:
        """Delete every derived row."""
        for table in (self.table, *self.extra_tables()):
            cursor.execute(f"DELETE FROM {table}")

    def handlers(self) -> Mapping[str, Handler]:
        """Every License event goes through the fold."""
        return dict.fromkeys(LICENSE_TOPICS, self._on_license)

    def _on_license(self, cursor: ViewCursor, envelope: Envelope, _: Notification) -> None:
        before = None
        if envelope["type"] != ISSUED:
            before = load_record(cursor, self.table, envelope["stream"])
        after = fold_license(before, envelope)
        save_record(cursor, self.table, after)
        self.on_license_event(cursor, before, after, envelope)
