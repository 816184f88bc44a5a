"""Offline case bundles: a case's events (exact stored bytes) with their inclusion proofs against
a signed checkpoint, the signed trust list and the material documents the events refer to,
checkable with nothing but the root public key and the log's verifier key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from keys import cbor, cose
from keys.errors import KeyManagementError
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.documents import document_references, referenced_documents
from ledger.errors import IntegrityError, LedgerError
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.signed_note import NoteVerifierKey
from ledger.signing import event_hash, genesis_hash
from ledger.transcodings import loads
from projections.audit import AuditKeys
from projections.document_store import DocumentStore
from projections.errors import BundleInvalid, ProofUnavailable
from projections.transparency import TransparencyLog

FORMAT = "caseledger-case-bundle/1"


@dataclass(frozen=True)
class BundleReport:
    """A bundle that verified: the case, how many of its events and documents, and the
    checkpoint the events are in."""

    case_id: UUID
    events: int
    checkpoint: Checkpoint
    documents: int = 0


def _referenced(state: bytes) -> set[str]:
    """The documents one stored event's data refers to (its bytes already verified or logged)."""
    payload = loads(cose.decode_sign1(state).payload)
    return referenced_documents(payload.get("data") if isinstance(payload, dict) else None)


def export_bundle(
    log: TransparencyLog,
    recorder: ApplicationRecorder,
    case_id: UUID,
    *,
    trust_list: bytes,
    documents: DocumentStore | None = None,
) -> bytes:
    """Return the CBOR bundle of a case's events that the latest checkpoint covers, with the
    bytes of every document they refer to when ``documents`` is given."""
    latest = log.latest_checkpoint()
    if latest is None:
        raise ProofUnavailable("expected a signed checkpoint to prove against, the log has none")
    size = latest.checkpoint.size
    # 1. The stream's events from seq 1 on, as far as the checkpoint covers them.
    covered = []
    for seq, record in enumerate(log.stream_leaves(case_id), start=1):
        if record.seq != seq or record.leaf_index >= size:
            break
        covered.append(record)
    if not covered:
        raise ProofUnavailable(
            f"expected events of {case_id} in checkpoint #{latest.number} (size {size}), found none"
        )
    # 2. Their exact bytes, which must still be the leaves the log holds.
    rows = {row.originator_version: row for row in recorder.select_events(case_id)}
    indexes = [record.leaf_index for record in covered]
    hashes = log.leaf_hashes(indexes)
    proofs = log.inclusion_proofs(indexes, size)
    events: list[dict[str, Any]] = []
    for record, proof in zip(covered, proofs, strict=True):
        row = rows.get(record.seq)
        if row is None or leaf_hash(row.state) != hashes[record.leaf_index]:
            raise ProofUnavailable(
                f"event {case_id}#{record.seq} no longer matches leaf {record.leaf_index} of the "
                "log: expected the logged bytes (run an audit)"
            )
        events.append(
            {
                "seq": record.seq,
                "topic": row.topic,
                "state": row.state,
                "leaf": record.leaf_index,
                "proof": list(proof),
            }
        )
    document: dict[str, Any] = {
        "format": FORMAT,
        "case": str(case_id),
        "checkpoint": latest.note,
        "trust_list": trust_list,
        "events": events,
    }
    if documents is not None:
        # 3. The documents those events refer to, as the store keeps them.
        included: dict[str, bytes] = {}
        for sha256 in sorted({s for e in events for s in _referenced(e["state"])}):
            found = documents.get(sha256)
            if found is None:
                raise ProofUnavailable(
                    f"document {sha256} of {case_id} is not in the store (run audit documents)"
                )
            included[sha256] = found[1]
        document["documents"] = included
    return cbor.dumps_canonical(document)


def verify_bundle(
    data: bytes, root_public_key_der: bytes, log_verifier_key: NoteVerifierKey | str
) -> BundleReport:
    """Check a bundle offline: trust list, checkpoint signature, events, chain, inclusion."""
    # 1. Strict CBOR in the bundle format.
    case_id, document = _parse(data)
    # 2. The trust list, signed by the root key.
    try:
        keys = AuditKeys.from_trust_list(document["trust_list"], root_public_key_der)
    except KeyManagementError as exc:
        raise BundleInvalid("trust-list", str(exc)) from None
    # 3. The checkpoint, signed by the log's key.
    try:
        key = (
            NoteVerifierKey.parse(log_verifier_key)
            if isinstance(log_verifier_key, str)
            else log_verifier_key
        )
        checkpoint, _ = open_checkpoint(document["checkpoint"], [key])
    except LedgerError as exc:
        raise BundleInvalid("checkpoint", str(exc)) from None
    mapper = keys.mapper()
    prev = genesis_hash(case_id)
    stated: dict[str, object] = {}
    for seq, event in enumerate(document["events"], start=1):
        # 4. Consecutive events from the first, each signed by a key valid for its actor.
        if event["seq"] != seq:
            raise BundleInvalid("chain", f"expected event #{seq}, got #{event['seq']}")
        stored = StoredEvent(case_id, seq, event["topic"], event["state"])
        try:
            envelope = mapper.verify(stored, prev)
        except IntegrityError as exc:
            raise BundleInvalid(exc.check, str(exc)) from None
        prev = event_hash(event["state"])
        # 5. Each one a leaf of the checkpointed tree.
        try:
            verify_inclusion(
                leaf_hash(event["state"]),
                event["leaf"],
                checkpoint.size,
                event["proof"],
                checkpoint.root_hash,
            )
        except LedgerError as exc:
            raise BundleInvalid("inclusion", f"event #{seq}: {exc}") from None
        for sha256, ref in document_references(envelope.get("data")).items():
            stated.setdefault(sha256, ref.get("size"))
    # 6. Each document given hashes to its address and is one the events refer to, as stated.
    given: dict[str, bytes] = document.get("documents", {})
    for sha256, content in sorted(given.items()):
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha256:
            raise BundleInvalid("documents", f"document {sha256}: its bytes hash to {actual}")
        if sha256 not in stated:
            raise BundleInvalid("documents", f"document {sha256}: no event refers to it")
        if len(content) != stated[sha256]:
            raise BundleInvalid(
                "documents",
                f"document {sha256}: expected {stated[sha256]} bytes as stated, got {len(content)}",
            )
    if "documents" in document and set(stated) - set(given):
        missing = sorted(set(stated) - set(given))
        raise BundleInvalid("documents", f"expected every referred-to document, missing {missing}")
    return BundleReport(case_id, len(document["events"]), checkpoint, len(given))


def _parse(data: bytes) -> tuple[UUID, dict[str, Any]]:
    try:
        document = cbor.loads_strict(data)
    except KeyManagementError as exc:
        raise BundleInvalid("format", str(exc)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise BundleInvalid("format", f"expected format {FORMAT!r}, got {found!r}")
    shape = {"case": str, "checkpoint": bytes, "trust_list": bytes, "events": list}
    for field, kind in shape.items():
        if not isinstance(document.get(field), kind):
            raise BundleInvalid("format", f"expected {field!r} as {kind.__name__}")
    event_shape = {"seq": int, "topic": str, "state": bytes, "leaf": int, "proof": list}
    for number, event in enumerate(document["events"], start=1):
        if not isinstance(event, dict) or any(
            not isinstance(event.get(k), t) or isinstance(event.get(k), bool)
            for k, t in event_shape.items()
        ):
            raise BundleInvalid(
                "format", f"event {number}: expected fields {sorted(event_shape)} of their types"
            )
        if not all(isinstance(p, bytes) for p in event["proof"]):
            raise BundleInvalid("format", f"event {number}: expected proof hashes as bytes")
    if not document["events"]:
        raise BundleInvalid("format", "expected at least one event, got none")
    given = document.get("documents", {})
    if not isinstance(given, dict) or not all(
        isinstance(k, str) and isinstance(v, bytes) for k, v in given.items()
    ):
        raise BundleInvalid("format", "expected 'documents' as a map of SHA-256 hex to bytes")
    try:
        case_id = UUID(document["case"])
    except ValueError:
        raise BundleInvalid(
            "format", f"expected a UUID case id, got {document['case']!r}"
        ) from None
    return case_id, document
