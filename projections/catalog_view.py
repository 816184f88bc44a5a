"""The published service catalog by implementation code: each item's newest terms, every version
with its effective time, and withdrawals, for the board, statistics and the public listing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import Notification

from projections.case_table import read_time, stored_time
from projections.database import Database, ViewCursor
from projections.runtime import EnvelopeReadModel, Handler

ITEMS = "catalog_items"
VERSIONS = "catalog_item_versions"

# Version columns, in the order the row is written and read.
_VERSION_COLUMNS = (
    "code",
    "version",
    "effective_from",
    "basic_code",
    "name",
    "name_en",
    "item_type",
    "lead_department",
    "joint_departments",
    "statutory_days",
    "promised_days",
    "handling",
    "visit_target",
    "reform_status",
    "published_at",
    "seq",
)


@dataclass(frozen=True)
class ItemVersion:
    """One published version of an item's terms (the fields the read side lists)."""

    code: str
    version: int
    effective_from: datetime
    basic_code: str
    name: str
    name_en: str
    item_type: str
    lead_department: str
    joint_departments: tuple[str, ...]
    statutory_days: int
    promised_days: int
    handling: str
    visit_target: int
    reform_status: str
    published_at: datetime
    seq: int


@dataclass(frozen=True)
class CatalogItem:
    """An item: its newest version and, if withdrawn, from when and why."""

    latest: ItemVersion
    withdrawn_from: datetime | None
    withdrawal_reason: str | None

    @property
    def code(self) -> str:
        """The implementation code (实施编码)."""
        return self.latest.code


def _version_row(envelope: Mapping[str, Any]) -> tuple[Any, ...]:
    terms = envelope["data"]["terms"]
    effective = terms["effective_from"]
    if isinstance(effective, str):
        effective = datetime.fromisoformat(effective)
    return (
        terms["implementation_code"],
        int(terms["version"]),
        stored_time(effective),
        terms["basic_code"],
        terms["name"],
        terms.get("name_en", ""),
        terms["item_type"],
        terms["lead_department"],
        json.dumps(list(terms.get("joint_departments", ())), ensure_ascii=False),
        int(terms["statutory_days"]),
        int(terms["promised_days"]),
        terms["handling"],
        int(terms["visit_target"]),
        terms["reform_status"],
        stored_time(envelope["at"]),
        int(envelope["seq"]),
    )


def _version(row: tuple[Any, ...]) -> ItemVersion:
    values = dict(zip(_VERSION_COLUMNS, row, strict=False))
    return ItemVersion(
        code=str(values["code"]),
        version=int(values["version"]),
        effective_from=read_time(values["effective_from"]),
        basic_code=str(values["basic_code"]),
        name=str(values["name"]),
        name_en=str(values["name_en"]),
        item_type=str(values["item_type"]),
        lead_department=str(values["lead_department"]),
        joint_departments=tuple(json.loads(values["joint_departments"])),
        statutory_days=int(values["statutory_days"]),
        promised_days=int(values["promised_days"]),
        handling=str(values["handling"]),
        visit_target=int(values["visit_target"]),
        reform_status=str(values["reform_status"]),
        published_at=read_time(values["published_at"]),
        seq=int(values["seq"]),
    )


class CatalogView(EnvelopeReadModel):
    """Items by implementation code, every version, and withdrawals."""

    name = "catalog_view"

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the version table and the per-item table."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {VERSIONS} (code TEXT NOT NULL, "
            "version INTEGER NOT NULL, effective_from TEXT NOT NULL, basic_code TEXT NOT NULL, "
            "name TEXT NOT NULL, name_en TEXT NOT NULL, item_type TEXT NOT NULL, "
            "lead_department TEXT NOT NULL, joint_departments TEXT NOT NULL, "
            "statutory_days INTEGER NOT NULL, promised_days INTEGER NOT NULL, "
            "handling TEXT NOT NULL, visit_target INTEGER NOT NULL, reform_status TEXT NOT NULL, "
            "published_at TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (code, version))"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ITEMS} (code TEXT PRIMARY KEY, stream TEXT NOT NULL, "
            "latest_version INTEGER NOT NULL, lead_department TEXT NOT NULL, "
            "withdrawn_from TEXT, withdrawal_reason TEXT)"
        )

    def clear(self, cursor: ViewCursor) -> None:
        """Forget every item and version."""
        cursor.execute(f"DELETE FROM {ITEMS}")
        cursor.execute(f"DELETE FROM {VERSIONS}")

    def handlers(self) -> Mapping[str, Handler]:
        """Publication, amendment and withdrawal of items."""
        return {
            "catalog.item.Published": self._version,
            "catalog.item.Amended": self._version,
            "catalog.item.Withdrawn": self._withdrawn,
        }

    def _version(self, cursor: ViewCursor, envelope: dict[str, Any], _: Notification) -> None:
        row = _version_row(envelope)
        cursor.execute(
            f"INSERT INTO {VERSIONS} ({', '.join(_VERSION_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _VERSION_COLUMNS)})",
            row,
        )
        cursor.execute(
            f"INSERT INTO {ITEMS} (code, stream, latest_version, lead_department) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET "
            "latest_version = excluded.latest_version, lead_department = excluded.lead_department",
            (row[0], str(envelope["stream"]), row[1], row[7]),
        )

    def _withdrawn(self, cursor: ViewCursor, envelope: dict[str, Any], _: Notification) -> None:
        # The withdrawal names no code: its stream is the item's.
        data = envelope["data"]
        cursor.execute(
            f"UPDATE {ITEMS} SET withdrawn_from = ?, withdrawal_reason = ? WHERE stream = ?",
            (stored_time(data["effective_from"]), data["reason"], str(envelope["stream"])),
        )

    # -- queries ---------------------------------------------------------------------------------

    def item(self, database: Database, code: str) -> CatalogItem | None:
        """Return one item by implementation code, or None."""
        found = self._items(database, "WHERE i.code = ?", (code,))
        return found[0] if found else None

    def items(self, database: Database, *, department: str | None = None) -> list[CatalogItem]:
        """Return every item (of one lead department), by code."""
        if department is None:
            return self._items(database, "", ())
        return self._items(database, "WHERE i.lead_department = ?", (department,))

    def versions(self, database: Database, code: str) -> list[ItemVersion]:
        """Return every version of an item, oldest first."""
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {', '.join(_VERSION_COLUMNS)} FROM {VERSIONS} WHERE code = ? "
                "ORDER BY version",
                (code,),
            )
            return [_version(row) for row in cursor.fetchall()]

    def in_force(self, database: Database, code: str, at: datetime) -> ItemVersion | None:
        """Return the version in force at ``at`` (None before the first or after withdrawal)."""
        item = self.item(database, code)
        if item is None or (item.withdrawn_from is not None and at >= item.withdrawn_from):
            return None
        started = [v for v in self.versions(database, code) if v.effective_from <= at]
        return started[-1] if started else None

    @staticmethod
    def _items(database: Database, where: str, params: tuple[Any, ...]) -> list[CatalogItem]:
        columns = ", ".join(f"v.{c}" for c in _VERSION_COLUMNS)
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {columns}, i.withdrawn_from, i.withdrawal_reason FROM {ITEMS} i "
                f"JOIN {VERSIONS} v ON v.code = i.code AND v.version = i.latest_version "
                f"{where} ORDER BY i.code",
                params,
            )
            rows = cursor.fetchall()
        return [
            CatalogItem(
                latest=_version(row),
                withdrawn_from=None if row[-2] is None else read_time(row[-2]),
                withdrawal_reason=None if row[-1] is None else str(row[-1]),
            )
            for row in rows
        ]
