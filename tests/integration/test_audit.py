"""``audit verify`` and offline case bundles on real SQLite and PostgreSQL: a clean log passes on
two cores, and every kind of damage is reported at the first bad event with the check it failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from keys import cbor
from keys.errors import KeyNotValid
from keys.signer import Ed25519Signer
from keys.trustlist import build_trust_list
from ledger.signing import event_hash
from projections.audit import AuditKeys, StoreLocation, audit_verify
from projections.bundle import export_bundle, verify_bundle
from projections.database import open_database
from projections.errors import AuditFailure, BundleInvalid, ProofUnavailable
from projections.runtime import ProjectionRunner
from projections.transparency import TransparencyLog
from tests.integration.worlds import T0, World

LOG_KEY = Ed25519Signer.from_seed(b"\x07" * 32)


class Ledger:
    """A world with its transparency log caught up and checkpointed."""

    def __init__(self, env: dict[str, str], notes: int, lines: int) -> None:
        self.world = World(env)
        self.streams = [self.world.note(lines=lines) for _ in range(notes)]
        self.log = TransparencyLog(open_database(self.world.app.recorder), signer=LOG_KEY)
        self.runner = ProjectionRunner(self.world.app.recorder, [self.log])
        self.runner.run_once()
        self.log.checkpoint(T0)
        self.keys = AuditKeys.from_entries(
            self.world.app.keyring.entries(), self.world.root.public_key_der()
        )

    def audit(self, **kwargs: Any) -> Any:
        kwargs.setdefault("workers", 1)
        return audit_verify(self.world.app, self.keys, log=self.log, **kwargs)

    def nid(self, stream: UUID, seq: int) -> int:
        return next(r.notification_id for r in self.log.stream_leaves(stream) if r.seq == seq)

    def leaf(self, stream: UUID, seq: int) -> int:
        return next(r.leaf_index for r in self.log.stream_leaves(stream) if r.seq == seq)

    def state(self, stream: UUID, seq: int) -> bytes:
        return self.world.rows(stream)[seq - 1][2]

    def forge(self, stream: UUID, seq: int, text: str) -> None:
        """Re-sign an altered event with the right key and prev (an insider with the seal)."""
        events = list(self.world.app.signed_events.get(stream))
        forged = object.__new__(type(events[seq - 1]))
        forged.__dict__.update(vars(events[seq - 1]), text=text)
        prev = event_hash(self.state(stream, seq - 1))
        stored = self.world.app.signed_events.signing.to_signed_stored_event(forged, prev)
        self.world.set_state(stream, seq, stored.state)


@pytest.fixture
def small(storage_env: dict[str, str]) -> Iterator[Ledger]:
    ledger = Ledger(storage_env, notes=3, lines=6)  # 5 key events + 3 x 7 note events
    yield ledger
    ledger.world.app.close()


def flip_signature(state: bytes) -> bytes:
    return state[:-1] + bytes([state[-1] ^ 1])


def test_a_clean_log_passes_on_two_workers_and_reports_progress(
    storage_env: dict[str, str],
) -> None:
    ledger = Ledger(storage_env, notes=3, lines=700)
    seen: list[tuple[int, int]] = []
    report = ledger.audit(workers=2, chunk_level=9, progress=lambda d, t: seen.append((d, t)))
    assert (report.events, report.streams, report.workers) == (2108, 6, 2)
    assert report.checkpoint is not None and report.checkpoint.size == 2108
    assert seen[-1] == (2108, 2108)
    assert len(seen) == 5
    ledger.world.app.close()


def test_audit_names_the_first_bad_event_across_workers(small: Ledger) -> None:
    later, earlier = small.streams[2], small.streams[0]
    small.world.set_state(later, 2, flip_signature(small.state(later, 2)))
    small.world.set_state(earlier, 5, flip_signature(small.state(earlier, 5)))
    with pytest.raises(AuditFailure, match="failed check 'signature'") as err:
        small.audit(workers=2, chunk_level=2)
    failure = err.value
    assert (failure.stream, failure.seq, failure.check) == (earlier, 5, "signature")
    assert failure.notification_id == small.nid(earlier, 5)
    assert failure.leaf_index == small.leaf(earlier, 5)


@pytest.mark.parametrize("chunk_level", [1, 10])
def test_a_deleted_event_breaks_the_chain_at_its_successor(small: Ledger, chunk_level: int) -> None:
    stream = small.streams[1]
    successor = small.nid(stream, 4)
    small.world.delete(stream, 3)
    with pytest.raises(AuditFailure, match=f"event #{successor} .* failed check 'chain'") as err:
        small.audit(chunk_level=chunk_level)
    assert (err.value.stream, err.value.seq) == (stream, 4)


def test_a_deleted_last_event_of_a_stream_is_located_by_the_checkpointed_tree(
    small: Ledger,
) -> None:
    stream, after = small.streams[0], small.streams[1]
    gone = small.nid(stream, 7)
    small.world.delete(stream, 7)
    expected = f"checkpointed tree holds .* \\(notification #{gone}\\)"
    with pytest.raises(AuditFailure, match=expected) as err:
        small.audit()
    assert (err.value.check, err.value.stream, err.value.seq) == ("merkle", after, 1)
    assert err.value.leaf_index == small.leaf(stream, 7)


def test_an_edit_after_a_checkpoint_is_detected_with_its_leaf_index(small: Ledger) -> None:
    stream = small.streams[1]
    index = small.leaf(stream, 7)
    small.forge(stream, 7, "a line nobody wrote")
    with pytest.raises(AuditFailure, match=f"failed check 'merkle': leaf {index}: ") as err:
        small.audit()
    assert (err.value.stream, err.value.seq, err.value.leaf_index) == (stream, 7, index)
    assert err.value.notification_id == small.nid(stream, 7)


def test_a_log_rebuilt_from_edited_events_cannot_hide_the_edit(small: Ledger) -> None:
    small.forge(small.streams[2], 7, "rewritten history")
    small.runner.rebuild(small.log.name)
    with pytest.raises(AuditFailure, match="does not match the checkpoint either") as err:
        small.audit()
    assert (err.value.check, err.value.notification_id) == ("merkle", None)


@pytest.mark.parametrize(
    ("level", "index", "message"),
    [
        (1, 0, r"failed check 'log-tree': stored subtree \(1, 0\) is 0000"),
        (4, 0, "failed check 'log-tree': the events match checkpoint size 26, but the stored"),
    ],
)
def test_a_stored_tree_the_events_disprove_is_reported(
    small: Ledger, level: int, index: int, message: str
) -> None:
    with small.log.database.transaction() as cursor:
        cursor.execute(
            "UPDATE tlog_nodes SET hash = ? WHERE level = ? AND idx = ?", (b"\0" * 32, level, index)
        )
    with pytest.raises(AuditFailure, match=message) as err:
        small.audit(chunk_level=2)
    assert err.value.notification_id is None


def test_events_signed_by_a_key_the_auditor_does_not_trust_fail_the_key_check(
    small: Ledger,
) -> None:
    root_only = [e for e in small.world.app.keyring.entries() if e.role == "root"]
    keys = AuditKeys.from_entries(root_only, small.world.root.public_key_der())
    with pytest.raises(
        AuditFailure, match="failed check 'key': key id .* is not registered"
    ) as err:
        audit_verify(StoreLocation.of(small.world.app), keys, workers=1)
    assert (err.value.stream, err.value.seq) == (small.streams[0], 1)


def test_key_entries_the_root_did_not_certify_are_refused(small: Ledger) -> None:
    other_root = Ed25519Signer.generate().public_key_der()
    with pytest.raises(KeyNotValid, match="certificate of key .* does not verify"):
        AuditKeys.from_entries(small.world.app.keyring.entries(), other_root)


def bundle_of(ledger: Ledger, stream: UUID) -> bytes:
    trust_list = build_trust_list(
        ledger.world.app.keyring.entries(), root=ledger.world.root, issued_at=T0, sequence=1
    )
    return export_bundle(ledger.log, ledger.world.app.recorder, stream, trust_list=trust_list)


def test_a_case_bundle_verifies_offline(small: Ledger) -> None:
    stream = small.streams[1]
    bundle = bundle_of(small, stream)
    report = verify_bundle(bundle, small.world.root.public_key_der(), str(small.log.verifier_key()))
    assert (report.case_id, report.events, report.checkpoint.size) == (stream, 7, 26)


def test_a_bundle_covers_only_what_the_latest_checkpoint_covers(small: Ledger) -> None:
    stream = small.world.note(lines=2)
    with pytest.raises(ProofUnavailable, match=f"expected events of {stream} in checkpoint #1"):
        bundle_of(small, stream)
    small.runner.run_once()
    small.log.checkpoint(T0 + timedelta(minutes=1))
    report = verify_bundle(
        bundle_of(small, stream), small.world.root.public_key_der(), small.log.verifier_key()
    )
    assert report.events == 3


def tampered(bundle: bytes, change: Any) -> bytes:
    document = cbor.loads_strict(bundle)
    change(document)
    return cbor.dumps_canonical(document)


def test_a_tampered_bundle_is_rejected_at_the_step_it_breaks(small: Ledger) -> None:
    bundle = bundle_of(small, small.streams[0])
    root_key = small.world.root.public_key_der()
    vkey = small.log.verifier_key()

    def flip_event(d: dict[str, Any]) -> None:
        d["events"][2]["state"] = flip_signature(d["events"][2]["state"])

    def drop_event(d: dict[str, Any]) -> None:
        del d["events"][3]

    def other_leaf(d: dict[str, Any]) -> None:
        d["events"][1]["leaf"] += 1

    def short_proof(d: dict[str, Any]) -> None:
        d["events"][4]["proof"] = d["events"][4]["proof"][:-1]

    def foreign_trust_list(d: dict[str, Any]) -> None:
        other = Ed25519Signer.generate()
        d["trust_list"] = build_trust_list([], root=other, issued_at=T0, sequence=1)

    def unsigned_checkpoint(d: dict[str, Any]) -> None:
        d["checkpoint"] = d["checkpoint"].replace(b"\n26\n", b"\n25\n")

    cases = [
        (flip_event, "signature", "event .*#3 failed check 'signature'"),
        (drop_event, "chain", "expected event #4, got #5"),
        (other_leaf, "inclusion", "event #2: inclusion proof"),
        (short_proof, "inclusion", "event #5: inclusion proof: expected .* hashes"),
        (foreign_trust_list, "trust-list", "trust list must be signed by root key"),
        (unsigned_checkpoint, "checkpoint", "signature by caseledger.example/log"),
    ]
    for change, step, message in cases:
        with pytest.raises(BundleInvalid, match=message) as err:
            verify_bundle(tampered(bundle, change), root_key, vkey)
        assert err.value.step == step
    with pytest.raises(BundleInvalid, match="bundle failed step 'format': expected format"):
        verify_bundle(cbor.dumps_canonical({"format": "x"}), root_key, vkey)
    with pytest.raises(BundleInvalid, match="step 'format': expected exactly one CBOR data item"):
        verify_bundle(bundle + b"\x00", root_key, vkey)
