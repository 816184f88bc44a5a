"""A small signed ledger over real storage for integration tests: keys registered, a ``Note``
aggregate following the ledger's command conventions, and raw row access to play the attacker."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, event

from keys.keyring import KeyRing
from keys.registry import KeyIndex, KeyRecord, KeyRole, kid_for
from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.keydirectory import LedgerKeys
from ledger.persistence import install_append_only_guard
from ledger.store import SignedApplication
from tests.conftest import postgres_dsn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICER = Actor("officer-li", Role.OFFICER, department="scjgj")
ADMIN = {"principal": "admin-1", "role": "admin", "department": None, "on_behalf_of": None}


class Note(Aggregate):
    """A small aggregate with the ledger's command conventions (at, actor, channel)."""

    TOPIC_PREFIX: ClassVar[str] = "test.note"

    @event("Opened")
    def __init__(self, *, title: str, at: datetime, actor: Actor, channel: Channel) -> None:
        self.title = title
        self.lines: list[str] = []

    @event("LineAdded")
    def add(self, *, text: str, at: datetime, actor: Actor, channel: Channel) -> None:
        self.lines.append(text)


class NoteLedger(SignedApplication):
    name = "notes"
    aggregates = (KeyRecord, KeyIndex, Note)


class World:
    """A ledger over a store, with a root, a department seal and the store's raw rows at hand."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.store = InMemoryKeyStore()
        self.root = self.store.generate("root")
        self.seal = self.store.generate("dept-scjgj")
        self.app = self.open()
        ring = self.app.keyring
        ring.bootstrap(
            self.root, owner="platform", valid_from=T0, valid_to=None, at=T0, actor=ADMIN
        )
        ring.register(
            root=self.root,
            public_key_der=self.seal.public_key_der(),
            owner="scjgj",
            role=KeyRole.DEPARTMENT_SEAL,
            department="scjgj",
            valid_from=T0,
            at=T0,
            actor=ADMIN,
        )

    def open(self) -> Any:
        directory = LedgerKeys(self.store)
        root_der = self.root.public_key_der()
        app = NoteLedger(
            self.env, directory=directory, root_public_key_der=root_der, root_kid=kid_for(root_der)
        )
        app.keyring = KeyRing(app, root_der)
        directory.attach(app.keyring)
        install_append_only_guard(app.recorder)
        return app

    def fresh(self) -> Any:
        """A new application instance on the same store (no caches)."""
        return self.open()

    def note(self, lines: int = 3) -> UUID:
        note = Note(title="receipt", at=T0, actor=OFFICER, channel=Channel.WINDOW)
        for i in range(lines):
            note.add(
                text=f"line {i}",
                at=T0 + timedelta(minutes=i + 1),
                actor=OFFICER,
                channel=Channel.WINDOW,
            )
        self.app.save(note)
        return note.id

    # -- raw row access, bypassing the append-only guard, to play the attacker -----------------

    def rows(self, stream: UUID) -> list[tuple[int, str, bytes]]:
        if self.env["PERSISTENCE_MODULE"].endswith("sqlite"):
            with sqlite3.connect(self.env["SQLITE_DBNAME"]) as conn:
                return [
                    (v, t, bytes(s))
                    for v, t, s in conn.execute(
                        "SELECT originator_version, topic, state FROM stored_events "
                        "WHERE originator_id=? ORDER BY originator_version",
                        (stream.hex,),
                    )
                ]
        with self._pg() as conn:
            return [
                (v, t, bytes(s))
                for v, t, s in conn.execute(
                    f"SELECT originator_version, topic, state FROM {self._pg_table()} "
                    "WHERE originator_id=%s ORDER BY originator_version",
                    (stream,),
                )
            ]

    def execute(self, sql_sqlite: str, sql_pg: str, params: tuple[Any, ...]) -> None:
        if self.env["PERSISTENCE_MODULE"].endswith("sqlite"):
            with sqlite3.connect(self.env["SQLITE_DBNAME"]) as conn:
                conn.execute("DROP TRIGGER IF EXISTS stored_events_no_update")
                conn.execute("DROP TRIGGER IF EXISTS stored_events_no_delete")
                conn.execute(sql_sqlite, params)
            return
        with self._pg() as conn:
            # Superuser only: triggers off for this session, as an attacker with DBA rights.
            conn.execute("SET session_replication_role = replica")
            conn.execute(sql_pg.format(table=self._pg_table()), params)

    def set_state(self, stream: UUID, version: int, state: bytes) -> None:
        self.execute(
            "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
            "UPDATE {table} SET state=%s WHERE originator_id=%s AND originator_version=%s",
            (state, stream.hex, version) if self._sqlite else (state, stream, version),
        )

    def delete(self, stream: UUID, version: int) -> None:
        self.execute(
            "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?",
            "DELETE FROM {table} WHERE originator_id=%s AND originator_version=%s",
            (stream.hex, version) if self._sqlite else (stream, version),
        )

    @property
    def _sqlite(self) -> bool:
        return self.env["PERSISTENCE_MODULE"].endswith("sqlite")

    def _pg(self) -> psycopg.Connection[Any]:
        return psycopg.connect(postgres_dsn(), autocommit=True)

    def _pg_table(self) -> str:
        return f'"{self.env["POSTGRES_SCHEMA"]}".notes_events'
