"""The ledger's PostgreSQL recorder: eventsourcing's own application recorder, except that a
process starting beside others leaves the events table and its index alone when they are there.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder

# ``CREATE UNIQUE INDEX IF NOT EXISTS`` takes a SHARE lock on the table before it finds the index
# in place, so a process starting while others write events would queue behind every open write.
_SKIPPED_WHEN_PRESENT = ("CREATE TABLE IF NOT EXISTS", "INDEX IF NOT EXISTS")
_PRESENT = "SELECT to_regclass(%s) IS NOT NULL AND to_regclass(%s) IS NOT NULL AS present"


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    """Creates the events table and its index only where they are missing."""

    def _create_table(self, curs: Any) -> None:
        schema = self.datastore.schema
        names = (
            f'"{schema}"."{self.events_table_name}"',
            f'"{schema}"."{self.notification_id_index_name}"',
        )
        curs.execute(_PRESENT, names, prepare=False)
        row = curs.fetchone()
        if not (row and row["present"]):
            super()._create_table(curs)
            return
        # Types and functions (with database functions on) are still made or replaced.
        for statement in self.sql_create_statements:
            text = statement.as_string()
            if "CREATE TYPE" not in text and not any(s in text for s in _SKIPPED_WHEN_PRESENT):
                curs.execute(statement, prepare=False)
