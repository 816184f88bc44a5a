"""``audit documents`` and bundled documents on real SQLite and PostgreSQL: a clean store passes
with its counts; bytes changed at rest (past the store's own refusal of UPDATE), a lost document
and a reference that misstates its document are each named with the event that refers to it; a
case bundle carries the documents its events refer to, and a bundle whose documents were altered,
dropped or padded is refused at the documents step."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from keys import cbor
from keys.signer import Ed25519Signer
from keys.store import InMemoryKeyStore
from keys.trustlist import build_trust_list
from ledger.application import CaseLedger
from ledger.documents import DocumentRef
from projections.bundle import export_bundle, verify_bundle
from projections.database import open_database
from projections.document_audit import audit_documents
from projections.document_store import BLOBS, DocumentStore
from projections.errors import AuditFailure, BundleInvalid, ProofUnavailable
from projections.runtime import ProjectionRunner
from projections.transparency import TransparencyLog
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
    keys: InMemoryKeyStore
    store: DocumentStore
    case_id: Any
    form: DocumentRef  # the application form, referred to by the submission (seq 1)


@pytest.fixture
def stored(storage_env: dict[str, str]) -> Iterator[Stored]:
    ledger, keys = make_ledger(storage_env)
    store = DocumentStore(open_database(ledger.recorder))
    for ref in permit_materials().values():
        if isinstance(ref, DocumentRef):
            store.put(DOCUMENT_BYTES[ref.sha256], ref.media_type, uploader=COMPANY, at=T0)
    story = play_permit_until_decision(ledger, Clock(T0), "audit-documents")
    yield Stored(ledger, keys, store, story.case_id, doc("application form"))
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


LOG_KEY = Ed25519Signer.from_seed(b"\x09" * 32)


def exported(stored: Stored) -> tuple[bytes, TransparencyLog]:
    log = TransparencyLog(stored.store.database, signer=LOG_KEY)
    ProjectionRunner(stored.ledger.recorder, [log]).run_once()
    log.checkpoint(T0)
    root = stored.keys.signer("root")
    trust = build_trust_list(stored.ledger.keyring.entries(), root=root, issued_at=T0, sequence=1)
    bundle = export_bundle(
        log, stored.ledger.recorder, stored.case_id, trust_list=trust, documents=stored.store
    )
    return bundle, log


def test_a_case_bundle_carries_and_verifies_the_documents_its_events_refer_to(
    stored: Stored,
) -> None:
    bundle, log = exported(stored)
    root = stored.keys.signer("root").public_key_der()
    report = verify_bundle(bundle, root, log.verifier_key())
    assert report.documents == 5 and report.case_id == stored.case_id
    carried = cbor.loads_strict(bundle)["documents"]
    assert carried[stored.form.sha256] == DOCUMENT_BYTES[stored.form.sha256]


def test_a_bundle_with_altered_dropped_or_extra_documents_is_refused(stored: Stored) -> None:
    bundle, log = exported(stored)
    root = stored.keys.signer("root").public_key_der()
    form = stored.form.sha256

    def altered(d: dict[str, Any]) -> None:
        d["documents"][form] = d["documents"][form] + b" "

    def dropped(d: dict[str, Any]) -> None:
        del d["documents"][form]

    def extra(d: dict[str, Any]) -> None:
        content = b"%PDF-1.7 unrelated"
        d["documents"][hashlib.sha256(content).hexdigest()] = content

    def not_bytes(d: dict[str, Any]) -> None:
        d["documents"][form] = "text"

    cases = [
        (altered, "documents", "its bytes hash to"),
        (dropped, "documents", f"missing \\['{form}'\\]"),
        (extra, "documents", "no event refers to it"),
        (not_bytes, "format", "map of SHA-256 hex to bytes"),
    ]
    for change, step, message in cases:
        document = cbor.loads_strict(bundle)
        change(document)
        with pytest.raises(BundleInvalid, match=message) as refused:
            verify_bundle(cbor.dumps_canonical(document), root, log.verifier_key())
        assert refused.value.step == step


def test_a_bundle_is_not_exported_while_a_referred_to_document_is_lost(stored: Stored) -> None:
    execute(stored.store, f"DELETE FROM {BLOBS} WHERE sha256 = ?", (stored.form.sha256,))
    with pytest.raises(ProofUnavailable, match=f"document {stored.form.sha256} of"):
        exported(stored)
