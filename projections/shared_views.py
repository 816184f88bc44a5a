"""Shared-data views: per consuming department, what its sharing policy lets it read (license
types, fields, purposes), and per (department, holder) the licenses it could read with those
fields, kept current as licenses are issued, amended, suspended and revoked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from licenses.model import LicenseState
from licenses.types import LicenseTypes
from licenses.usage import SharingPolicies
from projections.case_facts import ReadModelError
from projections.case_table import read_time, stored_time
from projections.database import Database, ViewCursor
from projections.license_table import (
    Envelope,
    LicenseRecord,
    LicenseTableModel,
    RegistryStatus,
    license_state,
)

VIEWS = "shared_views"
_COLUMNS = (
    "department",
    "holder_ref",
    "lineage",
    "purpose",
    "license_id",
    "license_type",
    "issuer",
    "fields",
    "status",
    "valid_from",
    "valid_to",
    "issued_at",
)


class UnknownSharedType(ReadModelError):
    """A sharing rule names a license type the type registry does not hold."""


@dataclass(frozen=True)
class PolicyEntry:
    """One rule of a department's policy: a license type, its readable fields, the purposes."""

    department: str
    license_type: str  # catalog code, e.g. "yyzz"
    type_code: str  # GB/T 36904 type code, as licenses carry it
    type_name: str
    fields: tuple[str, ...]
    purposes: tuple[str, ...]


@dataclass(frozen=True)
class ReadableLicense:
    """One license a department could read for one purpose, and the fields it would see."""

    department: str
    holder_ref: str
    license_id: str
    license_type: str
    issuer: str
    purpose: str
    fields: tuple[str, ...]
    status: RegistryStatus
    valid_from: datetime
    valid_to: datetime | None

    def state(self, now: datetime) -> LicenseState:
        """Where the license stands at ``now``."""
        return license_state(self.status, self.valid_from, self.valid_to, now)


class SharedViews(LicenseTableModel):
    """Sharing policies joined with the licenses issued (rebuild it when the policies change)."""

    name = "shared_views"
    table = "shared_view_licenses"

    def __init__(self, policies: SharingPolicies, types: LicenseTypes) -> None:
        self.policies = policies
        self.types = types
        self._codes = {t.type_code: t.code for t in types.by_code.values()}
        for department, rules in policies.rules.items():
            for rule in rules:
                if rule.license_type not in types.by_code:
                    raise UnknownSharedType(
                        f"department {department!r}: expected a license type among "
                        f"{sorted(types.by_code)}, got {rule.license_type!r}"
                    )

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """One row per (department, holder, license, purpose) the policies allow."""
        return {
            VIEWS: (
                f"CREATE TABLE IF NOT EXISTS {VIEWS} (department TEXT NOT NULL, "
                "holder_ref TEXT NOT NULL, lineage TEXT NOT NULL, purpose TEXT NOT NULL, "
                "license_id TEXT NOT NULL, license_type TEXT NOT NULL, issuer TEXT NOT NULL, "
                "fields TEXT NOT NULL, status TEXT NOT NULL, valid_from TEXT NOT NULL, "
                "valid_to TEXT, issued_at TEXT NOT NULL, "
                "PRIMARY KEY (department, holder_ref, lineage, purpose))",
                f"CREATE INDEX IF NOT EXISTS {VIEWS}_lineage ON {VIEWS} (lineage)",
            )
        }

    def on_license_event(
        self,
        cursor: ViewCursor,
        before: LicenseRecord | None,
        after: LicenseRecord,
        envelope: Envelope,
    ) -> None:
        """Rewrite the license's rows; a revoked license is no longer shared."""
        cursor.execute(f"DELETE FROM {VIEWS} WHERE lineage = ?", (after.lineage,))
        if after.status is not RegistryStatus.REVOKED:
            cursor.executemany(
                f"INSERT INTO {VIEWS} ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                self._rows(after),
            )

    def _rows(self, record: LicenseRecord) -> list[tuple[Any, ...]]:
        code = self._codes.get(record.type_code)
        if code is None:
            return []
        rows = []
        for department, rules in sorted(self.policies.rules.items()):
            purposes = {p: None for r in rules if r.license_type == code for p in r.purposes}
            for purpose in purposes:
                # The sharing service's own rule: the first rule naming type and purpose.
                allowed = self.policies.allowed_fields(department, code, purpose)
                if not allowed:
                    continue
                fields = [name for name in allowed if name in record.field_names]
                rows.append(
                    (
                        department,
                        record.holder_ref,
                        record.lineage,
                        purpose,
                        record.license_id,
                        code,
                        record.issuer,
                        json.dumps(fields, ensure_ascii=False),
                        str(record.status),
                        stored_time(record.valid_from),
                        None if record.valid_to is None else stored_time(record.valid_to),
                        stored_time(record.issued_at),
                    )
                )
        return rows

    # -- queries ---------------------------------------------------------------------------------

    def departments(self) -> tuple[str, ...]:
        """Return the consuming departments that have a sharing policy."""
        return tuple(sorted(self.policies.rules))

    def policy(self, department: str) -> tuple[PolicyEntry, ...]:
        """Return a department's policy: which license types and fields, for which purposes."""
        entries = []
        for rule in self.policies.rules_for(department):
            license_type = self.types.get(rule.license_type)
            entries.append(
                PolicyEntry(
                    department=department,
                    license_type=rule.license_type,
                    type_code=license_type.type_code,
                    type_name=license_type.name,
                    fields=rule.fields,
                    purposes=rule.purposes,
                )
            )
        return tuple(entries)

    def readable(
        self,
        database: Database,
        department: str,
        holder_ref: str,
        *,
        purpose: str | None = None,
    ) -> list[ReadableLicense]:
        """Return the licenses a department could read of a holder (for ``purpose``, else any)."""
        statement = (
            f"SELECT {', '.join(_COLUMNS)} FROM {VIEWS} WHERE department = ? AND holder_ref = ?"
        )
        params = [department, holder_ref]
        if purpose is not None:
            statement += " AND purpose = ?"
            params.append(purpose)
        with database.transaction(write=False) as cursor:
            cursor.execute(statement, params)
            # Sorted here: PostgreSQL's collation may order Chinese purposes unlike SQLite's.
            rows = sorted(cursor.fetchall(), key=lambda row: (row[11], row[2], row[3]))
        return [
            ReadableLicense(
                department=str(dept),
                holder_ref=str(holder),
                license_id=str(license_id),
                license_type=str(license_type),
                issuer=str(issuer),
                purpose=str(purpose_),
                fields=tuple(json.loads(fields)),
                status=RegistryStatus(status),
                valid_from=read_time(str(valid_from)),
                valid_to=None if valid_to is None else read_time(str(valid_to)),
            )
            for (
                dept,
                holder,
                _,
                purpose_,
                license_id,
                license_type,
                issuer,
                fields,
                status,
                valid_from,
                valid_to,
                _,
            ) in rows
        ]
