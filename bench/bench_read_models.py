"""Domain read-model throughput: events/s of a rebuild of each model over a log of played cases,
and the latency of a department queue, the supervision findings and the statistics report.

    .venv/bin/python bench/bench_read_models.py [--rounds 100] [--postgres]

Each round plays the four hand-counted statistics cases (about 40 case events). SQLite by default
(a file in a temporary directory); ``--postgres`` uses a fresh schema on the server at
CASELEDGER_TEST_POSTGRES_DSN (or the local default) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ledger.persistence import postgres_env, sqlite_env  # noqa: E402
from tests.unit.projections.ledger_views import Desk, open_views, play_statistics_cases  # noqa: E402

DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
TODAY = date(2026, 3, 20)


@contextmanager
def storage(postgres: bool) -> Iterator[dict[str, str]]:
    """A fresh SQLite file or PostgreSQL schema, removed afterwards."""
    if not postgres:
        with tempfile.TemporaryDirectory() as folder:
            yield sqlite_env(Path(folder) / "bench.sqlite")
        return
    import psycopg

    dsn = os.environ.get("CASELEDGER_TEST_POSTGRES_DSN", DEFAULT_DSN)
    parts = dict(item.split("=", 1) for item in dsn.split())
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield postgres_env(
            host=parts.get("host", "127.0.0.1"),
            port=parts.get("port", "5432"),
            user=parts.get("user", "postgres"),
            password=parts.get("password", ""),
            dbname=parts.get("dbname", "test"),
            schema=schema,
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def median_ms(call: Callable[[], object], repeat: int = 20) -> float:
    """The median wall time of ``call`` in milliseconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def run(rounds: int, postgres: bool) -> None:
    """Play the cases, rebuild each model, then time the queries."""
    with storage(postgres) as env:
        views = open_views(env)
        start = time.perf_counter()
        desk = Desk(views.ledger)
        for _ in range(rounds):
            play_statistics_cases(desk)
        events = views.ledger.recorder.max_notification_id() or 0
        print(f"played {rounds * 4} cases, {events} events in {time.perf_counter() - start:.1f}s")
        for name in views.models:
            start = time.perf_counter()
            applied = views.runner.rebuild(name)
            seconds = time.perf_counter() - start
            print(f"  rebuild {name:<13} {applied / seconds:>9,.0f} events/s")
        db = views.database
        queries: dict[str, Callable[[], object]] = {
            "queue(scjgj)": lambda: views.board.queue(db, "scjgj", today=TODAY),
            "findings": lambda: views.supervision.findings(db, today=TODAY),
            "report": lambda: views.statistics.report(db),
            "audit page": lambda: views.audit.by_department(db, "scjgj"),
        }
        for label, query in queries.items():
            print(f"  {label:<16} {median_ms(query):7.2f} ms")
        views.ledger.close()


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the bench on SQLite or PostgreSQL."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args(argv)
    print("postgres" if options.postgres else "sqlite")
    run(options.rounds, options.postgres)


if __name__ == "__main__":
    main()
