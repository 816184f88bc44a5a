"""The audit's pure parts: joining chunk boundaries in log order, and the verifier's trust."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from keys.errors import UnknownKey
from ledger.signing import SigningIdentity, SigningIdentityError, genesis_hash
from projections.audit import _join, audit_verify
from projections.errors import AuditFailure
from projections.verifier import Bad, ChunkResult, EntryDirectory, StoreLocation

A, B = uuid4(), uuid4()
H1, H2, H3 = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def chunk(
    firsts: list[tuple[int, UUID, int, bytes | None, int]],
    heads: dict[UUID, tuple[int, bytes]],
    failure: Bad | None = None,
) -> ChunkResult:
    return ChunkResult(len(firsts), failure, firsts, heads, None, {}, None)


def test_first_events_link_to_the_heads_of_earlier_chunks() -> None:
    heads: dict[UUID, tuple[int, bytes]] = {}
    assert _join(chunk([(1, A, 1, genesis_hash(A), 0)], {A: (3, H1)}), heads) is None
    second = chunk([(9, A, 4, H1, 8), (10, B, 1, genesis_hash(B), 9)], {A: (5, H2), B: (1, H3)})
    assert _join(second, heads) is None
    assert heads == {A: (5, H2), B: (1, H3)}


def test_a_first_event_claiming_another_predecessor_fails_the_chain() -> None:
    heads = {A: (3, H1)}
    bad = _join(chunk([(9, A, 4, H2, 8)], {A: (4, H3)}), heads)
    detail = f"prev {H2.hex()} does not match the previous event {H1.hex()}"
    assert bad == Bad("chain", detail, 9, A, 4, 8)
    assert heads == {A: (3, H1)}


def test_a_stream_that_starts_after_seq_one_is_named_with_its_missing_predecessor() -> None:
    bad = _join(chunk([(9, B, 2, H2, 8)], {}), {})
    assert bad is not None and bad.check == "chain"
    assert "no earlier event of this stream is in the log" in bad.detail


def test_a_chain_break_before_the_workers_own_failure_is_reported_first() -> None:
    worker = Bad("signature", "bad", 12, A, 6, 11)
    bad = _join(chunk([(10, B, 3, H1, 9)], {}, failure=worker), {B: (2, H2)})
    assert bad is not None and (bad.notification_id, bad.check) == (10, "chain")
    assert _join(chunk([(10, B, 3, H2, 9)], {}, failure=worker), {B: (2, H2)}) == worker


def test_the_verifier_directory_never_signs() -> None:
    directory = EntryDirectory([])
    identity = SigningIdentity("root", None)
    with pytest.raises(SigningIdentityError, match="a verifier holds no signing key for root"):
        directory.signer_for(identity, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(UnknownKey, match="key id 0102 is not registered"):
        directory.entry(b"\x01\x02")


def test_bad_worker_counts_and_chunk_levels_are_refused() -> None:
    from projections.audit import AuditKeys

    keys = AuditKeys((), b"")
    location = StoreLocation({}, "x")
    with pytest.raises(AuditFailure, match="expected workers >= 1 .*, got 0 and None"):
        audit_verify(location, keys, workers=0)
    with pytest.raises(AuditFailure, match="chunk level in \\[0, 30\\], got 2 and 31"):
        audit_verify(location, keys, chunk_level=31)


def test_a_worker_that_cannot_start_reports_why_instead_of_respawning() -> None:
    from projections import verifier
    from projections.audit import AuditKeys
    from projections.verifier import ChunkTask, init_worker, run_chunk

    location = StoreLocation({"PERSISTENCE_MODULE": "no.such.module"}, "x")
    try:
        init_worker(location, AuditKeys((), b""), None)
        with pytest.raises(AuditFailure, match="audit worker could not start: .*no.such.module"):
            run_chunk(ChunkTask(0, 0, 1, 1, 0, 0))
    finally:
        verifier._worker = verifier._worker_error = None
