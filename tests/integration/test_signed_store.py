"""The signed, chained event store on real SQLite and PostgreSQL: writes sign, reads verify,
and every kind of tampering is caught with the check that failed."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest

from keys import cose
from keys.registry import kid_for
from keys.signer import Ed25519Signer
from ledger.actors import Actor, Channel, Role
from ledger.errors import IntegrityError
from ledger.persistence import install_append_only_guard
from ledger.signing import genesis_hash
from ledger.transcodings import dumps, loads
from tests.conftest import postgres_dsn
from tests.integration.worlds import ADMIN, OFFICER, T0, Note, World


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


def started_beside_an_open_write(world: World, start: Callable[[], object]) -> bool:
    """Whether ``start`` finished while another process held an event write open (PostgreSQL)."""
    if world._sqlite:
        pytest.skip("SQLite has one writer at a time: a start-up waits for it and cannot deadlock")
    world.note(lines=1)
    finished = threading.Event()
    starter = threading.Thread(target=lambda: (start(), finished.set()))
    with psycopg.connect(postgres_dsn()) as writer:
        writer.execute(
            f"INSERT INTO {world._pg_table()} (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'test', '\\x00')",
            (uuid4(),),
        )
        starter.start()
        starter.join(timeout=5)
        started_without_waiting = finished.is_set()
        writer.rollback()
    starter.join()
    return started_without_waiting


def test_the_guard_found_in_place_is_not_replaced_under_another_processs_writes(
    world: World,
) -> None:
    app = world.fresh()
    # Replacing the guard would take an exclusive lock on the events table and queue behind the
    # other process's write.
    try:
        assert started_beside_an_open_write(world, lambda: install_append_only_guard(app.recorder))
    finally:
        app.close()


def test_a_process_starting_beside_another_processs_open_write_does_not_wait_for_it(
    world: World,
) -> None:
    opened: list[Any] = []
    # Re-creating the events table's index would take a SHARE lock on the table and queue
    # behind the other process's write.
    try:
        assert started_beside_an_open_write(world, lambda: opened.append(world.fresh()))
    finally:
        for app in opened:
            app.close()
