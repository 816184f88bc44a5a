"""The signed, chained event store on real SQLite and PostgreSQL: writes sign, reads verify,
and every kind of tampering is caught with the check that failed."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from keys import cose
from keys.keyring import KeyRing
from keys.registry import KeyIndex, KeyRecord, KeyRole, kid_for
from keys.signer import Ed25519Signer
from keys.store import InMemoryKeyStore
from ledger.actors import Actor, Channel, Role
from ledger.errors import IntegrityError
from ledger.keydirectory import LedgerKeys
from ledger.persistence import install_append_only_guard
from ledger.signing import genesis_hash
from ledger.store import SignedApplication
from ledger.transcodings import dumps, loads
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


@pytest.fixture
def world(storage_env: dict[str, str]) -> Iterator[World]:
    w = World(storage_env)
    yield w
    w.app.close()


def load(world: World, stream: UUID) -> Note:
    app = world.fresh()
    try:
        note: Note = app.repository.get(stream)
        return note
    finally:
        app.close()


def test_saved_events_are_cose_sign1_with_the_design_envelope(world: World) -> None:
    stream = world.note(lines=1)
    rows = world.rows(stream)
    assert [(v, t) for v, t, _ in rows] == [(1, "test.note.Opened"), (2, "test.note.LineAdded")]
    message = cose.decode_sign1(rows[0][2])
    assert message.alg == -8
    assert message.kid == kid_for(world.seal.public_key_der())
    envelope = loads(message.payload)
    assert set(envelope) == {"stream", "seq", "type", "at", "actor", "channel", "prev", "data"}
    assert envelope["stream"] == stream
    assert envelope["prev"] == genesis_hash(stream)
    assert envelope["actor"] == OFFICER.as_dict()
    assert envelope["channel"] == "window"
    assert envelope["data"]["title"] == "receipt"


def test_a_fresh_process_loads_and_verifies_the_stream(world: World) -> None:
    stream = world.note(lines=3)
    note = load(world, stream)
    assert note.lines == ["line 0", "line 1", "line 2"]
    assert note.version == 4


def test_appending_to_a_reloaded_aggregate_links_to_the_stored_head(world: World) -> None:
    stream = world.note(lines=1)
    app = world.fresh()
    note: Note = app.repository.get(stream)
    note.add(text="later", at=T0 + timedelta(hours=1), actor=OFFICER, channel=Channel.ONLINE)
    app.save(note)
    app.close()
    assert load(world, stream).lines == ["line 0", "later"]


def test_the_events_table_refuses_update_and_delete(world: World) -> None:
    stream = world.note(lines=1)
    if world._sqlite:
        with (
            sqlite3.connect(world.env["SQLITE_DBNAME"]) as conn,
            pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE refused"),
        ):
            conn.execute("DELETE FROM stored_events")
    else:
        for sql in ("DELETE FROM {table}", "UPDATE {table} SET topic='x'", "TRUNCATE {table}"):
            with world._pg() as conn, pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(sql.format(table=world._pg_table()))
    assert len(world.rows(stream)) == 2


def test_a_changed_payload_byte_fails_the_signature(world: World) -> None:
    stream = world.note(lines=2)
    state = bytearray(world.rows(stream)[1][2])
    position = state.find(b"line 0")
    state[position + 5] = ord("X")
    world.set_state(stream, 2, bytes(state))
    with pytest.raises(IntegrityError, match=f"event {stream}#2 failed check 'signature'"):
        load(world, stream)


def test_a_row_copied_onto_another_stream_fails_the_stream_check(world: World) -> None:
    first, second = world.note(lines=1), world.note(lines=1)
    world.set_state(second, 2, world.rows(first)[1][2])
    with pytest.raises(IntegrityError, match=f"event {second}#2 failed check 'stream'"):
        load(world, second)


def test_an_event_re_signed_with_an_unregistered_key_fails_the_key_check(world: World) -> None:
    stream = world.note(lines=1)
    original = cose.decode_sign1(world.rows(stream)[1][2])
    rogue = Ed25519Signer.generate()
    forged = cose.sign1(original.payload, rogue, kid=kid_for(rogue.public_key_der()))
    world.set_state(stream, 2, forged)
    with pytest.raises(IntegrityError, match="#2 failed check 'key'.*not registered"):
        load(world, stream)


def test_an_event_re_signed_by_the_registered_key_under_a_forged_kid_fails(world: World) -> None:
    stream = world.note(lines=1)
    original = cose.decode_sign1(world.rows(stream)[1][2])
    envelope = loads(original.payload)
    envelope["data"]["text"] = "forged"
    rogue = Ed25519Signer.generate()
    forged = cose.sign1(dumps(envelope), rogue, kid=kid_for(world.seal.public_key_der()))
    world.set_state(stream, 2, forged)
    with pytest.raises(IntegrityError, match="#2 failed check 'signature'"):
        load(world, stream)


def test_a_deleted_middle_event_breaks_the_chain(world: World) -> None:
    stream = world.note(lines=3)
    world.delete(stream, 2)
    with pytest.raises(IntegrityError, match=f"event {stream}#3 failed check 'chain'"):
        load(world, stream)


def test_two_swapped_events_fail_the_seq_check(world: World) -> None:
    stream = world.note(lines=3)
    rows = world.rows(stream)
    world.set_state(stream, 2, rows[2][2])
    world.set_state(stream, 3, rows[1][2])
    with pytest.raises(IntegrityError, match=f"event {stream}#2 failed check 'seq'"):
        load(world, stream)


def test_signatures_after_the_keys_revocation_fail_the_key_check(world: World) -> None:
    stream = world.note(lines=1)
    world.app.keyring.revoke(
        kid_for(world.seal.public_key_der()),
        revoked_at=T0,
        reason="seal lost",
        at=T0 + timedelta(days=1),
        actor=ADMIN,
    )
    with pytest.raises(IntegrityError, match="#1 failed check 'key'.*revoked.*seal lost"):
        load(world, stream)


def test_an_action_with_no_registered_key_is_refused_and_nothing_is_stored(world: World) -> None:
    stranger = Actor("officer-wang", Role.OFFICER, department="zjj")
    note = Note(title="x", at=T0, actor=stranger, channel=Channel.WINDOW)
    with pytest.raises(Exception, match="no signing key for department-seal zjj"):
        world.app.save(note)
    assert world.rows(note.id) == []


def test_unknown_stream_id_has_no_events(world: World) -> None:
    assert list(world.app.signed_events.get(uuid4())) == []


def test_a_revoked_key_cannot_sign_new_events_and_nothing_is_stored(world: World) -> None:
    world.app.keyring.revoke(
        kid_for(world.seal.public_key_der()), revoked_at=T0, reason="seal lost", at=T0, actor=ADMIN
    )
    note = Note(title="x", at=T0 + timedelta(hours=1), actor=OFFICER, channel=Channel.WINDOW)
    with pytest.raises(Exception, match="cannot sign for officer-li: key .* revoked"):
        world.app.save(note)
    assert world.rows(note.id) == []
