"""A case's timeline for people: each stored event with who acted, which key signed it, and the
result of verifying it (signature, key validity, chain) — read from the exact stored bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from keys import cose
from keys.errors import KeyManagementError
from ledger.errors import IntegrityError
from ledger.signing import event_hash, genesis_hash
from ledger.store import SignedApplication


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a stream as an auditor sees it."""

    seq: int
    type: str
    at: datetime | None
    actor: dict[str, Any]
    channel: str
    kid: str
    signer: str  # key role and owner, e.g. "department-seal scjgj"
    event_hash: str
    verified: bool
    problem: str | None
    data: dict[str, Any]


def timeline(app: SignedApplication, stream: UUID) -> list[TimelineEntry]:
    """Return every stored event of ``stream`` with its signer and verification result."""
    entries: list[TimelineEntry] = []
    prev = genesis_hash(stream)
    for stored in app.recorder.select_events(stream):
        try:
            envelope = app.signed_events.verify_stored(stored, prev)
            verified, problem = True, None
        except IntegrityError as exc:
            envelope, verified, problem = _unverified(stored.state), False, str(exc)
        kid, signer = _signer(app, stored.state)
        entries.append(
            TimelineEntry(
                seq=stored.originator_version,
                type=stored.topic,
                at=envelope.get("at"),
                actor=dict(envelope.get("actor") or {}),
                channel=str(envelope.get("channel", "")),
                kid=kid,
                signer=signer,
                event_hash=event_hash(stored.state).hex(),
                verified=verified,
                problem=problem,
                data=dict(envelope.get("data") or {}),
            )
        )
        prev = event_hash(stored.state)
    return entries


def _unverified(state: bytes) -> dict[str, Any]:
    """Best-effort view of a payload that failed verification (shown, never trusted)."""
    from ledger.transcodings import EncodingError, loads

    try:
        payload = loads(cose.decode_sign1(state).payload)
    except (KeyManagementError, EncodingError):
        return {}
    return payload if isinstance(payload, dict) else {}


def _signer(app: SignedApplication, state: bytes) -> tuple[str, str]:
    try:
        kid = cose.decode_sign1(state).kid
    except KeyManagementError:
        return "", "unreadable"
    if not isinstance(kid, bytes):
        return "", "no kid"
    try:
        entry = app.keyring_entry(kid)
    except KeyManagementError:
        return kid.hex(), "unregistered key"
    return kid.hex(), f"{entry.role} {entry.owner}"
