"""Storage environments: every integration test body runs against SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.application import CaseLedger
from ledger.calendar import load_calendar
from ledger.persistence import postgres_env, sqlite_env
from tests.conftest import postgres_params
from tests.unit.ledger.conftest import make_ledger


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


class Pair:
    """A provisioned ledger and a way to open a second, cache-free process on the same store."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.ledger, self.store = make_ledger(env)
        self.others: list[CaseLedger] = []

    def another(self) -> CaseLedger:
        other = CaseLedger(
            self.env,
            key_store=self.store,
            root_public_key_der=self.store.signer("root").public_key_der(),
            calendar=load_calendar(),
        )
        self.others.append(other)
        return other


@pytest.fixture
def pair(storage_env: dict[str, str]) -> Iterator[Pair]:
    """A provisioned ledger on each kind of storage, and other processes on it."""
    p = Pair(storage_env)
    yield p
    for app in (p.ledger, *p.others):
        app.close()
