"""The runtime's pure parts: placeholders per dialect, envelope decoding, type dispatch."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Notification

from keys import cose
from keys.signer import Ed25519Signer
from ledger.transcodings import dumps
from projections.database import ViewCursor, open_database
from projections.errors import ProjectionError
from projections.runtime import EnvelopeReadModel, Handler, decode_envelope


class FakeCursor:
    """Records statements as a DB-API cursor would receive them."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, Any]] = []
        self.rowcount = 0

    def execute(self, statement: str, params: Any) -> None:
        self.statements.append((statement, params))

    def executemany(self, statement: str, rows: Any) -> None:
        self.statements.append((statement, list(rows)))

    def fetchone(self) -> Any:
        return None

    def fetchall(self) -> Any:
        return [("a", 1)]


class FakeDatabase:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect


def cursor(dialect: str) -> tuple[ViewCursor, FakeCursor]:
    raw = FakeCursor()
    return ViewCursor(raw, FakeDatabase(dialect)), raw  # type: ignore[arg-type]


def test_question_mark_placeholders_become_percent_s_on_postgres_only() -> None:
    pg, pg_raw = cursor("postgres")
    lite, lite_raw = cursor("sqlite")
    for view in (pg, lite):
        view.execute("SELECT * FROM t WHERE a = ? AND b = ?", (1, 2))
        view.executemany("INSERT INTO t VALUES (?)", [(1,)])
        view.executemany("INSERT INTO t VALUES (?)", [])
    assert [s for s, _ in pg_raw.statements] == [
        "SELECT * FROM t WHERE a = %s AND b = %s",
        "INSERT INTO t VALUES (%s)",
    ]
    assert [s for s, _ in lite_raw.statements] == [
        "SELECT * FROM t WHERE a = ? AND b = ?",
        "INSERT INTO t VALUES (?)",
    ]
    assert lite.fetchall() == [("a", 1)] and lite.fetchone() is None


def signed(envelope: Any) -> bytes:
    return cose.sign1(dumps(envelope), Ed25519Signer.from_seed(b"\x09" * 32), kid=b"k")


def test_decode_envelope_returns_the_signed_payload_without_verifying() -> None:
    assert decode_envelope(signed({"type": "x", "seq": 1})) == {"type": "x", "seq": 1}


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (b"\x01", "expected a COSE_Sign1 event with a CBOR envelope"),
        (signed([1, 2]), "expected an envelope map, got list"),
    ],
)
def test_decode_envelope_refuses_what_is_not_an_envelope(state: bytes, message: str) -> None:
    with pytest.raises(ProjectionError, match=message):
        decode_envelope(state)


class Titles(EnvelopeReadModel):
    name = "titles"

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def create_tables(self, cursor: ViewCursor) -> None:
        raise NotImplementedError

    def clear(self, cursor: ViewCursor) -> None:
        raise NotImplementedError

    def handlers(self) -> Mapping[str, Handler]:
        return {"note.Opened": lambda c, envelope, n: self.seen.append(envelope["data"])}


def test_an_envelope_model_handles_its_types_and_skips_others_undecoded() -> None:
    model = Titles()
    view, _ = cursor("sqlite")
    opened = Notification(uuid4(), 1, "note.Opened", signed({"data": "t"}), 1)
    unknown = Notification(uuid4(), 1, "other.Thing", b"not even cose", 2)
    model.apply_batch(view, [opened, unknown])
    assert model.seen == ["t"]


def test_read_models_need_an_sql_recorder() -> None:
    from eventsourcing.popo import POPOApplicationRecorder

    with pytest.raises(ProjectionError, match="expected an eventsourcing.sqlite or eventsourcing"):
        open_database(POPOApplicationRecorder())


def test_many_rows_are_one_unnest_statement_on_postgres_and_executemany_on_sqlite() -> None:
    pg, pg_raw = cursor("postgres")
    lite, lite_raw = cursor("sqlite")
    rows = [(0, 5, b"\x01", "a"), (1, 6, b"\x02", None)]
    for view in (pg, lite):
        view.insert_many("t", ("level", "idx", "hash", "note"), rows)
        view.insert_many("t", ("level",), [])
    assert pg_raw.statements == [
        (
            "INSERT INTO t (level, idx, hash, note) SELECT * FROM "
            "unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::text[])",
            [[0, 1], [5, 6], [b"\x01", b"\x02"], ["a", None]],
        )
    ]
    assert lite_raw.statements == [
        ("INSERT INTO t (level, idx, hash, note) VALUES (?, ?, ?, ?)", rows)
    ]


def test_values_without_a_postgres_array_type_are_refused() -> None:
    pg, _ = cursor("postgres")
    with pytest.raises(ProjectionError, match="expected bool, int, float, bytes or str values"):
        pg.insert_many("t", ("when",), [(object(),)])
