"""The license registry: one row per license lineage, found by any version's id, by holder (only a
pseudonymous reference is stored) or by issuer, and each issuer's status-list slots, so a status
list is built from the read model instead of a scan of the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ledger.sharing_service import holder_ref
from licenses.model import LicenseState, SlotStatus
from licenses.status import StatusList
from projections.database import Database, ViewCursor
from projections.license_table import (
    Envelope,
    LicenseRecord,
    LicenseTableModel,
    RegistryStatus,
    check_now,
    lineage_or_none,
    record_columns,
    record_from_row,
)

SLOTS = "license_status_slots"


class LicenseRegistry(LicenseTableModel):
    """Every license lineage's current row, and each issuer's status-list slots."""

    name = "license_registry"
    table = "license_registry"

    def extra_tables(self) -> Mapping[str, tuple[str, ...]]:
        """One row per reserved slot of an issuer's list: its lineage and its 2-bit status."""
        return {
            SLOTS: (
                f"CREATE TABLE IF NOT EXISTS {SLOTS} (issuer TEXT NOT NULL, slot INTEGER NOT NULL, "
                "lineage TEXT NOT NULL, status INTEGER NOT NULL, PRIMARY KEY (issuer, slot))",
            )
        }

    def on_license_event(
        self,
        cursor: ViewCursor,
        before: LicenseRecord | None,
        after: LicenseRecord,
        envelope: Envelope,
    ) -> None:
        """Set the current slot from the status; a new version retires (revokes) the old slot."""
        rows = [(after.issuer, after.status_index, after.lineage, int(after.slot_status))]
        retired = envelope["data"].get("retired_index")
        if retired is not None:
            rows.append((after.issuer, int(retired), after.lineage, int(SlotStatus.REVOKED)))
        cursor.executemany(
            f"INSERT INTO {SLOTS} (issuer, slot, lineage, status) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (issuer, slot) DO UPDATE SET lineage = excluded.lineage, "
            "status = excluded.status",
            rows,
        )

    # -- queries ---------------------------------------------------------------------------------

    def license(self, database: Database, license_id: str) -> LicenseRecord | None:
        """Return the lineage of ``license_id`` (any of its versions), or None."""
        lineage = lineage_or_none(license_id)
        if lineage is None:
            return None
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {record_columns()} FROM {self.table} WHERE lineage = ?", (lineage,)
            )
            row = cursor.fetchone()
        return None if row is None else record_from_row(row)

    def by_holder(self, database: Database, holder_id: str) -> list[LicenseRecord]:
        """Return a holder's licenses in issuance order (looked up by the holder reference)."""
        return self._select(database, "holder_ref = ?", (holder_ref(holder_id),))

    def by_issuer(self, database: Database, issuer: str) -> list[LicenseRecord]:
        """Return the licenses an issuing department issued, in issuance order."""
        return self._select(database, "issuer = ?", (issuer,))

    def status_counts(
        self, database: Database, *, now: datetime, issuer: str | None = None
    ) -> dict[LicenseState, int]:
        """Return how many licenses (of ``issuer``, else all) are in each state at ``now``."""
        at = check_now(now)
        # The same precedence as ``license_state``; the states are constants, not input.
        statement = (
            "SELECT CASE "
            f"WHEN status = '{RegistryStatus.REVOKED}' THEN '{LicenseState.REVOKED}' "
            f"WHEN valid_to IS NOT NULL AND valid_to <= ? THEN '{LicenseState.EXPIRED}' "
            f"WHEN status = '{RegistryStatus.SUSPENDED}' THEN '{LicenseState.SUSPENDED}' "
            f"WHEN valid_from > ? THEN '{LicenseState.NOT_YET_VALID}' "
            f"ELSE '{LicenseState.ACTIVE}' END, COUNT(*) FROM {self.table}"
        )
        params: list[str] = [at, at]
        if issuer is not None:
            statement += " WHERE issuer = ?"
            params.append(issuer)
        with database.transaction(write=False) as cursor:
            cursor.execute(statement + " GROUP BY 1", params)
            found = {LicenseState(state): int(n) for state, n in cursor.fetchall()}
        return {state: found.get(state, 0) for state in LicenseState}

    def status_slots(
        self, database: Database, issuer: str, *, include_valid: bool = False
    ) -> dict[int, SlotStatus]:
        """Return the issuer's revoked and suspended slots (every reserved one if asked)."""
        statement = f"SELECT slot, status FROM {SLOTS} WHERE issuer = ?"
        if not include_valid:
            statement += f" AND status <> {int(SlotStatus.VALID)}"
        with database.transaction(write=False) as cursor:
            cursor.execute(statement + " ORDER BY slot", (issuer,))
            return {int(slot): SlotStatus(int(status)) for slot, status in cursor.fetchall()}

    def status_list(self, database: Database, issuer: str) -> StatusList:
        """Return the issuer's status list (unsigned) as the registry sees it."""
        status = StatusList()
        for index, slot in self.status_slots(database, issuer).items():
            status.set(index, slot)
        return status

    def _select(self, database: Database, where: str, params: Sequence[Any]) -> list[LicenseRecord]:
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {record_columns()} FROM {self.table} WHERE {where} "
                "ORDER BY issued_at, lineage",
                params,
            )
            return [record_from_row(row) for row in cursor.fetchall()]
