"""``caseledger key``: an administrator on the server reads the key registry, replaces a key this
service holds, revokes a compromised key and enrols a courier's own device key."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from api.config import Settings
from api.context import open_ledger
from keys.errors import KeyManagementError, UnknownKey
from ledger.actors import Actor, Channel, Role
from ledger.commands import Command
from ledger.errors import LedgerError
from ledger.key_views import Replacement

ADMIN = Actor("platform-admin", Role.ADMIN)
KID_PATTERN = re.compile(r"[0-9a-fA-F]{32}")
PEM_MARKER = b"-----BEGIN"


class BadInput(Exception):
    """An argument refused before the ledger is opened (so nothing can have changed)."""


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``key`` commands to the ``caseledger`` parser."""
    key = sub.add_parser("key", help="the key registry: list, rotate, revoke, enrol")
    tools = key.add_subparsers(dest="key_tool", required=True)
    tools.add_parser("list", help="every registered key with its state, as JSON")
    rotate = tools.add_parser("rotate", help="replace a key this service holds with a new one")
    rotate.add_argument("kid", help="the key id, 32 hex digits")
    rotate.add_argument(
        "--starts-at",
        metavar="TIME",
        help="the new key signs from this time, ISO 8601 with timezone, up to 90 days ahead, "
        "so that offline verifiers fetch the trust list naming it first (default: now)",
    )
    revoke = tools.add_parser("revoke", help="revoke a key, from now or from its compromise")
    revoke.add_argument("kid", help="the key id, 32 hex digits")
    revoke.add_argument("--reason", required=True, help="why, kept in the registry")
    revoke.add_argument(
        "--from",
        dest="revoked_from",
        metavar="TIME",
        help="revoked from this time, ISO 8601 with timezone (default: now)",
    )
    enrol = tools.add_parser("enrol", help="register a provisioned courier's device public key")
    enrol.add_argument("--courier", required=True, help="the courier's principal, e.g. ems")
    enrol.add_argument(
        "--public-key", type=Path, required=True, help="DER SubjectPublicKeyInfo or PEM file"
    )
    enrol.add_argument("--replaces", metavar="KID", help="the device key this one replaces")


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``key`` command; print the answer as JSON; 2 on bad input or a refusal."""
    tool = args.key_tool
    try:
        # Arguments are checked before the ledger opens: a typo must not reach the registry.
        kid = parse_kid(args.kid) if tool in ("rotate", "revoke") else b""
        revoked_from = parse_time(args.revoked_from, "--from") if tool == "revoke" else None
        starts_at = parse_time(args.starts_at, "--starts-at") if tool == "rotate" else None
        replaces = None
        public_key = b""
        if tool == "enrol":
            replaces = None if args.replaces is None else parse_kid(args.replaces)
            public_key = read_public_key(args.public_key)
    except BadInput as refused:
        return _refused(str(refused))
    try:
        context = open_ledger(settings)
    except UnknownKey as missing:  # no root key: this data directory was never initialised
        return _refused(f"{missing} (run caseledger init first)")
    except KeyManagementError as unreadable:
        return _refused(str(unreadable))
    try:
        admin = context.ledger.key_admin
        cmd = Command(at=datetime.now(UTC), actor=ADMIN, channel=Channel.SYSTEM)
        answer: Any
        try:
            if tool == "list":
                answer = admin.keys(cmd.at)
            elif tool == "rotate":
                answer = _shown(admin.rotate(cmd, kid, starts_at=starts_at))
            elif tool == "revoke":
                answer = admin.revoke(cmd, kid, reason=args.reason, revoked_at=revoked_from)
            else:
                answer = _shown(
                    admin.enrol(
                        cmd, courier=args.courier, public_key_der=public_key, replaces=replaces
                    )
                )
        except (LedgerError, KeyManagementError) as refused:
            return _refused(str(refused))
        print(json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    finally:
        context.close()


def parse_kid(text: str) -> bytes:
    """Return the key id written as 32 hex digits, or raise ``BadInput``."""
    if KID_PATTERN.fullmatch(text) is None:
        raise BadInput(f"a key id is 32 hex digits, got {text!r}")
    return bytes.fromhex(text)


def parse_time(text: str | None, option: str) -> datetime | None:
    """Return the ISO 8601 time in UTC (``None`` for none), or raise ``BadInput`` if naive."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} must be an ISO 8601 time, got {text!r}") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise BadInput(f"{option} must carry a timezone, e.g. 2026-11-22T02:00:00Z, got {text!r}")
    return at.astimezone(UTC)


def read_public_key(path: Path) -> bytes:
    """Return the public key in ``path``, PEM turned into DER; ``BadInput`` if it cannot be."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise BadInput(f"cannot read the public key file {path}: {error.strerror}") from None
    if not data.lstrip().startswith(PEM_MARKER):
        return data  # DER (or raw Ed25519 bytes): the service parses it, as it does over HTTP
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise BadInput(f"{path} holds no PEM SubjectPublicKeyInfo public key") from None
    return loaded.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _shown(replacement: Replacement) -> dict[str, Any]:
    return {"key": replacement.key, "replaces": replacement.replaces}


def _refused(message: str) -> int:
    # One line on stderr, whatever the refusal's text, so scripts can log it as it is.
    print("refused: " + " ".join(message.split()), file=sys.stderr)
    return 2
