"""Domain read-model throughput: events/s of a rebuild of each model over a log of played cases,
and the latency of a department queue, the supervision findings and the statistics report.

    .venv/bin/python bench/bench_read_models.py [--rounds 100] [--postgres]

Each round plays the four hand-counted statistics cases (about 40 case events). SQLite by default
(a file in a temporary directory); ``--postgres`` uses a fresh schema on the server at
CASELEDGER_TEST_POSTGRES_DSN (or the local default) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.unit.projections.ledger_views import Desk, open_views, play_statistics_cases  # noqa: E402

# Run as a script, this file's directory is on sys.path: the store set-up lives there.
from bench_projections import storage  # noqa: E402  # isort: skip

TODAY = date(2026, 3, 20)


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
