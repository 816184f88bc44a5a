"""Settings from the environment, read when asked for (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class Settings:
    """Where the data lives and which database holds the ledger."""

    data_dir: Path
    database_url: str  # "sqlite" (embedded default, a file in data_dir) or postgresql://...
    region: str
    # Deadlines reaching into a year whose State Council holiday notice is not yet published:
    # refused by default; with this on, counted on weekends only and flagged provisional.
    provisional_calendar: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``CASELEDGER_DATA``, ``CASELEDGER_DATABASE_URL`` and ``CASELEDGER_REGION``."""
        env = os.environ if environ is None else environ
        return cls(
            data_dir=Path(env.get("CASELEDGER_DATA", "data")).resolve(),
            database_url=env.get("CASELEDGER_DATABASE_URL", "sqlite"),
            region=env.get("CASELEDGER_REGION", "资阳市"),
            provisional_calendar=env.get("CASELEDGER_PROVISIONAL_CALENDAR", "") in ("1", "true"),
        )

    @property
    def uses_postgres(self) -> bool:
        """Whether the ledger lives in PostgreSQL rather than the embedded SQLite file."""
        return self.database_url.startswith(("postgresql://", "postgres://"))

    def postgres_parts(self) -> dict[str, str]:
        """Split a postgresql:// URL into host, port, user, password, dbname and schema."""
        url = urlparse(self.database_url)
        query = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p)
        return {
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "user": unquote(url.username or "postgres"),
            "password": unquote(url.password or ""),
            "dbname": url.path.lstrip("/") or "caseledger",
            "schema": query.get("schema", ""),
        }

    @property
    def sqlite_path(self) -> Path:
        """The embedded database file."""
        return self.data_dir / "ledger.sqlite"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process's settings (read once, on first use)."""
    return Settings.from_env()
