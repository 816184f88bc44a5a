"""``audit documents`` on real SQLite and PostgreSQL: a clean store passes with its counts; bytes
changed at rest (past the store's own refusal of UPDATE), a lost document and a reference that
misstates its document are each named with the event that refers to it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.application import CaseLedger
from ledger.documents import DocumentRef
from projections.database import open_database
from projections.document_audit import audit_documents
from projections.document_store import BLOBS, DocumentStore
from projections.errors import AuditFailure
from tests.scenarios import (
    COMPANY,
    DOCUMENT_BYTES,
    Clock,
    doc,
    permit_materials,
    play_permit_until_decision,
)
from tests.unit.ledger.conftest import T0, make_ledger


@dataclass
class Stored:
    ledger: CaseLedger
    store: DocumentStore
    case_id: Any
    form: DocumentRef  # the application form, referred to by the submission (seq 1)


@pytest.fixture
def stored(storage_env: dict[str, str]) -> Iterator[Stored]:
    ledger, _ = make_ledger(storage_env)
    store = DocumentStore(open_database(ledger.recorder))
    for ref in permit_materials().values():
        if isinstance(ref, DocumentRef):
            store.put(DOCUMENT_BYTES[ref.sha256], ref.media_type, uploader=COMPANY, at=T0)
    story = play_permit_until_decision(ledger, Clock(T0), "audit-documents")
    yield Stored(ledger, store, story.case_id, doc("application form"))
    ledger.close()


def execute(store: DocumentStore, statement: str, params: tuple[Any, ...] = ()) -> None:
    with store.database.transaction() as cursor:
        cursor.execute(statement, params)


def drop_guard(store: DocumentStore) -> None:
    """What someone with the database's owner rights could do first."""
    execute(
        store,
        f"DROP TRIGGER IF EXISTS {BLOBS}_no_update"
        + (f" ON {BLOBS}" if store.database.dialect == "postgres" else ""),
    )


def test_a_clean_store_passes_with_its_counts(stored: Stored) -> None:
    documents = [r for r in permit_materials().values() if isinstance(r, DocumentRef)]
    extra = stored.store.put(
        b"%PDF-1.7\n% never used\n", "application/pdf", uploader=COMPANY, at=T0
    )
    report = audit_documents(stored.store)
    assert report.referenced == len(documents) == 5
    assert (report.stored, report.unreferenced) == (6, 1)
    assert extra.created


def test_the_store_itself_refuses_to_change_stored_bytes(stored: Stored) -> None:
    with pytest.raises(Exception, match="immutable"):
        execute(
            stored.store,
            f"UPDATE {BLOBS} SET content = ? WHERE sha256 = ?",
            (b"%PDF-1.7 forged", stored.form.sha256),
        )
    assert stored.store.get(stored.form.sha256) == (
        stored.form,
        DOCUMENT_BYTES[stored.form.sha256],
    )


def test_bytes_changed_at_rest_are_named_with_the_event_referring_to_them(
    stored: Stored,
) -> None:
    drop_guard(stored.store)
    forged = DOCUMENT_BYTES[stored.form.sha256].replace(b"application form", b"applicatioN form")
    execute(
        stored.store,
        f"UPDATE {BLOBS} SET content = ? WHERE sha256 = ?",
        (forged, stored.form.sha256),
    )
    with pytest.raises(AuditFailure) as failed:
        audit_documents(stored.store)
    failure = failed.value
    assert failure.check == "document-altered"
    assert (failure.stream, failure.seq) == (stored.case_id, 1)
    assert hashlib.sha256(forged).hexdigest() in failure.detail


def test_a_lost_document_is_named_with_the_event_referring_to_it(stored: Stored) -> None:
    execute(stored.store, f"DELETE FROM {BLOBS} WHERE sha256 = ?", (stored.form.sha256,))
    with pytest.raises(AuditFailure) as failed:
        audit_documents(stored.store)
    assert failed.value.check == "document-missing"
    assert (failed.value.stream, failed.value.seq) == (stored.case_id, 1)
    assert stored.form.sha256 in str(failed.value)


def test_a_stored_document_whose_type_differs_from_the_reference_is_a_mismatch(
    stored: Stored,
) -> None:
    drop_guard(stored.store)
    execute(
        stored.store,
        f"UPDATE {BLOBS} SET media_type = ? WHERE sha256 = ?",
        ("image/png", stored.form.sha256),
    )
    with pytest.raises(AuditFailure) as failed:
        audit_documents(stored.store)
    assert failed.value.check == "document-mismatch"
    assert "the event states" in failed.value.detail
