"""``caseledger`` commands for read models and audit: project, rebuild, audit checkpoint / proof /
consistency / verify / export / verify-bundle, witness. Parsing and printing only."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from api.config import Settings
from api.context import LedgerContext, open_ledger, root_public_key_path
from api.deps import ReadSide
from keys.trustlist import build_trust_list
from ledger.errors import LedgerError
from ledger.signed_note import NoteVerifierKey
from projections.audit import AuditKeys, audit_verify
from projections.bundle import export_bundle, verify_bundle
from projections.document_store import DocumentStore
from projections.errors import ProjectionError
from projections.witness import Witness

LOG_KEY_FILE = "log.vkey"


def _now() -> datetime:
    return datetime.now(UTC)


def _progress(label: str) -> Callable[[int, int], None]:
    started = time.monotonic()

    def show(done: int, total: int) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        rate = done / max(time.monotonic() - started, 1e-9)
        print(
            f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} ({rate:,.0f}/s)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def _reads(context: LedgerContext) -> ReadSide:
    reads = ReadSide(context.ledger, _database(context), log_signer=context.keys.signer("log"))
    log_key = reads.log.verifier_key()
    (context.settings.data_dir / LOG_KEY_FILE).write_text(log_key.format() + "\n")
    return reads


def _database(context: LedgerContext) -> Any:
    from projections.database import open_database

    return open_database(context.ledger.recorder)


def _with_reads(settings: Settings, work: Callable[[LedgerContext, ReadSide], int]) -> int:
    context = open_ledger(settings)
    try:
        return work(context, _reads(context))
    except (ProjectionError, LedgerError) as failure:
        print(f"\nFAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        context.close()


def cmd_project(settings: Settings, args: argparse.Namespace) -> int:
    """Run the read models: once, or as a worker polling for new events."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        signal.signal(signal.SIGTERM, _stop)
        try:
            return _project(reads, args)
        except KeyboardInterrupt:  # SIGINT, or SIGTERM via _stop: the current page committed
            print("\nstopped", file=sys.stderr)
            return 0

    return _with_reads(settings, work)


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _project(reads: ReadSide, args: argparse.Namespace) -> int:
    """Catch up, sign due checkpoints, report lag; once, or until stopped."""
    while True:
        applied = reads.runner.run_once(progress=_progress("projecting") if args.once else None)
        signed = reads.log.maybe_checkpoint(_now())
        lag = reads.runner.lag(_now())
        if args.once or applied:
            note = f"; checkpoint {signed.checkpoint.size}" if signed else ""
            print(
                f"\napplied {applied} events; lag {lag.events} events, {lag.seconds:.1f} s{note}",
                file=sys.stderr,
            )
        if args.once:
            return 0
        time.sleep(args.interval)


def cmd_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    """Rebuild one read model from scratch with a progress bar."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        if args.name not in reads.runner.models:
            print(
                f"unknown read model {args.name!r}; have {sorted(reads.runner.models)}",
                file=sys.stderr,
            )
            return 2
        count = reads.runner.rebuild(args.name, progress=_progress(f"rebuilding {args.name}"))
        print(f"\nrebuilt {args.name} from {count} events", file=sys.stderr)
        return 0

    return _with_reads(settings, work)


def _fresh_checkpoint(reads: ReadSide) -> Any:
    """Return a checkpoint covering the whole log, signing a new one if the log grew."""
    latest = reads.log.latest_checkpoint()
    if latest is None or latest.checkpoint.size < reads.log.size():
        latest = reads.log.checkpoint(_now())
    return latest


def cmd_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    """Catch the log up, sign a checkpoint if the log grew, print the latest as JSON."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        reads.runner.run_once()
        latest = _fresh_checkpoint(reads)
        body = latest.checkpoint
        print(
            json.dumps(
                {
                    "origin": body.origin,
                    "size": body.size,
                    "root": body.root_hash.hex(),
                    "note": latest.note.decode(),
                    "log_key": reads.log.verifier_key().format(),
                },
                indent=2,
            )
        )
        return 0

    return _with_reads(settings, work)


def cmd_proof(settings: Settings, args: argparse.Namespace) -> int:
    """Print an inclusion proof for leaf ``--index`` in the tree of ``--size`` (default: all)."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        reads.runner.run_once()
        size = args.size or reads.log.size()
        proof = reads.log.inclusion_proof(args.index, size)
        print(
            json.dumps(
                {
                    "index": args.index,
                    "size": size,
                    "leaf_hash": reads.log.leaf_hashes([args.index])[args.index].hex(),
                    "root": reads.log.root(size).hex(),
                    "proof": [p.hex() for p in proof],
                },
                indent=2,
            )
        )
        return 0

    return _with_reads(settings, work)


def cmd_consistency(settings: Settings, args: argparse.Namespace) -> int:
    """Print a consistency proof between two tree sizes."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        reads.runner.run_once()
        new = args.new or reads.log.size()
        proof = reads.log.consistency_proof(args.old, new)
        print(
            json.dumps(
                {
                    "old_size": args.old,
                    "new_size": new,
                    "old_root": reads.log.root(args.old).hex(),
                    "new_root": reads.log.root(new).hex(),
                    "proof": [p.hex() for p in proof],
                },
                indent=2,
            )
        )
        return 0

    return _with_reads(settings, work)


def cmd_audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Re-verify every event, chain link and the Merkle root against the latest checkpoint."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        keys = AuditKeys.from_entries(
            context.ledger.keyring.entries(), context.keys.signer("root").public_key_der()
        )
        report = audit_verify(
            context.ledger,
            keys,
            log=reads.log,
            log_key=reads.log.verifier_key(),
            workers=args.workers,
            progress=_progress("verifying"),
        )
        where = f" and checkpoint {report.checkpoint.size}" if report.checkpoint else ""
        print(
            f"\nOK: {report.events} events in {report.streams} streams on {report.workers} "
            f"workers: signatures, keys, chain links{where} verify"
        )
        return 0

    return _with_reads(settings, work)


def cmd_audit_documents(settings: Settings, args: argparse.Namespace) -> int:
    """Check every referenced document is stored as referenced and every stored one's bytes."""
    from projections.document_audit import audit_documents

    def work(context: LedgerContext, reads: ReadSide) -> int:
        report = audit_documents(
            DocumentStore(_database(context)), progress=_progress("hashing documents")
        )
        print(
            f"\nOK: {report.referenced} documents referred to by events, all stored as referred "
            f"to; {report.stored} stored documents hash to their addresses "
            f"({report.unreferenced} uploaded but not referred to)"
        )
        return 0

    return _with_reads(settings, work)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Write an offline bundle for a case: events, inclusion proofs, checkpoint, trust list."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        reads.runner.run_once()
        _fresh_checkpoint(reads)
        root = context.keys.signer("root")
        sequence, entries = context.ledger.keyring.published()
        trust = build_trust_list(entries, root=root, issued_at=_now(), sequence=sequence)
        bundle = export_bundle(
            reads.log,
            context.ledger.recorder,
            UUID(args.case_id),
            trust_list=trust,
            documents=DocumentStore(_database(context)),
        )
        target = Path(args.output or f"case-{args.case_id}.bundle.cbor")
        target.write_bytes(bundle)
        print(
            f"wrote {target} ({len(bundle)} bytes); verify with: caseledger audit "
            f"verify-bundle {target} --root-key {root_public_key_path(settings.data_dir)} "
            f"--log-key {settings.data_dir / LOG_KEY_FILE}"
        )
        return 0

    return _with_reads(settings, work)


def cmd_verify_bundle(args: argparse.Namespace) -> int:
    """Check a bundle with nothing but the root public key and the log's verifier key."""
    log_key = Path(args.log_key).read_text().strip()
    try:
        report = verify_bundle(
            Path(args.bundle).read_bytes(), Path(args.root_key).read_bytes(), log_key
        )
    except (ProjectionError, LedgerError) as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    print(
        f"OK: case {report.case_id}: {report.events} events, signatures, chain and inclusion "
        f"in checkpoint {report.checkpoint.size} verify; {report.documents} documents hash to "
        "the addresses the events state"
    )
    return 0


def cmd_witness(settings: Settings, args: argparse.Namespace) -> int:
    """Verify the log's latest checkpoint extends the last one seen, cosign it, print the line."""

    def work(context: LedgerContext, reads: ReadSide) -> int:
        reads.runner.run_once()
        latest = _fresh_checkpoint(reads)
        store = context.keys
        name = "witness-" + re.sub(r"[^a-z0-9._-]", "-", args.name.lower())[:50]
        signer = store.signer(name) if name in store.names() else store.generate(name)
        witness = Witness(
            Path(args.state), log_key=reads.log.verifier_key(), name=args.name, signer=signer
        )
        seen = witness.last_seen
        proof: tuple[bytes, ...] = ()
        if seen is not None and 0 < seen.size < latest.checkpoint.size:
            proof = reads.log.consistency_proof(seen.size, latest.checkpoint.size)
        line = witness.cosign(latest.note, proof, _now())
        print(line.decode() if isinstance(line, bytes) else line, end="")
        return 0

    return _with_reads(settings, work)


def add_parsers(sub: Any) -> None:
    """Register the read-model and audit commands on the main parser."""
    project = sub.add_parser("project", help="run the read models (a worker, or --once)")
    project.add_argument("--once", action="store_true", help="catch up once and exit")
    project.add_argument("--interval", type=float, default=0.5, help="poll interval, seconds")
    rebuild = sub.add_parser("rebuild", help="rebuild one read model from scratch")
    rebuild.add_argument("name")
    audit = sub.add_parser("audit", help="transparency log and audit").add_subparsers(
        dest="audit", required=True
    )
    audit.add_parser("checkpoint", help="sign (if due) and print the latest checkpoint")
    proof = audit.add_parser("proof", help="inclusion proof for a leaf (hex, JSON)")
    proof.add_argument("--index", type=int, required=True)
    proof.add_argument("--size", type=int)
    consistency = audit.add_parser("consistency", help="consistency proof between two sizes")
    consistency.add_argument("--old", type=int, required=True)
    consistency.add_argument("--new", type=int)
    verify = audit.add_parser("verify", help="verify every event and the root, on both cores")
    verify.add_argument("--workers", type=int, default=2)
    audit.add_parser(
        "documents", help="check stored material documents against their addresses and events"
    )
    export = audit.add_parser("export", help="write an offline bundle for a case")
    export.add_argument("case_id")
    export.add_argument("-o", "--output")
    bundle = audit.add_parser("verify-bundle", help="check a bundle offline")
    bundle.add_argument("bundle")
    bundle.add_argument("--root-key", required=True)
    bundle.add_argument("--log-key", required=True, help="file with the log's note verifier key")
    witness = sub.add_parser("witness", help="verify and cosign the latest checkpoint")
    witness.add_argument("--state", required=True, help="JSON file of the last checkpoint seen")
    witness.add_argument("--name", default="auditor.example/witness")


def dispatch(settings: Settings, args: argparse.Namespace) -> int | None:
    """Run a read-model or audit command; None if ``args`` is not one of them."""
    if args.command == "project":
        return cmd_project(settings, args)
    if args.command == "rebuild":
        return cmd_rebuild(settings, args)
    if args.command == "witness":
        return cmd_witness(settings, args)
    if args.command != "audit":
        return None
    handlers: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "checkpoint": cmd_checkpoint,
        "proof": cmd_proof,
        "consistency": cmd_consistency,
        "verify": cmd_audit_verify,
        "documents": cmd_audit_documents,
        "export": cmd_export,
    }
    if args.audit == "verify-bundle":
        return cmd_verify_bundle(args)
    return handlers[args.audit](settings, args)


__all__ = ["NoteVerifierKey", "add_parsers", "dispatch"]
