"""Storage environments: every integration test body runs against SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.persistence import postgres_env, sqlite_env
from tests.conftest import postgres_params


@pytest.fixture(params=["sqlite", "postgres"])
def storage_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """eventsourcing settings for a fresh, empty store of each kind."""
    if request.param == "sqlite":
        return sqlite_env(tmp_path / "ledger.sqlite")
    schema: str = request.getfixturevalue("postgres_schema")
    p = postgres_params()
    return postgres_env(
        host=p["POSTGRES_HOST"],
        port=p["POSTGRES_PORT"],
        user=p["POSTGRES_USER"],
        password=p["POSTGRES_PASSWORD"],
        dbname=p["POSTGRES_DBNAME"],
        schema=schema,
    )
