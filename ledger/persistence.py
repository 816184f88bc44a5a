"""Where the ledger's events live: environment settings for SQLite (embedded default) and
PostgreSQL, and the append-only guard installed on the events table of either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

APPEND_ONLY_FUNCTION = "caseledger_refuse_change"


def sqlite_env(db_path: Path) -> dict[str, str]:
    """Return eventsourcing settings for a SQLite file (created if missing)."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(db_path),
        "SQLITE_LOCK_TIMEOUT": "10",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
    }


def postgres_env(
    *,
    host: str = "127.0.0.1",
    port: str = "5432",
    user: str = "postgres",
    password: str = "",
    dbname: str = "caseledger",
    schema: str = "",
) -> dict[str, str]:
    """Return eventsourcing settings for PostgreSQL through the library's psycopg 3 recorder."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": port,
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DBNAME": dbname,
        # Kept off on purpose: with it on, process recorders drop tracking rows and concurrent
        # readers can miss events (measured with eventsourcing 9.5).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        # The library's recorder, but one that leaves an events table in place alone at start-up.
        "APPLICATION_RECORDER_TOPIC": "ledger.postgres_recorder:LedgerPostgresRecorder",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        "AGGREGATE_CACHE_MAXSIZE": "1000",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


def recorder_kind(recorder: object) -> str | None:
    """``"postgres"`` or ``"sqlite"`` for eventsourcing's SQL recorders (and subclasses of them)."""
    for kind in type(recorder).__mro__:
        if kind.__module__ in ("eventsourcing.postgres", "eventsourcing.sqlite"):
            return kind.__module__.removeprefix("eventsourcing.")
    return None


def install_append_only_guard(recorder: Any) -> None:
    """Make the events table refuse UPDATE, DELETE (and on PostgreSQL, TRUNCATE)."""
    table = getattr(recorder, "events_table_name", None)
    if table is None:
        return  # the in-memory (POPO) recorder used by unit tests has no table to guard
    datastore = recorder.datastore
    if recorder_kind(recorder) == "postgres":
        schema = datastore.schema
        qualified = f'"{schema}"."{table}"'
        function = f'"{schema}".{APPEND_ONLY_FUNCTION}'
        statements = [
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'caseledger events are append-only: % on % refused', "
            "TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege'; END $$",
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {qualified}",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {qualified} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {qualified}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {qualified} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
        present = (
            "SELECT COUNT(*) = 2 AS present FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
            "AND tgname IN (%s, %s)"
        )
        names = (qualified, f"{table}_append_only", f"{table}_no_truncate")
        with datastore.transaction(commit=True) as cursor:
            # Serialise concurrent installers (several API processes starting at once).
            cursor.execute("SELECT pg_advisory_xact_lock(2026112201)")
            cursor.execute(present, names)
            row = cursor.fetchone()
            # Replacing a guard that is there takes an exclusive lock on the events table and so
            # waits for every transaction writing events in the other processes: leave it be.
            if not (row and row["present"]):
                for statement in statements:
                    cursor.execute(statement)
    elif recorder_kind(recorder) == "sqlite":
        statements = [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'caseledger events are append-only: UPDATE refused'); END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'caseledger events are append-only: DELETE refused'); END",
        ]
        with datastore.transaction(commit=True) as cursor:
            for statement in statements:
                cursor.execute(statement)
