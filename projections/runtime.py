"""The projection runtime: read models fed from the notification log, each page applied with its
tracking position in one transaction of the events' own database (exactly once; resume after a
crash), plus rebuild, lag, and a polling loop for in-process or worker-process use."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification

from keys import cose
from keys.errors import KeyManagementError
from ledger.transcodings import EncodingError, loads
from projections.database import Database, ViewCursor, open_database, open_recorder
from projections.errors import ProjectionError, TrackingConflict, UnknownReadModel

PAGE_SIZE = 1_000
TRACKING_TABLE = "projection_tracking"

Progress = Callable[[int, int], None]
"""A progress callback: (events done, events in all)."""


# --- read models --------------------------------------------------------------------------------


def decode_envelope(state: bytes) -> dict[str, Any]:
    """Return the signed envelope of a stored event, unverified (verifying is the audit's job)."""
    try:
        envelope = loads(cose.decode_sign1(state).payload)
    except (KeyManagementError, EncodingError) as exc:
        raise ProjectionError(f"expected a COSE_Sign1 event with a CBOR envelope: {exc}") from None
    if not isinstance(envelope, dict):
        raise ProjectionError(f"expected an envelope map, got {type(envelope).__name__}")
    return envelope


class ReadModel(ABC):
    """A read model: its tables, how a notification changes them, and how to empty them."""

    name: str = ""

    @abstractmethod
    def create_tables(self, cursor: ViewCursor) -> None:
        """Create the model's tables if missing."""

    @abstractmethod
    def clear(self, cursor: ViewCursor) -> None:
        """Delete every row the model derived from events (before a rebuild)."""

    @abstractmethod
    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Change the model's rows for one notification; skip event types it does not know."""

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Apply a page of notifications in log order (override to write in bulk)."""
        for notification in notifications:
            self.apply(cursor, notification)


Handler = Callable[[ViewCursor, dict[str, Any], Notification], None]


class EnvelopeReadModel(ReadModel):
    """A read model that handles decoded envelopes by event type and ignores all other types."""

    @abstractmethod
    def handlers(self) -> Mapping[str, Handler]:
        """Return the handler of each event type (stable topic) this model reads."""

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Decode and hand the envelope to its type's handler; other types only advance tracking."""
        handler = self.handlers().get(notification.topic)
        if handler is not None:
            handler(cursor, decode_envelope(notification.state), notification)


class EventCounts(ReadModel):
    """How many events of each type the log holds (the simplest useful read model)."""

    name = "event_counts"

    def create_tables(self, cursor: ViewCursor) -> None:
        """Create ``event_counts(type, n)``."""
        for statement in cursor.database.ddl("event_counts"):
            cursor.execute(statement)

    def clear(self, cursor: ViewCursor) -> None:
        """Forget every count."""
        cursor.execute("DELETE FROM event_counts")

    def apply(self, cursor: ViewCursor, notification: Notification) -> None:
        """Count one event."""
        self.apply_batch(cursor, [notification])

    def apply_batch(self, cursor: ViewCursor, notifications: Sequence[Notification]) -> None:
        """Count a page with one upsert per type."""
        counts: dict[str, int] = {}
        for notification in notifications:
            counts[notification.topic] = counts.get(notification.topic, 0) + 1
        cursor.executemany(
            "INSERT INTO event_counts (type, n) VALUES (?, ?) "
            "ON CONFLICT (type) DO UPDATE SET n = event_counts.n + excluded.n",
            sorted(counts.items()),
        )

    @staticmethod
    def counts(database: Database) -> dict[str, int]:
        """Return the count of each event type."""
        with database.transaction(write=False) as cursor:
            cursor.execute("SELECT type, n FROM event_counts")
            return {str(t): int(n) for t, n in cursor.fetchall()}


# --- the runner ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lag:
    """How far a read model is behind the log: events not yet applied, and their age."""

    events: int
    seconds: float


class ProjectionRunner:
    """Feeds read models from the notification log in pages, one transaction per page."""

    def __init__(
        self,
        recorder: ApplicationRecorder,
        models: Sequence[ReadModel],
        *,
        database: Database | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ProjectionError(f"page size must be at least 1, got {page_size}")
        names = [model.name for model in models]
        if not models or len(set(names)) != len(names) or "" in names:
            raise ProjectionError(f"expected read models with distinct names, got {names}")
        self.recorder = recorder
        self.database = database or open_database(recorder)
        self.page_size = page_size
        self.models: dict[str, ReadModel] = {model.name: model for model in models}
        self._owns_recorder = False
        self._positions: dict[str, int] = {}
        self._setup()

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], app_name: str, models: Sequence[ReadModel], **kwargs: Any
    ) -> ProjectionRunner:
        """Build a runner in a worker process from the application's settings alone."""
        runner = cls(open_recorder(env, app_name), models, **kwargs)
        runner._owns_recorder = True
        return runner

    def _setup(self) -> None:
        with self.database.transaction() as cursor:
            for statement in self.database.ddl("tracking", table=TRACKING_TABLE):
                cursor.execute(statement)
            for model in self.models.values():
                model.create_tables(cursor)
                cursor.execute(
                    f"INSERT INTO {TRACKING_TABLE} (source, name, notification_id) "
                    "VALUES (?, ?, 0) ON CONFLICT (source, name) DO NOTHING",
                    (self.database.source, model.name),
                )

    def model(self, name: str) -> ReadModel:
        """Return the read model called ``name``."""
        try:
            return self.models[name]
        except KeyError:
            raise UnknownReadModel(
                f"expected one of {sorted(self.models)}, got read model {name!r}"
            ) from None

    def position(self, name: str) -> int:
        """Return the last notification id applied to read model ``name`` (0 for none)."""
        self.model(name)
        with self.database.transaction(write=False) as cursor:
            return self._position(cursor, name)

    def _position(self, cursor: ViewCursor, name: str) -> int:
        cursor.execute(
            f"SELECT notification_id FROM {TRACKING_TABLE} WHERE source = ? AND name = ?",
            (self.database.source, name),
        )
        row = cursor.fetchone()
        if row is None:
            raise TrackingConflict(name, 0, None)
        return int(row[0])

    def run_once(self, max_events: int | None = None, *, progress: Progress | None = None) -> int:
        """Catch every read model up (at most ``max_events`` each); return events applied."""
        return sum(
            self._catch_up(model, max_events, progress) for model in list(self.models.values())
        )

    def run_forever(
        self,
        stop: threading.Event,
        poll_interval: float = 0.5,
        *,
        after_poll: Callable[[], object] | None = None,
    ) -> None:
        """Poll the log until ``stop`` is set (SQLite has no subscriptions); errors propagate."""
        while not stop.is_set():
            applied = self.run_once()
            if after_poll is not None:
                after_poll()
            if applied == 0:
                stop.wait(poll_interval)

    def rebuild(self, name: str, progress: Progress | None = None) -> int:
        """Drop the model's rows and tracking, then replay the whole log; return events applied."""
        model = self.model(name)
        self._positions.pop(name, None)
        with self.database.transaction() as cursor:
            model.clear(cursor)
            cursor.execute(
                f"UPDATE {TRACKING_TABLE} SET notification_id = 0 WHERE source = ? AND name = ?",
                (self.database.source, name),
            )
        return self._catch_up(model, None, progress)

    def lag(self, now: datetime, name: str | None = None) -> Lag:
        """Return how far ``name`` (default: the worst model, per field) trails at ``now``."""
        names = [name] if name is not None else sorted(self.models)
        worst = Lag(0, 0.0)
        for each in names:
            position = self.position(each)
            with self.database.transaction(write=False) as cursor:
                behind = self.database.count_after(cursor, position)
            seconds = 0.0
            if behind:
                oldest = self.recorder.select_notifications(
                    start=position, limit=1, inclusive_of_start=False
                )
                if oldest:
                    at = decode_envelope(oldest[0].state).get("at")
                    if isinstance(at, datetime):
                        seconds = max(0.0, (now - at).total_seconds())
            worst = Lag(max(worst.events, behind), max(worst.seconds, seconds))
        return worst

    def close(self) -> None:
        """Close the recorder's connections if the runner opened them (``from_env``)."""
        datastore = getattr(self.recorder, "datastore", None)
        if self._owns_recorder and datastore is not None:
            datastore.close()

    # -- internals -------------------------------------------------------------------------------

    def _catch_up(self, model: ReadModel, budget: int | None, progress: Progress | None) -> int:
        done = 0
        # The position this runner last committed saves a query per poll; if another worker
        # moved it since, the compare-and-set below fails and the true position is read.
        position = self._positions.get(model.name)
        if position is None:
            position = self.position(model.name)
        total: int | None = None
        if progress is not None:
            with self.database.transaction(write=False) as cursor:
                total = self.database.count_after(cursor, position)
        while budget is None or done < budget:
            limit = self.page_size if budget is None else min(self.page_size, budget - done)
            page = self.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
            if not page:
                break
            try:
                self._apply(model, position, page)
            except TrackingConflict:
                # Another worker applied this page (or a rebuild reset us): resume from theirs.
                position = self.position(model.name)
                continue
            except BaseException:
                self._positions.pop(model.name, None)
                raise
            position = self._positions[model.name] = page[-1].id
            done += len(page)
            if progress is not None and total is not None:
                progress(done, max(total, done))
            if len(page) < limit:
                break  # a short page is the end of the log for now
        return done

    def _apply(self, model: ReadModel, expected: int, page: Sequence[Notification]) -> None:
        with self.database.transaction() as cursor:
            # 1. Claim the page: move tracking only from the position the page was read after.
            cursor.execute(
                f"UPDATE {TRACKING_TABLE} SET notification_id = ? "
                "WHERE source = ? AND name = ? AND notification_id = ?",
                (page[-1].id, self.database.source, model.name, expected),
            )
            if cursor.rowcount != 1:
                cursor.execute(
                    f"SELECT notification_id FROM {TRACKING_TABLE} WHERE source = ? AND name = ?",
                    (self.database.source, model.name),
                )
                row = cursor.fetchone()
                raise TrackingConflict(model.name, expected, None if row is None else int(row[0]))
            # 2. Write the rows; any error rolls back the rows and the claim together.
            model.apply_batch(cursor, page)


def run_worker(
    env: Mapping[str, str],
    app_name: str,
    models: Sequence[ReadModel],
    stop: threading.Event,
    poll_interval: float = 0.5,
) -> None:
    """Run read models in a separate worker process until ``stop`` is set."""
    runner = ProjectionRunner.from_env(env, app_name, models)
    try:
        runner.run_forever(stop, poll_interval)
    finally:
        runner.close()


def iterate_log(
    recorder: ApplicationRecorder, *, after: int = 0, upto: int | None = None
) -> Iterator[Notification]:
    """Yield notifications above ``after`` (up to ``upto``) in pages of ``PAGE_SIZE``."""
    position = after
    while True:
        page = recorder.select_notifications(
            start=position, limit=PAGE_SIZE, stop=upto, inclusive_of_start=False
        )
        if not page:
            return
        yield from page
        position = page[-1].id
