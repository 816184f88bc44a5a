"""Keys as administrators and auditors see them: each registered key's state at a time, and the
answers key commands give (JSON-ready: hex ids, ISO times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keys.registry import KeyEntry

Answer = dict[str, Any]


def key_state(entry: KeyEntry, at: datetime) -> str:
    """What ``entry`` may do at ``at``: active, retiring (rotated, overlap running), rotated,
    revoked, expired or not-yet-valid."""
    if entry.revoked_at is not None and at >= entry.revoked_at:
        return "revoked"
    if at < entry.valid_from:
        return "not-yet-valid"
    if entry.rotated_at is not None:
        return "rotated" if at >= entry.rotated_at else "retiring"
    if entry.valid_to is not None and at >= entry.valid_to:
        return "expired"
    return "active"


def key_answer(entry: KeyEntry, at: datetime) -> Answer:
    """A key as administrators and auditors see it (JSON-ready: hex ids, ISO times)."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "kid": entry.kid.hex(),
        "role": entry.role,
        "owner": entry.owner,
        "department": entry.department,
        "license_types": list(entry.license_types),
        "state": key_state(entry, at),
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
