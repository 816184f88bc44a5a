"""The projection runtime on real SQLite and PostgreSQL: exactly-once batches, resume after a
crash (in-process and a real SIGKILL), rebuilds equal to the live model, lag, and polling."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

import pytest
from eventsourcing.persistence import Notification

from projections.database import Database, ViewCursor, open_recorder
from projections.errors import ProjectionError, UnknownReadModel
from projections.runtime import (
    EnvelopeReadModel,
    EventCounts,
    Handler,
    ProjectionRunner,
    ReadModel,
)
from tests.conftest import REPO
from tests.integration.worlds import T0, World


class NoteLines(EnvelopeReadModel):
    """A note's title and a row per line, keyed by notification id (a repeat would collide)."""

    name = "note_lines"

    def __init__(self, fail_at: int | None = None) -> None:
        self.fail_at = fail_at

    def create_tables(self, cursor: ViewCursor) -> None:
        blob = "BLOB" if cursor.dialect == "sqlite" else "BYTEA"
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS notes (stream TEXT PRIMARY KEY, title TEXT, lines INTEGER)"
        )
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS note_lines (notification_id BIGINT PRIMARY KEY, "
            f"stream TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, prev {blob})"
        )

    def clear(self, cursor: ViewCursor) -> None:
        cursor.execute("DELETE FROM note_lines")
        cursor.execute("DELETE FROM notes")

    def handlers(self) -> Mapping[str, Handler]:
        return {"test.note.Opened": self._opened, "test.note.LineAdded": self._line}

    def _opened(self, cursor: ViewCursor, envelope: dict[str, Any], n: Notification) -> None:
        cursor.execute(
            "INSERT INTO notes (stream, title, lines) VALUES (?, ?, 0)",
            (str(envelope["stream"]), envelope["data"]["title"]),
        )

    def _line(self, cursor: ViewCursor, envelope: dict[str, Any], n: Notification) -> None:
        cursor.execute(
            "INSERT INTO note_lines (notification_id, stream, seq, text, prev) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                n.id,
                str(envelope["stream"]),
                envelope["seq"],
                envelope["data"]["text"],
                envelope["prev"],
            ),
        )
        cursor.execute(
            "UPDATE notes SET lines = lines + 1 WHERE stream = ?", (str(n.originator_id),)
        )
        if self.fail_at is not None and n.id == self.fail_at:
            raise RuntimeError(f"crash while applying #{n.id}")


def rows(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT stream, title, lines FROM notes ORDER BY stream")
        notes = cursor.fetchall()
        cursor.execute("SELECT notification_id, stream, seq, text, prev FROM note_lines ORDER BY 1")
        lines = [(*row[:4], bytes(row[4])) for row in cursor.fetchall()]
    return {"notes": notes, "lines": lines}


def checksum(database: Database) -> str:
    return hashlib.sha256(repr(rows(database)).encode()).hexdigest()


@pytest.fixture
def world(storage_env: dict[str, str]) -> Iterator[World]:
    w = World(storage_env)
    yield w
    w.app.close()


def total_events(world: World) -> int:
    return int(world.app.recorder.max_notification_id())


def test_a_runner_applies_every_event_once_and_tracks_the_last_notification_id(
    world: World,
) -> None:
    for _ in range(3):
        world.note(lines=400)
    runner = ProjectionRunner(world.app.recorder, [NoteLines(), EventCounts()])
    applied = runner.run_once()
    assert applied == 2 * total_events(world)
    assert runner.position("note_lines") == total_events(world)
    data = rows(runner.database)
    assert [lines for _, _, lines in data["notes"]] == [400, 400, 400]
    assert len(data["lines"]) == 1200
    counts = EventCounts.counts(runner.database)
    assert counts["test.note.LineAdded"] == 1200
    assert sum(counts.values()) == total_events(world)
    assert runner.run_once() == 0


def test_a_model_skips_event_types_it_does_not_know_and_still_advances(world: World) -> None:
    # The first five events are the key ring's; the model knows only the note events.
    runner = ProjectionRunner(world.app.recorder, [NoteLines()])
    assert runner.run_once() == 5
    assert rows(runner.database) == {"notes": [], "lines": []}
    assert runner.position("note_lines") == 5


def test_max_events_bounds_one_run_and_the_next_run_resumes(world: World) -> None:
    world.note(lines=30)
    runner = ProjectionRunner(world.app.recorder, [NoteLines()], page_size=7)
    assert runner.run_once(max_events=10) == 10
    assert runner.position("note_lines") == 10
    assert runner.run_once() == total_events(world) - 10
    assert len(rows(runner.database)["lines"]) == 30


def test_a_rebuild_gives_the_same_rows_as_the_live_model(world: World) -> None:
    world.note(lines=1500)
    runner = ProjectionRunner(world.app.recorder, [NoteLines()])
    runner.run_once(max_events=700)
    world.note(lines=20)
    runner.run_once()
    live = checksum(runner.database)
    seen: list[tuple[int, int]] = []
    replayed = runner.rebuild("note_lines", progress=lambda done, total: seen.append((done, total)))
    assert replayed == total_events(world)
    assert checksum(runner.database) == live
    assert seen[-1] == (total_events(world), total_events(world))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_a_failure_inside_a_batch_rolls_back_rows_and_tracking_together(world: World) -> None:
    world.note(lines=50)
    runner = ProjectionRunner(world.app.recorder, [NoteLines(fail_at=30)], page_size=20)
    with pytest.raises(RuntimeError, match="crash while applying #30"):
        runner.run_once()
    # The first page (events 1-20) committed; the second rolled back rows and claim alike.
    assert runner.position("note_lines") == 20
    assert [n for n, *_ in rows(runner.database)["lines"]] == list(range(7, 21))
    healed = ProjectionRunner(world.app.recorder, [NoteLines()], page_size=20)
    assert healed.run_once() == total_events(world) - 20
    data = rows(healed.database)
    assert [n for n, *_ in data["lines"]] == list(range(7, total_events(world) + 1))
    assert data["notes"][0][2] == 50


class Interleaved:
    """A recorder whose first page read lets another runner commit before the reader claims it."""

    def __init__(self, recorder: Any, meanwhile: Any) -> None:
        self._recorder = recorder
        self._meanwhile = meanwhile
        self.events_table_name = recorder.events_table_name
        self.datastore = recorder.datastore

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        page = self._recorder.select_notifications(*args, **kwargs)
        if self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return page

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recorder, name)


def test_a_runner_whose_page_another_runner_committed_first_applies_nothing(
    world: World,
) -> None:
    world.note(lines=30)
    other = ProjectionRunner(world.app.recorder, [NoteLines()])
    applied: list[int] = []
    recorder = Interleaved(world.app.recorder, lambda: applied.append(other.run_once()))
    late = ProjectionRunner(recorder, [NoteLines()], database=other.database)  # type: ignore[arg-type]
    assert late.run_once() == 0
    assert applied == [total_events(world)]
    assert len(rows(late.database)["lines"]) == 30


def test_two_runners_racing_on_one_model_apply_each_page_exactly_once(world: World) -> None:
    world.note(lines=1000)
    first = ProjectionRunner(world.app.recorder, [NoteLines()], page_size=25)
    second = ProjectionRunner(world.app.recorder, [NoteLines()], page_size=25)
    applied: list[int] = []
    threads = [
        threading.Thread(target=lambda r=runner: applied.append(r.run_once()))
        for runner in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(applied) == total_events(world)
    assert len(rows(first.database)["lines"]) == 1000
    assert rows(first.database)["notes"][0][2] == 1000


def test_lag_counts_unapplied_events_and_the_age_of_the_oldest(world: World) -> None:
    world.note(lines=4)  # event 6 (the note opening) is signed at T0
    runner = ProjectionRunner(world.app.recorder, [NoteLines()])
    runner.run_once(max_events=5)
    lag = runner.lag(T0 + timedelta(seconds=90))
    assert (lag.events, lag.seconds) == (5, 90.0)
    runner.run_once()
    assert runner.lag(T0 + timedelta(days=1)) == runner.lag(T0)
    assert runner.lag(T0).events == 0


def test_run_forever_follows_new_events_until_stopped(world: World) -> None:
    runner = ProjectionRunner(world.app.recorder, [NoteLines()])
    stop = threading.Event()
    polls: list[int] = []
    thread = threading.Thread(
        target=runner.run_forever, args=(stop, 0.02), kwargs={"after_poll": lambda: polls.append(1)}
    )
    thread.start()
    try:
        world.note(lines=5)
        deadline = time.monotonic() + 10
        while runner.position("note_lines") < total_events(world) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert len(rows(runner.database)["lines"]) == 5
    assert polls


def test_the_runner_refuses_unknown_and_duplicate_models(world: World) -> None:
    runner = ProjectionRunner(world.app.recorder, [NoteLines()])
    with pytest.raises(UnknownReadModel, match=r"expected one of \['note_lines'\], got .*'x'"):
        runner.rebuild("x")
    with pytest.raises(ProjectionError, match="expected read models with distinct names"):
        ProjectionRunner(world.app.recorder, [NoteLines(), NoteLines()])


WORKER = """
import json, sys, time
from projections.runtime import ProjectionRunner, ReadModel

class Slow(ReadModel):
    name = "slow_counts"
    def create_tables(self, cursor):
        cursor.execute("CREATE TABLE IF NOT EXISTS slow_seen (notification_id BIGINT PRIMARY KEY)")
    def clear(self, cursor):
        cursor.execute("DELETE FROM slow_seen")
    def apply(self, cursor, notification):
        cursor.execute("INSERT INTO slow_seen (notification_id) VALUES (?)", (notification.id,))
        time.sleep(0.002)

env, app_name = json.loads(sys.argv[1]), sys.argv[2]
runner = ProjectionRunner.from_env(env, app_name, [Slow()], page_size=25)
runner.run_once(progress=lambda done, total: print(done, flush=True))
print("finished", flush=True)
"""


class Fast(ReadModel):
    """The worker's model without the sleep, to finish what the killed worker started."""

    name = "slow_counts"

    def create_tables(self, cursor: ViewCursor) -> None:
        cursor.execute("CREATE TABLE IF NOT EXISTS slow_seen (notification_id BIGINT PRIMARY KEY)")

    def clear(self, cursor: ViewCursor) -> None:
        cursor.execute("DELETE FROM slow_seen")

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        cursor.execute("INSERT INTO slow_seen (notification_id) VALUES (?)", (notification.id,))


def test_a_worker_killed_with_sigkill_mid_run_resumes_without_double_counting(
    world: World,
) -> None:
    world.note(lines=600)
    env = {k: v for k, v in world.env.items()}
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(env), world.app.name],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        committed = [worker.stdout.readline().strip() for _ in range(3)]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert committed == ["25", "50", "75"]
    assert worker.returncode == -signal.SIGKILL
    runner = ProjectionRunner(world.app.recorder, [Fast()])
    start = runner.position("slow_counts")
    assert 75 <= start < total_events(world)
    assert runner.run_once() == total_events(world) - start
    with runner.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*), MIN(notification_id), MAX(notification_id) FROM slow_seen")
        assert cursor.fetchone() == (total_events(world), 1, total_events(world))


class Indexed(EnvelopeReadModel):
    """Two tables with an index each, written by one projection transaction."""

    name = "indexed"

    def create_tables(self, cursor: ViewCursor) -> None:
        for table in ("indexed_a", "indexed_b"):
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {table} (x BIGINT NOT NULL)")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {table}_x ON {table} (x)")

    def clear(self, cursor: ViewCursor) -> None:
        cursor.execute("DELETE FROM indexed_a")
        cursor.execute("DELETE FROM indexed_b")

    def handlers(self) -> Mapping[str, Handler]:
        return {}


def test_a_runner_starting_while_another_process_writes_its_tables_does_not_wait(
    storage_env: dict[str, str],
) -> None:
    if storage_env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        pytest.skip("SQLite has one writer at a time: a start-up waits for it and cannot deadlock")
    # Another API process or projection worker is inside a transaction that wrote the model's
    # tables; a runner starting now must not queue behind it for the indexes it already has.
    first = ProjectionRunner(open_recorder(storage_env, "indexed"), [Indexed()])
    finished = threading.Event()

    def start() -> None:
        ProjectionRunner(open_recorder(storage_env, "indexed"), [Indexed()])
        finished.set()

    starter = threading.Thread(target=start)
    with first.database.transaction() as cursor:
        cursor.execute("INSERT INTO indexed_b (x) VALUES (?)", (1,))
        cursor.execute("INSERT INTO indexed_a (x) VALUES (?)", (1,))
        starter.start()
        starter.join(timeout=5)
        started_without_waiting = finished.is_set()
    starter.join()
    assert started_without_waiting
