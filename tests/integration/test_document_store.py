"""The document store on real SQLite and PostgreSQL: bytes kept once by their SHA-256, uploads
remembered per uploader, references checked against what that uploader stored, and every refused
upload leaving the store as it was."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ledger.documents import DocumentRef, ELicenseRef
from projections.database import Database, open_database, open_recorder
from projections.document_store import (
    BLOBS,
    MAX_DOCUMENT_BYTES,
    UPLOADS,
    DocumentStore,
)
from projections.errors import DocumentNotStored, DocumentRejected, UploadQuotaExceeded

AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
PDF = b"%PDF-1.7\n% application form\n" + b"%" * 1000
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
ALICE, BOB = "91512000MA62A0XC0J", "91512000MA62A0XD0H"


@pytest.fixture
def store(storage_env: dict[str, str]) -> DocumentStore:
    documents = DocumentStore(open_database(open_recorder(storage_env, "documents")))
    documents.create_tables()
    return documents


def rows(database: Database, table: str) -> int:
    with database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def test_a_document_is_stored_once_under_the_sha256_of_its_bytes(store: DocumentStore) -> None:
    first = store.put(PDF, "application/pdf", uploader=ALICE, at=AT)
    again = store.put(PDF, "application/pdf", uploader=ALICE, at=AT)
    assert first.created and not again.created
    assert (
        first.ref
        == again.ref
        == DocumentRef(hashlib.sha256(PDF).hexdigest(), len(PDF), "application/pdf")
    )
    assert store.get(first.ref.sha256) == (first.ref, PDF)
    assert rows(store.database, BLOBS) == 1 and rows(store.database, UPLOADS) == 1


def test_each_uploader_of_the_same_bytes_is_remembered(store: DocumentStore) -> None:
    ref = store.put(PDF, "application/pdf", uploader=ALICE, at=AT).ref
    assert not store.uploaded_by(ref.sha256, BOB)
    assert not store.put(PDF, "application/pdf", uploader=BOB, at=AT).created
    assert store.uploaded_by(ref.sha256, ALICE) and store.uploaded_by(ref.sha256, BOB)
    assert rows(store.database, BLOBS) == 1 and rows(store.database, UPLOADS) == 2


def test_an_unknown_address_has_no_document(store: DocumentStore) -> None:
    assert store.get("0" * 64) is None
    assert not store.uploaded_by("0" * 64, ALICE)


def test_the_media_type_parameters_and_case_are_ignored(store: DocumentStore) -> None:
    ref = store.put(PNG, "Image/PNG; charset=binary", uploader=ALICE, at=AT).ref
    assert ref.media_type == "image/png"


@pytest.mark.parametrize(
    ("content", "media_type", "message"),
    [
        (PDF, "text/plain", "media type must be one of"),
        (b"", "application/pdf", "at least one byte"),
        (b"hello, not a pdf", "application/pdf", "does not begin as application/pdf"),
        (PDF, "image/png", "does not begin as image/png"),
        (b"%PDF-" + bytes(MAX_DOCUMENT_BYTES), "application/pdf", "at most"),
    ],
    ids=["foreign-type", "empty", "text-posing-as-pdf", "pdf-posing-as-png", "oversized"],
)
def test_a_refused_upload_says_why_and_stores_nothing(
    store: DocumentStore, content: bytes, media_type: str, message: str
) -> None:
    with pytest.raises(DocumentRejected, match=message):
        store.put(content, media_type, uploader=ALICE, at=AT)
    assert rows(store.database, BLOBS) == 0 and rows(store.database, UPLOADS) == 0


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        (b"II*\x00" + bytes(64), "image/tiff"),
        (b"MM\x00*" + bytes(64), "image/tiff"),
        (b"PK\x03\x04" + bytes(64), "application/ofd"),  # GB/T 33190: a ZIP package
        (b"\xff\xd8\xff\xe0" + bytes(64), "image/jpeg"),
    ],
    ids=["tiff-little-endian", "tiff-big-endian", "ofd", "jpeg"],
)
def test_every_accepted_type_is_taken_by_its_signature(
    store: DocumentStore, content: bytes, media_type: str
) -> None:
    ref = store.put(content, media_type, uploader=ALICE, at=AT).ref
    assert store.get(ref.sha256) == (ref, content) and ref.media_type == media_type


def test_references_pass_only_for_the_uploaders_own_documents(store: DocumentStore) -> None:
    mine = store.put(PDF, "application/pdf", uploader=ALICE, at=AT).ref
    store.require([mine, ELicenseRef("not-checked-here")], uploader=ALICE)
    with pytest.raises(DocumentNotStored, match=f"{mine.sha256}: not uploaded by this caller"):
        store.require([mine], uploader=BOB)
    with pytest.raises(DocumentNotStored) as refused:
        store.require([mine], uploader=BOB)
    assert BOB not in str(refused.value) and ALICE not in str(refused.value)


def test_a_reference_that_misstates_size_or_type_is_refused(store: DocumentStore) -> None:
    ref = store.put(PDF, "application/pdf", uploader=ALICE, at=AT).ref
    wrong_size = DocumentRef(ref.sha256, ref.size + 1, ref.media_type)
    wrong_type = DocumentRef(ref.sha256, ref.size, "image/png")
    for wrong in (wrong_size, wrong_type):
        with pytest.raises(DocumentNotStored, match="as referenced, stored"):
            store.require([wrong], uploader=ALICE)


def test_a_reference_to_bytes_never_uploaded_names_every_missing_one(
    store: DocumentStore,
) -> None:
    missing = [DocumentRef(hashlib.sha256(bytes([n])).hexdigest(), 1, "image/png") for n in (1, 2)]
    with pytest.raises(DocumentNotStored) as refused:
        store.require(missing, uploader=ALICE)
    assert all(ref.sha256 in str(refused.value) for ref in missing)


def test_concurrent_uploads_of_the_same_bytes_store_them_once(store: DocumentStore) -> None:
    created: list[bool] = []
    errors: list[BaseException] = []

    def upload(uploader: str) -> None:
        try:
            created.append(store.put(PDF, "application/pdf", uploader=uploader, at=AT).created)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(f"uploader-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert created.count(True) == 1
    assert rows(store.database, BLOBS) == 1 and rows(store.database, UPLOADS) == 6


def test_an_upload_past_the_daily_quota_is_refused_and_stores_nothing(
    store: DocumentStore,
) -> None:
    first = PDF  # 1,028 bytes
    second = b"%PDF-1.7\n% second\n" + b"%" * 1000
    store.put(first, "application/pdf", uploader=ALICE, at=AT, quota=2000)
    with pytest.raises(UploadQuotaExceeded, match="at most 2000 bytes a day, has uploaded 1028 "):
        store.put(second, "application/pdf", uploader=ALICE, at=AT, quota=2000)
    assert store.get(hashlib.sha256(second).hexdigest()) is None
    assert rows(store.database, UPLOADS) == 1


def test_the_quota_counts_one_uploader_over_the_last_day_only(store: DocumentStore) -> None:
    second = b"%PDF-1.7\n% second\n" + b"%" * 1000
    store.put(PDF, "application/pdf", uploader=ALICE, at=AT, quota=2000)
    # The same document again adds nothing; another uploader has a quota of their own.
    store.put(PDF, "application/pdf", uploader=ALICE, at=AT, quota=2000)
    store.put(second, "application/pdf", uploader=BOB, at=AT, quota=2000)
    # A day later the first upload no longer counts.
    later = AT + timedelta(days=1, seconds=1)
    assert store.put(second, "application/pdf", uploader=ALICE, at=later, quota=2000).ref.size
    assert store.uploaded_by(hashlib.sha256(second).hexdigest(), ALICE)


def test_without_a_quota_uploads_are_not_counted(store: DocumentStore) -> None:
    big = b"%PDF-" + bytes(3000)
    store.put(big, "application/pdf", uploader=ALICE, at=AT)
    assert store.put(PDF, "application/pdf", uploader=ALICE, at=AT).created


def test_another_process_finds_the_tables_without_waiting_for_an_open_upload(
    storage_env: dict[str, str], store: DocumentStore
) -> None:
    # A second API process starting while the first is inside an upload's transaction: making
    # the tables again would wait on (and on PostgreSQL, deadlock with) that transaction.
    other = DocumentStore(open_database(open_recorder(storage_env, "documents")))
    finished = threading.Event()
    starter = threading.Thread(target=lambda: (other.create_tables(), finished.set()))
    with store.database.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {BLOBS} (sha256, size, media_type, content, stored_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ("0" * 64, 1, "application/pdf", b"%", AT.isoformat()),
        )
        starter.start()
        starter.join(timeout=5)
        made_without_waiting = finished.is_set()
    starter.join()
    assert made_without_waiting
