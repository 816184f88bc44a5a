"""Keys as administrators and auditors see them: each registered key's state at a time, and the
answers key commands give (JSON-ready: hex ids, ISO times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keys.registry import KeyEntry

Answer = dict[str, Any]


def key_state(entry: KeyEntry, at: datetime, successor_from: datetime | None = None) -> str:
    """What ``entry`` may do at ``at``: active, retiring (replaced, overlap running), rotated,
    revoked, expired or not-yet-valid; a replaced key stays active until its successor, which
    starts at ``successor_from`` if known, takes over."""
    if entry.revoked_at is not None and at >= entry.revoked_at:
        return "revoked"
    if at < entry.valid_from:
        return "not-yet-valid"
    if entry.rotated_at is not None:
        if at >= entry.rotated_at:
            return "rotated"
        if successor_from is None or at >= successor_from:
            return "retiring"
    if entry.valid_to is not None and at >= entry.valid_to:
        return "expired"
    return "active"


def key_answers(entries: list[KeyEntry], at: datetime) -> list[Answer]:
    """``key_answer`` of each of ``entries``, a replaced key's state read with its successor's
    start where the successor is among them."""
    starts = {entry.kid: entry.valid_from for entry in entries}
    return [
        key_answer(entry, at, None if entry.successor is None else starts.get(entry.successor))
        for entry in entries
    ]


def key_answer(entry: KeyEntry, at: datetime, successor_from: datetime | None = None) -> Answer:
    """A key as administrators and auditors see it (JSON-ready: hex ids, ISO times)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "kid": entry.kid.hex(),
        "role": entry.role,
        "owner": entry.owner,
        "department": entry.department,
        "license_types": list(entry.license_types),
        "state": key_state(entry, at, successor_from),
        "valid_from": iso(entry.valid_from),
        "valid_to": iso(entry.valid_to),
        "rotated_at": iso(entry.rotated_at),
        "successor": None if entry.successor is None else entry.successor.hex(),
        "revoked_at": iso(entry.revoked_at),
        "revocation_reason": entry.revocation_reason,
    }


@dataclass(frozen=True)
class Replacement:
    """A new key, and the key it replaces (with when that one retires), if it replaces one."""

    key: Answer
    replaces: Answer | None = None
