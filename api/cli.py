"""The ``caseledger`` command line: argv parsing and printing only; the work happens in the
ledger, license and projection packages."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from api import cli_audit, cli_bench, cli_keys, cli_regions
from api.auth import AuthError, ensure_token_key, mint_token
from api.config import Settings
from api.context import LedgerContext, key_store, open_ledger, root_public_key_path
from api.demo import play_demo
from api.timeline import print_timeline
from keys.trustlist import build_trust_list
from ledger.actors import Actor, Role
from ledger.catalog_data import load_sample_catalog, load_sample_departments
from ledger.provisioning import provision
from ledger.vault_service import IssuedLicense
from licenses.errors import QRImageUnreadable
from licenses.qr import qr_png
from licenses.qr_scan import read_qr_image
from licenses.types import load_license_types
from licenses.verify import STATUS_MAX_AGE, verify_qr_text
from projections.database import open_database
from projections.document_store import DocumentStore

ADMIN = Actor("platform-admin", Role.ADMIN)
MAX_STATUS_DAYS = 3650  # beyond this, a status list is no check at all


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
        license_types = load_license_types().type_codes_by_issuer()
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
        ensure_token_key(store)  # so a running service accepts locally minted tokens at once
        root = store.signer("root")
        root_public_key_path(settings.data_dir).write_bytes(root.public_key_der())
        sequence, entries = context.ledger.keyring.published()
        trust = build_trust_list(entries, root=root, issued_at=at, sequence=sequence)
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


def cmd_demo(settings: Settings, out_dir: Path | None) -> int:
    """Play a realistic case end to end, print its verified timeline, write the license files."""
    cmd_init(settings)
    # The demo runs today whatever the year: past the last published holiday notice its deadlines
    # are counted on weekends only (provisional) instead of being refused.
    context = open_ledger(replace(settings, provisional_calendar=True))
    target = out_dir or settings.data_dir / "demo"
    try:
        documents = DocumentStore(open_database(context.ledger.recorder))
        case_id, issued = play_demo(context.ledger, start=_now(), out=print, documents=documents)
        print()
        print_timeline(context.ledger, case_id, out=print)
        written = write_license_files(context, issued, target, at=_now())
    finally:
        context.close()
    print()
    print(f"license files in {target}: {', '.join(sorted(p.name for p in written))}")
    print(
        f'  try: caseledger license verify "$(cat {target / "license.qr.txt"})" '
        f"--trust-list {target / 'trust-list.cbor'} --status-list {target / 'status-list.cbor'} "
        f"--root-key {target / 'root.pub.der'}"
    )
    return 0


def write_license_files(
    context: LedgerContext, issued: IssuedLicense, target: Path, *, at: datetime
) -> list[Path]:
    """Write what an offline verifier needs: QR text and image, trust list, root key, status."""
    ledger = context.ledger
    target.mkdir(parents=True, exist_ok=True)
    root = context.keys.signer("root")
    sequence, entries = ledger.keyring.published()
    license_ = ledger.vault.license(issued.license_id)
    files = {
        "license.qr.txt": issued.qr_text.encode("ascii"),
        "license.qr.png": qr_png(issued.qr_text),
        "license.cose": issued.credential,
        "trust-list.cbor": build_trust_list(entries, root=root, issued_at=at, sequence=sequence),
        "root.pub.der": root.public_key_der(),
        "status-list.cbor": ledger.vault.status_list(license_.issuer, at),
    }
    for name, data in files.items():
        (target / name).write_bytes(data)
    return [target / name for name in files]


def cmd_license_verify(args: argparse.Namespace) -> int:
    """Verify a license QR text offline; print the structured result; non-zero unless VALID."""
    at = datetime.fromisoformat(args.at) if args.at else _now()
    if at.tzinfo is None:
        print("--at must carry a timezone, e.g. 2026-11-22T10:00:00+08:00", file=sys.stderr)
        return 2
    if (args.qr_text is None) == (args.image is None):
        print("give exactly one of QR_TEXT and --image FILE", file=sys.stderr)
        return 2
    if not 0 < args.status_max_age <= MAX_STATUS_DAYS:
        print(
            f"--status-max-age must be more than 0 and at most {MAX_STATUS_DAYS} days, "
            f"got {args.status_max_age:g}",
            file=sys.stderr,
        )
        return 2
    qr_text = args.qr_text
    if args.image is not None:
        try:
            qr_text = read_qr_image(args.image.read_bytes())
        except QRImageUnreadable as error:
            print(f"{args.image}: {error}", file=sys.stderr)
            return 2
    status = Path(args.status_list).read_bytes() if args.status_list else None
    root_key = Path(args.root_key or Path(args.trust_list).with_name("root.pub.der")).read_bytes()
    result = verify_qr_text(
        qr_text.strip(),
        Path(args.trust_list).read_bytes(),
        root_key,
        status_list=status,
        at=at,
        status_max_age=timedelta(days=args.status_max_age),
    )
    report: dict[str, object] = {
        "status": result.status.value,
        "step": result.step,
        "step_name": result.step_name,
        "reason": result.reason,
    }
    if result.claims is not None:
        report["license_id"] = result.claims.license_id
        report["issuer"] = result.claims.iss
        report["fields"] = dict(result.claims.fields)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if result.valid else 1


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    """Initialise if needed, then run the HTTP service and say where to go."""
    cmd_init(settings)
    store, _ = key_store(settings)
    ensure_token_key(store)
    base = f"http://{args.host}:{args.port}"
    print()
    print(f"caseledger serving on {base}  (API docs: {base}/docs, OpenAPI: {base}/openapi.json)")
    print(f"  pages (简体中文): {base}/pages/ — sign in at {base}/pages/login with a token")
    print(
        "  a token for trying it: caseledger token --role officer --sub officer-chen "
        "--department zwfwzx"
    )
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
    )
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Mint a bearer token of the local issuer (for local use and tests)."""
    store, _ = key_store(settings)
    minutes = timedelta(minutes=args.minutes)
    try:
        token = mint_token(
            ensure_token_key(store), args.sub, args.role, args.department, minutes, _now()
        )
    except AuthError as refused:
        print(f"cannot mint this token: {refused}", file=sys.stderr)
        return 2
    print(token)
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
    demo = sub.add_parser("demo", help="play a realistic case end to end and print its timeline")
    demo.add_argument("--out", type=Path, help="where to write the license files (data/demo)")
    sub.add_parser("verify", help="verify every stored event (signature, key, chain)")
    lic = sub.add_parser("license", help="e-license tools").add_subparsers(
        dest="tool", required=True
    )
    check = lic.add_parser("verify", help="verify a license QR text (or a picture of it) offline")
    check.add_argument("qr_text", nargs="?", help="the QR text, EL1:…")
    check.add_argument("--image", type=Path, help="a photo or screenshot of the QR code instead")
    check.add_argument("--trust-list", required=True, help="signed trust list (CBOR)")
    check.add_argument("--status-list", help="signed status list (CBOR)")
    check.add_argument("--root-key", help="root public key, DER (default: root.pub.der beside it)")
    check.add_argument("--at", help="verification time, ISO 8601 with timezone (default: now)")
    check.add_argument(
        "--status-max-age",
        type=float,
        metavar="DAYS",
        default=STATUS_MAX_AGE.days,
        help="how old a status list may be for a good status to stand "
        f"(default: {STATUS_MAX_AGE.days}; a revocation stands at any age)",
    )
    serve = sub.add_parser("serve", help="run the HTTP service (initialises on first run)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    token = sub.add_parser("token", help="mint a local bearer token")
    token.add_argument("--sub", required=True, help="subject: holder id, officer or courier id")
    token.add_argument(
        "--role",
        required=True,
        choices=["applicant", "officer", "verifier", "auditor", "courier", "admin"],
    )
    token.add_argument("--department")
    token.add_argument("--minutes", type=int, default=60)
    cli_audit.add_parsers(sub)
    cli_bench.add_parser(sub)
    cli_regions.add_parser(sub)
    cli_keys.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caseledger`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "license":
        return cmd_license_verify(args)
    if args.command == "bench":
        return cli_bench.run(args)
    settings = Settings.from_env()
    handled = cli_audit.dispatch(settings, args)
    if handled is not None:
        return handled
    if args.command == "region":
        return cli_regions.run(settings, args)
    if args.command == "key":
        return cli_keys.run(settings, args)
    if args.command == "demo":
        return cmd_demo(settings, args.out)
    if args.command == "serve":
        return cmd_serve(settings, args)
    if args.command == "token":
        return cmd_token(settings, args)
    handlers = {"init": cmd_init, "verify": cmd_verify}
    return handlers[args.command](settings)


if __name__ == "__main__":
    raise SystemExit(main())
