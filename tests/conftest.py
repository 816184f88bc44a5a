"""Shared fixtures: where the published vectors live and how to reach PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def vectors_dir() -> Path:
    """Return the published conformance vectors directory (``../shared/vectors``)."""
    override = os.environ.get("CASELEDGER_VECTORS_DIR")
    return Path(override) if override else REPO.parent / "shared" / "vectors"


def postgres_dsn() -> str:
    """Return the DSN of the test PostgreSQL server (env override, else the local default)."""
    return os.environ.get(
        "CASELEDGER_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test"
    )


def postgres_required() -> bool:
    """Whether a missing PostgreSQL server is a failure (CI) rather than a skip."""
    return os.environ.get("CASELEDGER_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def postgres_params() -> dict[str, str]:
    """Split the DSN into the eventsourcing POSTGRES_* settings."""
    parts = dict(item.split("=", 1) for item in postgres_dsn().split())
    return {
        "POSTGRES_HOST": parts.get("host", "127.0.0.1"),
        "POSTGRES_PORT": parts.get("port", "5432"),
        "POSTGRES_USER": parts.get("user", "postgres"),
        "POSTGRES_PASSWORD": parts.get("password", ""),
        "POSTGRES_DBNAME": parts.get("dbname", "test"),
    }


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    """Connect once; skip PostgreSQL tests when no server answers, fail instead in CI."""
    try:
        import psycopg

        with psycopg.connect(postgres_dsn(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any failure to connect means "no server here"
        if postgres_required():
            pytest.fail(f"PostgreSQL is required (CASELEDGER_REQUIRE_POSTGRES) but: {exc}")
        return False
    return True


@pytest.fixture
def postgres_schema(postgres_available: bool) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards; skips when PostgreSQL is absent."""
    if not postgres_available:
        pytest.skip("no PostgreSQL server at CASELEDGER_TEST_POSTGRES_DSN")
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(postgres_dsn(), autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
