"""``audit documents``: every document the events refer to is in the store as referenced, and every
stored document's bytes still hash to their address — so a material altered or lost at rest is
found and named with the event that refers to it. (``audit verify`` checks the events themselves.)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from keys import cose
from keys.errors import KeyManagementError
from ledger.documents import document_references
from ledger.transcodings import EncodingError, loads
from projections.database import Database
from projections.document_store import BLOBS, DocumentStore
from projections.errors import AuditFailure
from projections.runtime import Progress, iterate_log


@dataclass(frozen=True)
class Reference:
    """The first event that refers to a document, with the size and type it states."""

    notification_id: int
    stream: UUID
    seq: int
    size: int
    media_type: str


@dataclass(frozen=True)
class DocumentAuditReport:
    """A clean document audit: how many were referenced, stored, and stored but never used."""

    referenced: int
    stored: int
    unreferenced: int


def _references(database: Database) -> dict[str, Reference]:
    found: dict[str, Reference] = {}
    for notification in iterate_log(database.recorder):
        notification_id, seq = notification.id, notification.originator_version
        stream = UUID(str(notification.originator_id))
        try:
            payload = loads(cose.decode_sign1(notification.state).payload)
        except (KeyManagementError, EncodingError) as exc:
            raise AuditFailure(
                "structure", str(exc), notification_id=notification_id, stream=stream, seq=seq
            ) from None
        data = payload.get("data") if isinstance(payload, dict) else None
        for sha256, ref in document_references(data).items():
            if sha256 not in found:
                size, media_type = int(ref["size"]), str(ref["media_type"])
                found[sha256] = Reference(notification_id, stream, seq, size, media_type)
    return found


def audit_documents(
    store: DocumentStore, *, progress: Progress | None = None
) -> DocumentAuditReport:
    """Check referenced documents against the store and every stored document against its
    address; raise ``AuditFailure`` naming the first document lost or altered."""
    database = store.database
    store.create_tables()
    references = _references(database)
    with database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {BLOBS}")
        row = cursor.fetchone()
    total = int(row[0]) if row else 0
    # 1. Every stored document's bytes hash to its address, with the size and type it was kept as.
    stored: dict[str, tuple[int, str]] = {}
    after = ""
    while True:
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT sha256, size, media_type, content FROM {BLOBS} WHERE sha256 > ? "
                "ORDER BY sha256 LIMIT ?",
                (after, 100),
            )
            rows = cursor.fetchall()
        if not rows:
            break
        for sha256, size, media_type, content in rows:
            actual = hashlib.sha256(bytes(content)).hexdigest()
            if actual != sha256 or len(content) != int(size):
                where = references.get(str(sha256))
                raise AuditFailure(
                    "document-altered",
                    f"document {sha256}: expected bytes hashing to it ({size} bytes), got "
                    f"{len(content)} bytes hashing to {actual}",
                    notification_id=where.notification_id if where else None,
                    stream=where.stream if where else None,
                    seq=where.seq if where else None,
                )
            stored[str(sha256)] = (int(size), str(media_type))
        after = str(rows[-1][0])
        if progress is not None:
            progress(len(stored), total)
    # 2. Every document an event refers to is stored as that event states it.
    for sha256, where in sorted(references.items()):
        kept = stored.get(sha256)
        if kept is None:
            raise AuditFailure(
                "document-missing",
                f"document {sha256} is referred to but not in the store",
                notification_id=where.notification_id,
                stream=where.stream,
                seq=where.seq,
            )
        if kept != (where.size, where.media_type):
            raise AuditFailure(
                "document-mismatch",
                f"document {sha256}: the event states {where.size} bytes of {where.media_type}, "
                f"the store keeps {kept[0]} bytes of {kept[1]}",
                notification_id=where.notification_id,
                stream=where.stream,
                seq=where.seq,
            )
    return DocumentAuditReport(
        referenced=len(references),
        stored=len(stored),
        unreferenced=len(set(stored) - set(references)),
    )
