"""Audit (电子监察): a case's trace with each event's signer, verification and log position, the
latest signed checkpoint, inclusion and consistency proofs (hex), offline case bundles, and the
events of a department's officers. Auditors read everything and change nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from api.deps import LedgerDep, Now, ReadsDep, RuntimeDep, allow
from api.errors import problem_responses
from api.key_schemas import KID
from api.routes.case_reads import jsonable_entry
from api.schemas import (
    CheckpointPublic,
    ConsistencyPublic,
    InclusionPublic,
    TimelineEntryPublic,
    jsonable,
)
from keys.trustlist import build_trust_list
from ledger.actors import Role
from ledger.errors import MerkleTreeError
from ledger.timeline import timeline
from projections.audit_index import AuditIndex
from projections.bundle import export_bundle
from projections.errors import ProofUnavailable
from projections.transparency import SignedCheckpoint

router = APIRouter(
    prefix="/v1/audit",
    tags=["audit"],
    dependencies=[allow(Role.AUDITOR)],
    responses=problem_responses(401, 403, 404, 422),
)
SIZE_MAX = 2**40


def _latest(reads: ReadsDep) -> SignedCheckpoint:
    latest = reads.log.latest_checkpoint()
    if latest is None:
        raise ProofUnavailable("expected a signed checkpoint, the log has none yet")
    return latest


@router.get("/cases/{case_id}/trace")
def case_trace(case_id: UUID, ledger: LedgerDep, reads: ReadsDep) -> list[TimelineEntryPublic]:
    """Every event of a case: actor, signing key, verification, leaf index in the log."""
    ledger.case(case_id)
    leaves = {leaf.seq: leaf.leaf_index for leaf in reads.log.stream_leaves(case_id)}
    return [
        TimelineEntryPublic(**jsonable_entry(vars(e)), leaf_index=leaves.get(e.seq))
        for e in timeline(ledger, case_id)
    ]


@router.get("/checkpoint")
def latest_checkpoint(reads: ReadsDep) -> CheckpointPublic:
    """The newest signed checkpoint (C2SP signed note) and the log's verifier key."""
    latest = _latest(reads)
    return CheckpointPublic(
        number=latest.number,
        origin=latest.checkpoint.origin,
        size=latest.checkpoint.size,
        root=latest.checkpoint.root_hash.hex(),
        note=latest.note.decode("utf-8"),
        issued_at=latest.issued_at,
        verifier_key=reads.log.verifier_key().format(),
    )


@router.get("/proofs/inclusion")
def inclusion_proof(
    reads: ReadsDep,
    case_id: UUID,
    seq: int = Query(ge=1, le=2**31),
    tree_size: int | None = Query(default=None, ge=1, le=SIZE_MAX),
) -> InclusionPublic:
    """The inclusion proof of a case's event (default: in the latest checkpoint's tree)."""
    size = tree_size if tree_size is not None else _latest(reads).checkpoint.size
    leaf = next((x for x in reads.log.stream_leaves(case_id) if x.seq == seq), None)
    if leaf is None or leaf.leaf_index >= size:
        raise ProofUnavailable(f"event {case_id}#{seq} is not among the first {size} leaves")
    proof = reads.log.inclusion_proof(leaf.leaf_index, size)
    leaf_hash = reads.log.leaf_hashes([leaf.leaf_index])[leaf.leaf_index]
    return InclusionPublic(
        leaf_index=leaf.leaf_index,
        tree_size=size,
        leaf_hash=leaf_hash.hex(),
        root=reads.log.root(size).hex(),
        proof=[node.hex() for node in proof],
    )


@router.get("/proofs/consistency")
def consistency_proof(
    reads: ReadsDep,
    old_size: int = Query(ge=1, le=SIZE_MAX),
    new_size: int | None = Query(default=None, ge=1, le=SIZE_MAX),
) -> ConsistencyPublic:
    """The consistency proof between two tree sizes (default new size: the latest checkpoint's)."""
    size = new_size if new_size is not None else _latest(reads).checkpoint.size
    if old_size > size:
        raise MerkleTreeError(f"old size must not exceed the new size {size}, got {old_size}")
    proof = reads.log.consistency_proof(old_size, size)
    return ConsistencyPublic(
        old_size=old_size,
        new_size=size,
        old_root=reads.log.root(old_size).hex(),
        new_root=reads.log.root(size).hex(),
        proof=[node.hex() for node in proof],
    )


@router.get(
    "/cases/{case_id}/bundle",
    response_class=Response,
    responses={200: {"content": {"application/cbor": {}}, "description": "case bundle"}},
)
def case_bundle(case_id: UUID, runtime: RuntimeDep, reads: ReadsDep, now: Now) -> Response:
    """The case's events with inclusion proofs, the trust list and the documents the events refer
    to, checkable offline (CBOR)."""
    ledger = runtime.ledger
    ledger.case(case_id)
    sequence, entries = ledger.keyring.published()
    root = runtime.handle.keys.signer("root")
    trust = build_trust_list(entries, root=root, issued_at=now, sequence=sequence)
    bundle = export_bundle(
        reads.log, ledger.recorder, case_id, trust_list=trust, documents=runtime.documents
    )
    headers = {"Content-Disposition": f'attachment; filename="case-{case_id}.cbor"'}
    return Response(bundle, media_type="application/cbor", headers=headers)


@router.get("/departments/{department}/events")
def department_events(
    reads: ReadsDep,
    department: str = Path(min_length=1, max_length=64, examples=["zjj"]),
    after: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """The events a department's officers acted in, in log order; page with ``after``."""
    page = reads.model(AuditIndex).by_department(
        reads.database, department, after=after, limit=limit
    )
    return {"entries": jsonable([vars(e) for e in page.entries]), "next_after": page.next_after}


@router.get("/keys/{kid}/events")
def key_events(
    ledger: LedgerDep,
    reads: ReadsDep,
    kid: str = Path(pattern=KID, examples=["4d46562d689d1583b513f271a7b4fa58"]),
    after: int = Query(default=0, ge=0, le=2**62),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    """The events signed with a key, in log order, each marked with whether the key could sign
    at its time (false: after its revocation, retirement or expiry); page with ``after``."""
    entry = ledger.keyring.entry(bytes.fromhex(kid))  # 404 unknown-key for a key never registered
    page = reads.model(AuditIndex).by_key(reads.database, entry.kid, after=after, limit=limit)
    entries = [vars(e) | {"key_valid": entry.problem(e.at) is None} for e in page.entries]
    return {"entries": jsonable(entries), "next_after": page.next_after}
