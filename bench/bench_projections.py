"""Projection runtime and transparency log throughput: catch-up events/s of the transparency log
and of a trivial counting projection, lag p50/p99 under a steady write load, and proof times in a
tree of 1,000,000 leaves.

    .venv/bin/python bench/bench_projections.py [--events 100000] [--rate 100] [--seconds 10]
        [--leaves 1000000] [--postgres]

SQLite by default (a file in a temporary directory); ``--postgres`` uses a fresh schema on the
server at CASELEDGER_TEST_POSTGRES_DSN (or the local default) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from eventsourcing.domain import Aggregate, event

from keys.keyring import KeyRing
from keys.registry import KeyIndex, KeyRecord, KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.keydirectory import LedgerKeys
from ledger.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from ledger.persistence import postgres_env, sqlite_env
from ledger.store import SignedApplication
from projections.database import Database, open_database
from projections.runtime import EventCounts, ProjectionRunner
from projections.transparency import TransparencyLog

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICER = Actor("officer-li", Role.OFFICER, department="scjgj")
ADMIN = {"principal": "admin-1", "role": "admin", "department": None, "on_behalf_of": None}
DEFAULT_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


class Tally(Aggregate):
    """A bench aggregate with the ledger's command conventions (at, actor, channel)."""

    TOPIC_PREFIX: ClassVar[str] = "bench.tally"

    @event("Opened")
    def __init__(self, *, title: str, at: datetime, actor: Actor, channel: Channel) -> None:
        self.title = title

    @event("Added")
    def add(self, *, text: str, at: datetime, actor: Actor, channel: Channel) -> None:
        pass


class BenchLedger(SignedApplication):
    name = "bench"
    aggregates = (KeyRecord, KeyIndex, Tally)


class SignedLedger:
    """A signed ledger with a root and a department seal, writing ``Tally`` events in bulk."""

    def __init__(self, env: dict[str, str]) -> None:
        self.store = InMemoryKeyStore()
        self.root = self.store.generate("root")
        seal = self.store.generate("dept-scjgj")
        directory = LedgerKeys(self.store)
        root_der = self.root.public_key_der()
        self.app = BenchLedger(
            env, directory=directory, root_public_key_der=root_der, root_kid=kid_for(root_der)
        )
        self.app.keyring = KeyRing(self.app, root_der)  # type: ignore[attr-defined]
        directory.attach(self.app.keyring)  # type: ignore[attr-defined]
        ring = self.app.keyring  # type: ignore[attr-defined]
        ring.bootstrap(
            self.root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN
        )
        ring.register(
            root=self.root,
            public_key_der=seal.public_key_der(),
            owner="scjgj",
            role=KeyRole.DEPARTMENT_SEAL,
            department="scjgj",
            valid_from=T0,
            at=T0,
            actor=ADMIN,
        )

    def write(self, events: int, per_save: int = 1000) -> float:
        """Write about ``events`` events in saves of ``per_save``; return the seconds taken."""
        start = time.perf_counter()
        written = 0
        while written < events:
            lines = min(per_save, events - written) - 1
            tally = Tally(title="bulk", at=T0, actor=OFFICER, channel=Channel.WINDOW)
            for i in range(lines):
                at = T0 + timedelta(seconds=i)
                tally.add(text=f"line {i}", at=at, actor=OFFICER, channel=Channel.WINDOW)
            self.app.save(tally)
            written += lines + 1
        return time.perf_counter() - start


@contextmanager
def storage(postgres: bool) -> Iterator[dict[str, str]]:
    """Yield eventsourcing settings for a fresh store; remove it afterwards."""
    if not postgres:
        with tempfile.TemporaryDirectory() as tmp:
            yield sqlite_env(Path(tmp) / "bench.sqlite")
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
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def catch_up(ledger: SignedLedger, events: int) -> None:
    """Catch-up throughput of each projection over the same log."""
    seconds = ledger.write(events)
    total = int(ledger.app.recorder.max_notification_id())
    print(
        f"\ncatch-up over {total} signed events (written in {seconds:.1f} s, "
        f"{total / seconds:.0f} events/s)"
    )
    print(f"  {'projection':<28}{'seconds':>10}{'events/s':>12}")
    database = open_database(ledger.app.recorder)
    log = TransparencyLog(database, signer=Ed25519Signer.generate())
    for model in (EventCounts(), log):
        runner = ProjectionRunner(ledger.app.recorder, [model], database=database)
        start = time.perf_counter()
        applied = runner.run_once()
        elapsed = time.perf_counter() - start
        print(f"  {model.name:<28}{elapsed:>10.2f}{applied / elapsed:>12.0f}")
    log.checkpoint(datetime.now(UTC))


def lag_under_load(ledger: SignedLedger, rate: float, seconds: float) -> None:
    """Lag of the transparency log and counts while a writer appends at a fixed rate."""
    database = open_database(ledger.app.recorder)
    log = TransparencyLog(database, signer=Ed25519Signer.generate(), prefix="lagtlog")
    runner = ProjectionRunner(ledger.app.recorder, [log, EventCounts()], database=database)
    runner.rebuild(log.name)
    runner.run_once()
    tally = Tally(title="live", at=datetime.now(UTC), actor=OFFICER, channel=Channel.ONLINE)
    ledger.app.save(tally)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        interval, next_at = 1.0 / rate, time.perf_counter()
        while not stop.is_set():
            tally.add(text="x", at=datetime.now(UTC), actor=OFFICER, channel=Channel.ONLINE)
            ledger.app.save(tally)
            written[0] += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def poll() -> None:
        def checkpoint() -> object:
            return log.maybe_checkpoint(datetime.now(UTC))

        runner.run_forever(stop, poll_interval=0.05, after_poll=checkpoint)

    threads = [threading.Thread(target=writer), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    samples: list[float] = []
    behind: list[int] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        lag = runner.lag(datetime.now(UTC))
        samples.append(lag.seconds)
        behind.append(lag.events)
        time.sleep(0.02)
    stop.set()
    for thread in threads:
        thread.join()
    q = statistics.quantiles(samples, n=100)
    print(
        f"\nlag under a steady load: {written[0] / seconds:.0f} events/s written for "
        f"{seconds:.0f} s, runner polling every 50 ms, {len(samples)} samples"
    )
    print(f"  {'lag':<28}{'p50':>10}{'p99':>10}{'max':>10}")
    print(
        f"  {'seconds behind':<28}{statistics.median(samples):>10.3f}{q[98]:>10.3f}"
        f"{max(samples):>10.3f}"
    )
    qe = statistics.quantiles(behind, n=100)
    print(
        f"  {'events behind':<28}{statistics.median(behind):>10.0f}{qe[98]:>10.0f}"
        f"{max(behind):>10.0f}"
    )


def build_nodes(database: Database, leaves: int) -> MemoryTree:
    """Fill a node table with a tree of ``leaves`` synthetic leaf hashes (no events)."""
    tree = MemoryTree()
    for i in range(leaves):
        tree.append_leaf_hash(leaf_hash(i.to_bytes(8, "big")))
    rows = [
        (level, index, tree.node(level, index))
        for level in range(64)
        if (leaves >> level) > 0
        for index in range(leaves >> level)
    ]
    with database.transaction() as cursor:
        for statement in database.ddl("transparency", prefix="big"):
            cursor.execute(statement)
        if database.dialect == "postgres":
            for s in range(0, len(rows), 100_000):
                part = rows[s : s + 100_000]
                cursor.execute(
                    "INSERT INTO big_nodes (level, idx, hash) "
                    "SELECT * FROM unnest(?::smallint[], ?::bigint[], ?::bytea[])",
                    ([r[0] for r in part], [r[1] for r in part], [r[2] for r in part]),
                )
        else:
            cursor.executemany("INSERT INTO big_nodes (level, idx, hash) VALUES (?, ?, ?)", rows)
    # A table that grew gradually would have statistics by now; a bulk load needs them made.
    with database.transaction() as cursor:
        cursor.execute("ANALYZE big_nodes")
    return tree


def proofs(ledger: SignedLedger, leaves: int) -> None:
    """Proof times in a stored tree of ``leaves`` leaves."""
    database = open_database(ledger.app.recorder)
    start = time.perf_counter()
    tree = build_nodes(database, leaves)
    print(
        f"\nproofs in a stored tree of {leaves} leaves (table built in "
        f"{time.perf_counter() - start:.1f} s)"
    )
    log = TransparencyLog(database, prefix="big")
    head = log.root()
    rng = random.Random(7)
    rows = []
    timings: list[float] = []
    for _ in range(300):
        index = rng.randrange(leaves)
        t = time.perf_counter()
        proof = log.inclusion_proof(index, leaves)
        timings.append(time.perf_counter() - t)
        verify_inclusion(tree.node(0, index), index, leaves, proof, head)
    rows.append(("inclusion proof", timings))
    timings = []
    for _ in range(300):
        old = rng.randrange(1, leaves)
        t = time.perf_counter()
        proof = log.consistency_proof(old, leaves)
        timings.append(time.perf_counter() - t)
        verify_consistency(old, leaves, log.root(old), head, proof)
    rows.append(("consistency proof", timings))
    timings = []
    for _ in range(300):
        size = rng.randrange(1, leaves + 1)
        t = time.perf_counter()
        log.root(size)
        timings.append(time.perf_counter() - t)
    rows.append(("root(size)", timings))
    print(f"  {'query (300 random)':<28}{'p50 ms':>10}{'p99 ms':>10}")
    for name, values in rows:
        q = statistics.quantiles(values, n=100)
        print(f"  {name:<28}{statistics.median(values) * 1000:>10.2f}{q[98] * 1000:>10.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events for catch-up")
    parser.add_argument("--rate", type=float, default=100.0, help="writer events/s for lag")
    parser.add_argument("--seconds", type=float, default=10.0, help="lag measurement length")
    parser.add_argument("--leaves", type=int, default=1_000_000, help="tree size for proofs")
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    args = parser.parse_args(argv)
    print(f"storage: {'PostgreSQL' if args.postgres else 'SQLite'}")
    with storage(args.postgres) as env:
        ledger = SignedLedger(env)
        try:
            catch_up(ledger, args.events)
            lag_under_load(ledger, args.rate, args.seconds)
            proofs(ledger, args.leaves)
        finally:
            ledger.app.close()


if __name__ == "__main__":
    main()
