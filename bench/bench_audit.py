"""``audit_verify`` throughput on one and two cores against raw Ed25519 verification of the same
signatures over the same bytes on two cores (the floor no audit can beat).

    .venv/bin/python bench/bench_audit.py [--events 50000] [--postgres]

The audit re-runs every read check (COSE structure, strict CBOR envelope, key validity, signature,
chain link) and the Merkle root against a signed checkpoint, reading the events itself. The raw
figure is only ``Ed25519PublicKey.verify`` over precomputed Sig_structure bytes, data preloaded in
the worker processes and process start-up excluded.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_der_public_key

from keys import cose
from keys.signer import Ed25519Signer
from projections.audit import AuditKeys, audit_verify
from projections.database import open_database
from projections.runtime import ProjectionRunner, iterate_log
from projections.transparency import TransparencyLog

# Run as a script, this file's directory is on sys.path: the shared ledger writer lives there.
from bench_projections import SignedLedger, storage  # isort: skip


_work: list[tuple[bytes, bytes, bytes]] = []


def _load(work: list[tuple[bytes, bytes, bytes]]) -> None:
    global _work
    _work = work


def _verify_all(_: int) -> float:
    keys: dict[bytes, Ed25519PublicKey] = {}
    start = time.perf_counter()
    for raw, signature, message in _work:
        key = keys.get(raw) or keys.setdefault(raw, Ed25519PublicKey.from_public_bytes(raw))
        key.verify(signature, message)
    return time.perf_counter() - start


def raw_inputs(ledger: SignedLedger, keys: AuditKeys) -> list[tuple[bytes, bytes, bytes]]:
    """(raw public key, signature, Sig_structure) of every event, as the audit verifies them."""
    by_kid: dict[bytes, bytes] = {}
    for entry in keys.entries:
        public = load_der_public_key(entry.public_key)
        if isinstance(public, Ed25519PublicKey):
            by_kid[entry.kid] = public.public_bytes_raw()
    work = []
    for notification in iterate_log(ledger.app.recorder):
        message = cose.decode_sign1(notification.state)
        kid = message.kid or b""
        tbs = cose.sig_structure(message.protected_bytes, message.payload)
        work.append((by_kid[kid], message.signature, tbs))
    return work


def raw_two_cores(work: list[tuple[bytes, bytes, bytes]]) -> float:
    """Return the seconds two processes take to verify ``work`` (start-up excluded)."""
    context = multiprocessing.get_context("spawn")
    halves = [work[: len(work) // 2], work[len(work) // 2 :]]
    pools = [context.Pool(1, initializer=_load, initargs=(half,)) for half in halves]
    try:
        for pool in pools:
            pool.apply(_verify_all, (0,))  # warm: imports and key objects
        pending = [pool.apply_async(_verify_all, (0,)) for pool in pools]
        return max(result.get() for result in pending)
    finally:
        for pool in pools:
            pool.close()
            pool.join()


def measure(env: dict[str, str], events: int) -> None:
    ledger = SignedLedger(env)
    try:
        seconds = ledger.write(events)
        database = open_database(ledger.app.recorder)
        log = TransparencyLog(database, signer=Ed25519Signer.generate())
        ProjectionRunner(ledger.app.recorder, [log], database=database).run_once()
        log.checkpoint(datetime.now(UTC))
        keys = AuditKeys.from_entries(
            ledger.app.keyring.entries(),  # type: ignore[attr-defined]
            ledger.root.public_key_der(),
        )
        total = int(ledger.app.recorder.max_notification_id())
        print(f"\n{total} signed events (written in {seconds:.1f} s), checkpoint at {total}")
        print(f"  {'verification':<44}{'seconds':>10}{'events/s':>12}")
        rows: dict[str, float] = {}
        for workers in (1, 2):
            start = time.perf_counter()
            report = audit_verify(ledger.app, keys, log=log, workers=workers)
            rows[f"audit_verify, {workers} worker(s), with start-up"] = time.perf_counter() - start
            if report.events != total:
                raise SystemExit(f"audit saw {report.events} events, expected {total}")
        rows["raw Ed25519 verify, 2 processes"] = raw_two_cores(raw_inputs(ledger, keys))
        for name, elapsed in rows.items():
            print(f"  {name:<44}{elapsed:>10.2f}{total / elapsed:>12.0f}")
        audit_two = rows["audit_verify, 2 worker(s), with start-up"]
        raw_two = rows["raw Ed25519 verify, 2 processes"]
        print(f"  ratio audit/raw on two cores (events/s)      {raw_two / audit_two:>10.2f}")
    finally:
        ledger.app.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL, not SQLite")
    args = parser.parse_args(argv)
    print(f"storage: {'PostgreSQL' if args.postgres else 'SQLite'}")
    with storage(args.postgres) as env:
        measure(env, args.events)


if __name__ == "__main__":
    main()
