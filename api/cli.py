"""The ``caseledger`` command line: argv parsing and printing only; the work happens in the
ledger, license and projection packages."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from api.config import Settings
from api.context import key_store, open_ledger, root_public_key_path
from api.demo import play_demo
from api.timeline import print_timeline
from keys.trustlist import build_trust_list
from ledger.actors import Actor, Role
from ledger.catalog_data import load_sample_catalog, load_sample_departments
from ledger.provisioning import provision

ADMIN = Actor("platform-admin", Role.ADMIN)


def _now() -> datetime:
    return datetime.now(UTC)


def cmd_init(settings: Settings) -> int:
    """Create the data directory, keys, store and sample catalog (idempotent)."""
    store, local_passphrase = key_store(settings)
    if "root" not in store.names():
        store.generate("root")
    context = open_ledger(settings)
    try:
        catalog = load_sample_catalog()
        license_types: dict[str, set[str]] = {}
        for terms in catalog:
            lead = terms.required_departments[0]
            for material in terms.materials:
                if material.e_license_type:
                    license_types.setdefault(lead, set()).add(material.e_license_type)
        at = _now()
        report = provision(
            context.ledger,
            store,
            departments=load_sample_departments(),
            license_types=license_types,
            couriers=["ems"],
            catalog=catalog,
            admin=ADMIN,
            at=at,
        )
        root = store.signer("root")
        root_public_key_path(settings.data_dir).write_bytes(root.public_key_der())
        entries = context.ledger.keyring.entries()
        trust = build_trust_list(entries, root=root, issued_at=at, sequence=len(entries))
        (settings.data_dir / "trust-list.cbor").write_bytes(trust)
    finally:
        context.close()
    where = settings.database_url if settings.uses_postgres else str(settings.sqlite_path)
    print(f"caseledger initialised in {settings.data_dir}")
    print(f"  store: {where}")
    print(f"  keys created: {', '.join(report.keys_created) or 'none (already present)'}")
    print(f"  keys registered: {', '.join(report.keys_registered) or 'none (already present)'}")
    print(f"  catalog items published: {len(report.items_published)}")
    print(f"  root public key: {root_public_key_path(settings.data_dir)}")
    print(f"  trust list: {settings.data_dir / 'trust-list.cbor'} ({len(entries)} keys)")
    if local_passphrase:
        print(
            "  note: keys are encrypted with a generated passphrase in "
            f"{settings.data_dir / '.passphrase'}; set CASELEDGER_KEY_PASSPHRASE in production"
        )
    return 0


def cmd_demo(settings: Settings) -> int:
    """Play a realistic case end to end and print its verified timeline."""
    cmd_init(settings)
    context = open_ledger(settings)
    try:
        case_id = play_demo(context.ledger, start=_now(), out=print)
        print()
        print_timeline(context.ledger, case_id, out=print)
    finally:
        context.close()
    return 0


def cmd_verify(settings: Settings) -> int:
    """Verify every stored event's signature, key validity and chain; non-zero on the first bad."""
    from projections.audit import AuditKeys, audit_verify
    from projections.errors import AuditFailure

    context = open_ledger(settings)
    try:
        ledger = context.ledger
        keys = AuditKeys.from_entries(
            ledger.keyring.entries(), context.keys.signer("root").public_key_der()
        )

        def progress(done: int, total: int) -> None:
            print(f"\r  verified {done}/{total} events", end="", file=sys.stderr, flush=True)

        try:
            report = audit_verify(ledger, keys, workers=2, progress=progress)
        except AuditFailure as failure:
            print(file=sys.stderr)
            print(f"FAILED: {failure}", file=sys.stderr)
            return 1
    finally:
        context.close()
    print(file=sys.stderr)
    print(
        f"OK: {report.events} events in {report.streams} streams: every signature, key and "
        "chain link verifies"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(prog="caseledger", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create keys, the store and the sample catalog")
    sub.add_parser("demo", help="play a realistic case end to end and print its timeline")
    sub.add_parser("verify", help="verify every stored event (signature, key, chain)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caseledger`` console script."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    handlers = {"init": cmd_init, "demo": cmd_demo, "verify": cmd_verify}
    return handlers[args.command](settings)


if __name__ == "__main__":
    raise SystemExit(main())
