"""Projection errors state the expected and the actual value."""

from __future__ import annotations

from uuid import UUID

import pytest

from projections.errors import (
    AuditFailure,
    BundleInvalid,
    ForkDetected,
    ProjectionError,
    TrackingConflict,
    TransparencyError,
)

STREAM = UUID("7b0c4b4e-6d0f-4d07-9a4e-1f3f0a6e2c11")


def test_an_audit_failure_names_the_event_its_stream_seq_leaf_and_check() -> None:
    failure = AuditFailure(
        "chain", "prev 00 does not match", notification_id=12, stream=STREAM, seq=3, leaf_index=11
    )
    assert str(failure) == (
        f"audit: event #12 ({STREAM}#3, leaf 11) failed check 'chain': prev 00 does not match"
    )
    assert str(AuditFailure("merkle", "root differs")) == (
        "audit: log failed check 'merkle': root differs"
    )


def test_a_fork_states_both_roots() -> None:
    fork = ForkDetected("log", 7, b"\x01", b"\x02")
    assert isinstance(fork, TransparencyError)
    assert str(fork) == "fork in 'log' at size 7: expected root 01 (already seen), got 02"


def test_a_tracking_conflict_states_both_positions() -> None:
    assert str(TrackingConflict("counts", 40, 60)) == (
        "read model 'counts': expected tracking position 40, found 60"
    )
    assert str(TrackingConflict("counts", 40, None)).endswith("found no tracking row")


def test_every_error_is_a_projection_error() -> None:
    with pytest.raises(ProjectionError, match="bundle failed step 'chain': expected event #2"):
        raise BundleInvalid("chain", "expected event #2, got #3")


def test_an_audit_failure_survives_the_trip_from_a_worker_process() -> None:
    import pickle

    failure = AuditFailure(
        "key", "unknown kid", notification_id=3, stream=STREAM, seq=1, leaf_index=2
    )
    copy = pickle.loads(pickle.dumps(failure))
    assert (type(copy), str(copy), copy.stream, copy.leaf_index) == (
        AuditFailure,
        str(failure),
        STREAM,
        2,
    )
