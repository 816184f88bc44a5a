"""The license-use log (like Estonia's Data Tracker): every verification and shared-data read of a
license, seen by its holder, by the license and by the reading department, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from projections.audit_index import InvalidPage
from projections.case_table import read_time, stored_time
from projections.database import Database, ViewCursor
from projections.license_table import lineage_or_none
from projections.runtime import EnvelopeReadModel, Handler, decode_envelope

TABLE = "license_use_log"
USED = "license.use.Used"
MAX_PAGE = 1_000
_COLUMNS = (
    "notification_id",
    "at",
    "license_id",
    "lineage",
    "holder_ref",
    "department",
    "principal",
    "purpose",
    "kind",
    "result",
    "fields",
)


@dataclass(frozen=True)
class LicenseUseEntry:
    """One use of a license: who read it, when, why, how, with what result, which fields."""

    notification_id: int
    at: datetime
    license_id: str
    holder_ref: str
    department: str
    principal: str
    purpose: str
    kind: str
    result: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class UsePage:
    """A page of uses, newest first; pass ``next_before`` back as ``before`` (None at the end)."""

    entries: tuple[LicenseUseEntry, ...]
    next_before: int | None


def _row(envelope: dict[str, Any], notification: Notification) -> tuple[Any, ...]:
    data = envelope["data"]
    actor = envelope.get("actor")
    principal = actor.get("principal") if isinstance(actor, dict) else None
    license_id = str(data["license_id"])
    return (
        notification.id,
        stored_time(envelope["at"]),
        license_id,
        lineage_or_none(license_id),
        str(data["holder_ref"]),
        str(data["department"]),
        str(principal or ""),
        str(data["purpose"]),
        str(data["kind"]),
        str(data["result"]),
        json.dumps(list(data["fields"]), ensure_ascii=False),
    )


def _entry(row: Sequence[Any]) -> LicenseUseEntry:
    n, at, license_id, _, holder, department, principal, purpose, kind, result, fields = row
    return LicenseUseEntry(
        notification_id=int(n),
        at=read_time(str(at)),
        license_id=str(license_id),
        holder_ref=str(holder),
        department=str(department),
        principal=str(principal),
        purpose=str(purpose),
        kind=str(kind),
        result=str(result),
        fields=tuple(json.loads(fields)),
    )


class LicenseUseLog(EnvelopeReadModel):
    """One row per ``license.use.Used`` event, looked up by holder, license or department."""

    name = "license_use"

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the log and its look-ups, each ordered by notification id."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (notification_id BIGINT PRIMARY KEY, "
            "at TEXT NOT NULL, license_id TEXT NOT NULL, lineage TEXT, holder_ref TEXT NOT NULL, "
            "department TEXT NOT NULL, principal TEXT NOT NULL, purpose TEXT NOT NULL, "
            "kind TEXT NOT NULL, result TEXT NOT NULL, fields TEXT NOT NULL)"
        )
        for column in ("holder_ref", "lineage", "department"):
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {TABLE}_{column} "
                f"ON {TABLE} ({column}, notification_id)"
            )

    def clear(self, cursor: ViewCursor) -> None:
        """Forget every use."""
        cursor.execute(f"DELETE FROM {TABLE}")

    def handlers(self) -> Mapping[str, Handler]:
        """Only license uses."""
        return {USED: self._used}

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Log a page's uses with one multi-row insert."""
        rows = [_row(decode_envelope(n.state), n) for n in notifications if n.topic == USED]
        cursor.insert_many(TABLE, _COLUMNS, rows)

    def _used(
        self, cursor: ViewCursor, envelope: dict[str, Any], notification: Notification
    ) -> None:
        cursor.insert_many(TABLE, _COLUMNS, [_row(envelope, notification)])

    # -- queries ---------------------------------------------------------------------------------

    def holder_view(
        self, database: Database, holder_ref: str, *, before: int | None = None, limit: int = 50
    ) -> UsePage:
        """Return who used a holder's licenses, when and why, newest first."""
        if not holder_ref:
            # Uses of licenses this vault does not know carry no holder: nobody's view.
            return self._page(database, "holder_ref", holder_ref, before, limit, empty=True)
        return self._page(database, "holder_ref", holder_ref, before, limit)

    def license_uses(
        self, database: Database, license_id: str, *, before: int | None = None, limit: int = 50
    ) -> UsePage:
        """Return the uses of a license (any version of its lineage), newest first."""
        lineage = lineage_or_none(license_id)
        if lineage is None:
            # Not a license id (a tampered QR, say): its uses are found under the text itself.
            return self._page(database, "license_id", license_id, before, limit)
        return self._page(database, "lineage", lineage, before, limit)

    def department_uses(
        self, database: Database, department: str, *, before: int | None = None, limit: int = 50
    ) -> UsePage:
        """Return the uses a department made, newest first."""
        return self._page(database, "department", department, before, limit)

    @staticmethod
    def _page(
        database: Database,
        column: str,
        value: str,
        before: int | None,
        limit: int,
        *,
        empty: bool = False,
    ) -> UsePage:
        if not 1 <= limit <= MAX_PAGE or (before is not None and before < 1):
            raise InvalidPage(
                f"expected 1 <= limit <= {MAX_PAGE} and before >= 1 (or None), got limit "
                f"{limit}, before {before}"
            )
        if empty:
            return UsePage((), None)
        statement = f"SELECT {', '.join(_COLUMNS)} FROM {TABLE} WHERE {column} = ?"
        params: list[Any] = [value]
        if before is not None:
            statement += " AND notification_id < ?"
            params.append(before)
        with database.transaction(write=False) as cursor:
            # One row more than asked tells whether another page follows.
            cursor.execute(
                statement + " ORDER BY notification_id DESC LIMIT ?", [*params, limit + 1]
            )
            rows = cursor.fetchall()
        entries = tuple(_entry(row) for row in rows[:limit])
        return UsePage(entries, entries[-1].notification_id if len(rows) > limit else None)
