"""The document store: the bytes of materials and supplements, addressed by their SHA-256, kept
in the events' own database (DESIGN §3), with who uploaded each. Events carry only the address.

Content addressing makes a stored document immutable and an upload idempotent: the same bytes
give the same address, whoever sends them and however often.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ledger.documents import ALLOWED_MEDIA_TYPES, DocumentRef, MaterialRef
from projections.database import Database, ViewCursor
from projections.errors import DocumentNotStored, DocumentRejected, UploadQuotaExceeded

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # a scanned multi-page application, not an archive
QUOTA_WINDOW = timedelta(days=1)
BLOBS = "document_blobs"
UPLOADS = "document_uploads"
_DDL_LOCK = 2026120201  # advisory lock key of the store's CREATE statements
_REFUSED = "caseledger documents are immutable: UPDATE refused"
_SQLITE_GUARD = (
    f"CREATE TRIGGER IF NOT EXISTS {BLOBS}_no_update BEFORE UPDATE ON {BLOBS} "
    f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}'); END",
)
_POSTGRES_GUARD = (
    f"CREATE OR REPLACE FUNCTION {BLOBS}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{_REFUSED}' USING ERRCODE = 'insufficient_privilege'; END $$",
    f"DROP TRIGGER IF EXISTS {BLOBS}_no_update ON {BLOBS}",
    f"CREATE TRIGGER {BLOBS}_no_update BEFORE UPDATE ON {BLOBS} "
    f"FOR EACH ROW EXECUTE FUNCTION {BLOBS}_immutable()",
)

# What the first bytes of each accepted media type must be: a declared type that the content
# contradicts is refused, so an officer opening "a PDF" gets a PDF.
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "application/ofd": (b"PK\x03\x04",),  # GB/T 33190: a ZIP package
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
}


@dataclass(frozen=True)
class StoredDocument:
    """A document in the store: its reference and whether this upload stored it first."""

    ref: DocumentRef
    created: bool


def sniffed_media_type(content: bytes) -> str | None:
    """The accepted media type whose signature ``content`` begins with, if any."""
    return next((t for t, marks in _SIGNATURES.items() if content.startswith(marks)), None)


def checked_document(content: bytes, media_type: str) -> DocumentRef:
    """Return the reference of ``content`` as ``media_type``, or refuse what cannot be stored."""
    declared = media_type.split(";", 1)[0].strip().lower()
    if declared not in ALLOWED_MEDIA_TYPES:
        raise DocumentRejected(
            f"media type must be one of {sorted(ALLOWED_MEDIA_TYPES)}, got {media_type!r}"
        )
    if not content:
        raise DocumentRejected("a document must hold at least one byte, got none")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise DocumentRejected(
            f"a document may hold at most {MAX_DOCUMENT_BYTES} bytes, got {len(content)}"
        )
    if not content.startswith(_SIGNATURES[declared]):
        raise DocumentRejected(
            f"content does not begin as {declared} does: expected one of "
            f"{[s.hex() for s in _SIGNATURES[declared]]}, got {content[:8].hex()}"
        )
    return DocumentRef(hashlib.sha256(content).hexdigest(), len(content), declared)


class DocumentStore:
    """Stores and returns document bytes by address, and remembers who uploaded each."""

    def __init__(self, database: Database) -> None:
        self.database = database
        postgres = database.dialect == "postgres"
        self._ddl = (
            f"CREATE TABLE IF NOT EXISTS {BLOBS} (sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, "
            f"media_type TEXT NOT NULL, content {'BYTEA' if postgres else 'BLOB'} NOT NULL, "
            "stored_at TEXT NOT NULL)",
            # uploaded_at in POSIX seconds: the upload quota sums a window of them.
            f"CREATE TABLE IF NOT EXISTS {UPLOADS} (sha256 TEXT NOT NULL, uploader TEXT NOT NULL, "
            f"uploaded_at {'DOUBLE PRECISION' if postgres else 'REAL'} NOT NULL, "
            "PRIMARY KEY (sha256, uploader))",
            f"CREATE INDEX IF NOT EXISTS {UPLOADS}_by_uploader "
            f"ON {UPLOADS} (uploader, uploaded_at)",
            # Defence in depth: the bytes at an address never change (``audit documents`` finds
            # what changes them anyway).
            *(_POSTGRES_GUARD if postgres else _SQLITE_GUARD),
        )
        self._ready = False

    def create_tables(self) -> None:
        """Create the store's tables where missing (once per process, serialised)."""
        if self._ready:
            return
        # Where another process made them, leave them be: replacing the guard takes an exclusive
        # lock on the blobs while that process's uploads hold the uploads table, a deadlock.
        with self.database.transaction(write=False) as cursor:
            present = self._present(cursor)
        if not present:
            with self.database.transaction() as cursor:
                # Concurrent CREATE ... IF NOT EXISTS can collide on PostgreSQL: hence the lock.
                self.database.lock(cursor, _DDL_LOCK)
                if not self._present(cursor):
                    for statement in self._ddl:
                        cursor.execute(statement)
        self._ready = True

    def _present(self, cursor: ViewCursor) -> bool:
        """Whether the tables are there with their guard (the last statement of the DDL)."""
        guard, index = f"{BLOBS}_no_update", f"{UPLOADS}_by_uploader"
        if self.database.dialect == "postgres":
            cursor.execute(
                "SELECT to_regclass(?) IS NOT NULL AND EXISTS (SELECT 1 FROM pg_trigger "
                "WHERE tgrelid = to_regclass(?) AND tgname = ?)",
                (index, BLOBS, guard),
            )
        else:
            cursor.execute(
                "SELECT COUNT(*) = 2 FROM sqlite_master WHERE (type = 'trigger' AND name = ?) "
                "OR (type = 'index' AND name = ?)",
                (guard, index),
            )
        row = cursor.fetchone()
        return bool(row and row[0])

    def put(
        self,
        content: bytes,
        media_type: str,
        *,
        uploader: str,
        at: datetime,
        quota: int | None = None,
    ) -> StoredDocument:
        """Store ``content`` (once) and note ``uploader``; return its reference. With ``quota``,
        refuse an upload that would take the uploader past that many bytes in a day."""
        ref = checked_document(content, media_type)
        stamp = at.isoformat()
        self.create_tables()
        # One media type per address: the content's signature fixes it, and no two accepted
        # types share a signature.
        with self.database.transaction() as cursor:
            if quota is not None:
                self._within_quota(cursor, ref, uploader, at, quota)
            cursor.execute(
                f"INSERT INTO {BLOBS} (sha256, size, media_type, content, stored_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (ref.sha256, ref.size, ref.media_type, content, stamp),
            )
            created = cursor.rowcount == 1
            cursor.execute(
                f"INSERT INTO {UPLOADS} (sha256, uploader, uploaded_at) VALUES (?, ?, ?) "
                "ON CONFLICT (sha256, uploader) DO NOTHING",
                (ref.sha256, uploader, at.timestamp()),
            )
        return StoredDocument(ref, created)

    def _within_quota(
        self, cursor: ViewCursor, ref: DocumentRef, uploader: str, at: datetime, quota: int
    ) -> None:
        # One uploader's uploads are counted one at a time (SQLite's write lock does this too).
        key = int.from_bytes(hashlib.sha256(uploader.encode()).digest()[:8], "big", signed=True)
        self.database.lock(cursor, key)
        cursor.execute(
            f"SELECT 1 FROM {UPLOADS} WHERE sha256 = ? AND uploader = ?", (ref.sha256, uploader)
        )
        if cursor.fetchone() is not None:
            return  # uploading one's own document again adds nothing
        cursor.execute(
            f"SELECT COALESCE(SUM(b.size), 0) FROM {UPLOADS} u JOIN {BLOBS} b "
            "ON b.sha256 = u.sha256 WHERE u.uploader = ? AND u.uploaded_at > ?",
            (uploader, (at - QUOTA_WINDOW).timestamp()),
        )
        row = cursor.fetchone()
        used = int(row[0]) if row else 0
        if used + ref.size > quota:
            raise UploadQuotaExceeded(
                f"an uploader may upload at most {quota} bytes a day, has uploaded {used} in the "
                f"last {QUOTA_WINDOW.days} day(s) and sent {ref.size} more"
            )

    def get(self, sha256: str) -> tuple[DocumentRef, bytes] | None:
        """Return the document at ``sha256`` with its bytes, or None."""
        self.create_tables()
        with self.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT size, media_type, content FROM {BLOBS} WHERE sha256 = ?", (sha256,)
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return DocumentRef(sha256, int(row[0]), str(row[1])), bytes(row[2])

    def uploaded_by(self, sha256: str, uploader: str) -> bool:
        """Whether ``uploader`` uploaded the document at ``sha256``."""
        self.create_tables()
        with self.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT 1 FROM {UPLOADS} WHERE sha256 = ? AND uploader = ?", (sha256, uploader)
            )
            return cursor.fetchone() is not None

    def require(self, refs: Iterable[MaterialRef], *, uploader: str) -> None:
        """Refuse document references that ``uploader`` did not upload, or whose bytes are not
        stored with that size and type (e-license references need no bytes): a case refers only
        to its own party's uploads, so no one reads another's document through their case."""
        wanted = {ref.sha256: ref for ref in refs if isinstance(ref, DocumentRef)}
        if not wanted:
            return
        self.create_tables()
        with self.database.transaction(write=False) as cursor:
            marks = ", ".join("?" for _ in wanted)
            cursor.execute(
                f"SELECT b.sha256, b.size, b.media_type FROM {BLOBS} b JOIN {UPLOADS} u "
                f"ON u.sha256 = b.sha256 WHERE u.uploader = ? AND b.sha256 IN ({marks})",
                (uploader, *wanted),
            )
            found = {str(r[0]): (int(r[1]), str(r[2])) for r in cursor.fetchall()}
        problems = []
        for sha256, ref in sorted(wanted.items()):
            stored = found.get(sha256)
            if stored is None:
                # The uploader is not named: an applicant's principal is their holder id.
                problems.append(f"{sha256}: not uploaded by this caller")
            elif stored != (ref.size, ref.media_type):
                problems.append(
                    f"{sha256}: expected {ref.size} bytes of {ref.media_type} as referenced, "
                    f"stored {stored[0]} bytes of {stored[1]}"
                )
        if problems:
            raise DocumentNotStored(
                "upload each document before referring to it: " + "; ".join(problems)
            )
